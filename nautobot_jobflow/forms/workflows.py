"""Forms of the workflows: workflow, step and edge editing, their filter forms, bulk edit and YAML import."""

import uuid

from django import forms
from django.contrib.auth.models import Group
from nautobot.apps.forms import (
    BootstrapMixin,
    BulkEditNullBooleanSelect,
    DynamicModelChoiceField,
    DynamicModelMultipleChoiceField,
    JSONField,
    NautobotBulkEditForm,
    NautobotFilterForm,
    NautobotModelForm,
    StaticSelect2,
    StaticSelect2Multiple,
    TagFilterField,
    TagsBulkEditFormMixin,
    add_blank_choice,
)
from nautobot.extras.models import Job, JobQueue

from nautobot_jobflow.choices import (
    DryRunModeChoices,
    EdgeTriggerChoices,
    LaunchOriginChoices,
    StepKindChoices,
    WorkflowRunStatusChoices,
)
from nautobot_jobflow.forms.mixins import PlainModelHelpTextMixin
from nautobot_jobflow.forms.target_inputs import TargetInputsFormMixin
from nautobot_jobflow.models import Workflow, WorkflowEdge, WorkflowRun, WorkflowStep


class WorkflowForm(PlainModelHelpTextMixin, NautobotModelForm):
    """Create or edit a workflow (its steps and edges are edited from its page)."""

    input_schema = JSONField(required=False, help_text=Workflow._meta.get_field("input_schema").help_text)
    default_inputs = JSONField(required=False, help_text=Workflow._meta.get_field("default_inputs").help_text)
    output_templates = JSONField(
        required=False, label="Outputs", help_text=Workflow._meta.get_field("output_templates").help_text
    )

    class Meta:
        model = Workflow
        fields = [
            "name",
            "description",
            "enabled",
            "dryrun_mode",
            "input_schema",
            "default_inputs",
            "output_templates",
            "tags",
        ]

    def clean_input_schema(self):
        """Empty means no schema."""
        return self.cleaned_data.get("input_schema") or {}

    def clean_default_inputs(self):
        """Empty means no defaults."""
        return self.cleaned_data.get("default_inputs") or {}

    def clean_output_templates(self):
        """Empty means no declared outputs."""
        return self.cleaned_data.get("output_templates") or {}


class WorkflowBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    """Enable/disable, describe or retag many workflows."""

    pk = forms.ModelMultipleChoiceField(queryset=Workflow.objects.all(), widget=forms.MultipleHiddenInput)
    description = forms.CharField(max_length=255, required=False)
    enabled = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect)
    dryrun_mode = forms.ChoiceField(
        choices=add_blank_choice(DryRunModeChoices), required=False, widget=StaticSelect2, label="Dry-run mode"
    )

    class Meta:
        nullable_fields = ["description"]


class WorkflowFilterForm(NautobotFilterForm):
    """Filters of the workflow list."""

    model = Workflow
    field_order = ["q", "name", "enabled", "job", "tags"]
    q = forms.CharField(required=False, label="Search")
    name = forms.CharField(required=False)
    enabled = forms.NullBooleanField(required=False, widget=StaticSelect2(choices=BulkEditNullBooleanSelect().choices))
    dryrun_mode = forms.MultipleChoiceField(
        choices=DryRunModeChoices, required=False, widget=StaticSelect2Multiple, label="Dry-run mode"
    )
    job = DynamicModelMultipleChoiceField(queryset=Job.objects.all(), to_field_name="name", required=False, label="Job")
    tags = TagFilterField(model)


class WorkflowImportForm(BootstrapMixin, forms.Form):
    """A workflow definition in YAML, pasted or uploaded."""

    yaml_text = forms.CharField(
        required=False,
        label="YAML",
        widget=forms.Textarea(attrs={"rows": 20, "class": "font-monospace"}),
        help_text="Creates the workflow, or replaces the steps and edges of the workflow with the same name.",
    )
    yaml_file = forms.FileField(required=False, label="or a YAML file")

    def clean(self):
        """Exactly one source of YAML."""
        cleaned = super().clean()
        uploaded = cleaned.get("yaml_file")
        if uploaded:
            try:
                cleaned["yaml_text"] = uploaded.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError({"yaml_file": "The file is not UTF-8 text."}) from None
        if not (cleaned.get("yaml_text") or "").strip():
            raise forms.ValidationError({"yaml_text": "Paste a workflow definition or choose a file."})
        return cleaned


#
# Steps and edges (edited from the workflow page)
#


class WorkflowStepForm(PlainModelHelpTextMixin, TargetInputsFormMixin, BootstrapMixin, forms.ModelForm):
    """Add or edit one step of a workflow; duplicate names are reported on the name field.

    The chosen Job's variables (or the nested workflow's schema properties) are fields of their own that fill
    ``input_templates`` (see ``forms.target_inputs``); the JSON stays as the advanced view.
    """

    target_inputs_field = "input_templates"
    target_inputs_context = "step"
    target_job_field = "job"
    target_workflow_field = "subworkflow"

    workflow = DynamicModelChoiceField(queryset=Workflow.objects.all())
    job = DynamicModelChoiceField(queryset=Job.objects.all(), required=False, query_params={"enabled": True})
    subworkflow = DynamicModelChoiceField(queryset=Workflow.objects.all(), required=False, label="Nested workflow")
    input_templates = JSONField(required=False, help_text=WorkflowStep._meta.get_field("input_templates").help_text)
    job_queue = DynamicModelChoiceField(queryset=JobQueue.objects.all(), required=False)
    for_each = JSONField(required=False, label="For each", help_text=WorkflowStep._meta.get_field("for_each").help_text)
    max_failures = forms.IntegerField(
        required=False, min_value=0, initial=0, help_text=WorkflowStep._meta.get_field("max_failures").help_text
    )
    concurrency_limit = forms.IntegerField(
        required=False,
        min_value=1,
        initial=1,
        label="Key limit",
        help_text=WorkflowStep._meta.get_field("concurrency_limit").help_text,
    )
    answer_schema = JSONField(required=False, help_text=WorkflowStep._meta.get_field("answer_schema").help_text)
    responder_group = DynamicModelChoiceField(queryset=Group.objects.all(), required=False, label="Responders")
    # Optional in the form (a Job step's form need not name them): left empty, they take the model's defaults.
    kind = forms.ChoiceField(
        choices=StepKindChoices, required=False, help_text=WorkflowStep._meta.get_field("kind").help_text
    )
    min_responders = forms.IntegerField(
        required=False, min_value=1, help_text=WorkflowStep._meta.get_field("min_responders").help_text
    )

    class Meta:
        model = WorkflowStep
        fields = [
            "workflow",
            "name",
            "kind",
            "job",
            "subworkflow",
            "input_templates",
            "join_mode",
            "max_retries",
            "retry_backoff",
            "timeout",
            "job_queue",
            "for_each",
            "concurrency",
            "max_failures",
            "concurrency_key",
            "concurrency_limit",
            "prompt",
            "answer_schema",
            "responder_group",
            "min_responders",
            "requester_may_answer",
        ]
        widgets = {"prompt": forms.Textarea(attrs={"rows": 3})}

    def clean_input_templates(self):
        """Empty means no templates."""
        value = self.cleaned_data.get("input_templates")
        return {} if value in (None, "") else value

    def clean_for_each(self):
        """Empty means a plain step (one Job run)."""
        value = self.cleaned_data.get("for_each")
        return None if value in (None, "", [], {}) else value

    def clean_max_failures(self):
        """Empty means none tolerated."""
        value = self.cleaned_data.get("max_failures")
        return 0 if value is None else value

    def clean_concurrency_limit(self):
        """Empty means one attempt per key at a time."""
        value = self.cleaned_data.get("concurrency_limit")
        return 1 if value is None else value

    def clean_kind(self):
        """Empty: a Job or nested-workflow step (the target chosen decides which)."""
        return self.cleaned_data.get("kind") or StepKindChoices.JOB

    def clean_min_responders(self):
        """Empty means one responder."""
        value = self.cleaned_data.get("min_responders")
        return 1 if value is None else value

    def clean_answer_schema(self):
        """Empty means any JSON object."""
        value = self.cleaned_data.get("answer_schema")
        return {} if value in (None, "") else value

    def clean(self):
        """Report a duplicate step name on the name field (the DB constraint would say it less clearly)."""
        cleaned = super().clean()
        workflow, name = cleaned.get("workflow"), cleaned.get("name")
        if workflow and name:
            others = WorkflowStep.objects.filter(workflow=workflow, name=name).exclude(pk=self.instance.pk)
            if others.exists():
                self.add_error("name", f"Workflow '{workflow}' already has a step named '{name}'.")
        return cleaned


class WorkflowEdgeForm(PlainModelHelpTextMixin, BootstrapMixin, forms.ModelForm):
    """Add or edit one edge; source and target are limited to the workflow's steps."""

    workflow = DynamicModelChoiceField(queryset=Workflow.objects.all())
    source = DynamicModelChoiceField(queryset=WorkflowStep.objects.all(), query_params={"workflow": "$workflow"})
    target = DynamicModelChoiceField(queryset=WorkflowStep.objects.all(), query_params={"workflow": "$workflow"})

    class Meta:
        model = WorkflowEdge
        fields = ["workflow", "source", "target", "trigger", "condition"]
        widgets = {"condition": forms.Textarea(attrs={"rows": 2, "class": "font-monospace"})}

    def __init__(self, *args, **kwargs):
        """Limit the step choices to the workflow given by the instance, the data or ``?workflow=``."""
        super().__init__(*args, **kwargs)
        workflow_id = self.data.get("workflow") or self.initial.get("workflow") or self.instance.workflow_id
        try:
            workflow_id = uuid.UUID(str(workflow_id)) if workflow_id else None
        except ValueError:
            workflow_id = None
        if workflow_id:
            steps = WorkflowStep.objects.filter(workflow_id=workflow_id)
            self.fields["source"].queryset = steps
            self.fields["target"].queryset = steps

    def clean(self):
        """Report a second edge between the same two steps on the target field."""
        cleaned = super().clean()
        source, target = cleaned.get("source"), cleaned.get("target")
        if source and target:
            others = WorkflowEdge.objects.filter(source=source, target=target).exclude(pk=self.instance.pk)
            if others.exists():
                self.add_error("target", f"There is already an edge from '{source.name}' to '{target.name}'.")
        return cleaned


class WorkflowStepFilterForm(BootstrapMixin, forms.Form):
    """Filters of the step list."""

    model = WorkflowStep
    q = forms.CharField(required=False, label="Search")
    workflow = DynamicModelMultipleChoiceField(queryset=Workflow.objects.all(), to_field_name="name", required=False)
    job = DynamicModelMultipleChoiceField(queryset=Job.objects.all(), to_field_name="name", required=False)


class WorkflowEdgeFilterForm(BootstrapMixin, forms.Form):
    """Filters of the edge list."""

    model = WorkflowEdge
    q = forms.CharField(required=False, label="Search")
    workflow = DynamicModelMultipleChoiceField(queryset=Workflow.objects.all(), to_field_name="name", required=False)
    trigger = forms.MultipleChoiceField(choices=EdgeTriggerChoices, required=False, widget=StaticSelect2Multiple)


#
# Runs
#


class WorkflowRunFilterForm(BootstrapMixin, forms.Form):
    """Filters of the workflow run list."""

    model = WorkflowRun
    q = forms.CharField(required=False, label="Search")
    workflow = DynamicModelMultipleChoiceField(queryset=Workflow.objects.all(), to_field_name="name", required=False)
    status = forms.MultipleChoiceField(choices=WorkflowRunStatusChoices, required=False, widget=StaticSelect2Multiple)
    origin = forms.MultipleChoiceField(choices=LaunchOriginChoices, required=False, widget=StaticSelect2Multiple)
    dryrun = forms.NullBooleanField(
        required=False, label="Dry run", widget=StaticSelect2(choices=BulkEditNullBooleanSelect().choices)
    )
    created__gte = forms.DateTimeField(required=False, label="Created after")
    created__lte = forms.DateTimeField(required=False, label="Created before")
