"""Forms of nautobot-jobflow: workflow, step and edge editing, filter forms, bulk edit and YAML import."""

import uuid

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.utils.html import escape
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
from nautobot.extras.models import ApprovalWorkflowDefinition, Job, JobQueue

from nautobot_jobflow.choices import (
    DryRunModeChoices,
    EdgeTriggerChoices,
    LaunchOriginChoices,
    LaunchRequestStatusChoices,
    PolicyTargetChoices,
    WorkflowRunStatusChoices,
)
from nautobot_jobflow.models import ApprovalPolicy, Workflow, WorkflowEdge, WorkflowRun, WorkflowStep


class PlainModelHelpTextMixin:
    """Escape the help texts a form takes from the app's models, as Nautobot renders help text unescaped (``|safe``).

    The app's model help texts are plain text and some name placeholders such as ``steps.<name>.result``, which a
    browser would otherwise read as an HTML tag and drop. Help texts given to a form field directly (core's, with
    their links) are left alone.
    """

    def __init__(self, *args, **kwargs):
        """Escape each field's help text that is its model field's."""
        super().__init__(*args, **kwargs)
        model = self._meta.model
        for name, field in self.fields.items():
            try:
                model_help_text = model._meta.get_field(name).help_text
            except FieldDoesNotExist:
                continue
            if model_help_text and str(field.help_text) == str(model_help_text):
                field.help_text = escape(model_help_text)


#
# Workflows
#


class WorkflowForm(PlainModelHelpTextMixin, NautobotModelForm):
    """Create or edit a workflow (its steps and edges are edited from its page)."""

    input_schema = JSONField(required=False, help_text=Workflow._meta.get_field("input_schema").help_text)
    default_inputs = JSONField(required=False, help_text=Workflow._meta.get_field("default_inputs").help_text)

    class Meta:
        model = Workflow
        fields = ["name", "description", "enabled", "dryrun_mode", "input_schema", "default_inputs", "tags"]

    def clean_input_schema(self):
        """Empty means no schema."""
        return self.cleaned_data.get("input_schema") or {}

    def clean_default_inputs(self):
        """Empty means no defaults."""
        return self.cleaned_data.get("default_inputs") or {}


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


class WorkflowStepForm(PlainModelHelpTextMixin, BootstrapMixin, forms.ModelForm):
    """Add or edit one step of a workflow; duplicate names are reported on the name field."""

    workflow = DynamicModelChoiceField(queryset=Workflow.objects.all())
    job = DynamicModelChoiceField(queryset=Job.objects.all(), required=False, query_params={"enabled": True})
    subworkflow = DynamicModelChoiceField(queryset=Workflow.objects.all(), required=False, label="Nested workflow")
    input_templates = JSONField(required=False, help_text=WorkflowStep._meta.get_field("input_templates").help_text)
    job_queue = DynamicModelChoiceField(queryset=JobQueue.objects.all(), required=False)

    class Meta:
        model = WorkflowStep
        fields = [
            "workflow",
            "name",
            "job",
            "subworkflow",
            "input_templates",
            "join_mode",
            "max_retries",
            "retry_backoff",
            "timeout",
            "job_queue",
        ]

    def clean_input_templates(self):
        """Empty means no templates."""
        value = self.cleaned_data.get("input_templates")
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


#
# Approval policies and launch requests
#


class ApprovalPolicyForm(PlainModelHelpTextMixin, NautobotModelForm):
    """Create or edit an approval policy. Its stages are a core approval workflow definition for launch requests."""

    jobs = DynamicModelMultipleChoiceField(queryset=Job.objects.all(), required=False)
    workflows = DynamicModelMultipleChoiceField(queryset=Workflow.objects.all(), required=False)
    origins = forms.MultipleChoiceField(
        choices=LaunchOriginChoices, required=False, widget=StaticSelect2Multiple, help_text="Empty: every origin."
    )
    object_content_type = forms.ModelChoiceField(
        queryset=ContentType.objects.order_by("app_label", "model"),
        required=False,
        label="Object type",
        help_text=ApprovalPolicy._meta.get_field("object_content_type").help_text,
    )
    object_filter = JSONField(required=False, help_text=ApprovalPolicy._meta.get_field("object_filter").help_text)
    approval_workflow_definition = DynamicModelChoiceField(
        queryset=ApprovalWorkflowDefinition.objects.all(),
        label="Approval stages",
        help_text=ApprovalPolicy._meta.get_field("approval_workflow_definition").help_text,
    )

    class Meta:
        model = ApprovalPolicy
        fields = [
            "name",
            "description",
            "enabled",
            "weight",
            "applies_to",
            "jobs",
            "workflows",
            "origins",
            "dryrun_exempt",
            "object_content_type",
            "object_filter",
            "min_objects",
            "approval_workflow_definition",
            "expiry_minutes",
            "allow_self_approval",
            "require_preview",
            "tags",
        ]

    def clean_object_filter(self):
        """Empty means no filter."""
        return self.cleaned_data.get("object_filter") or {}


class ApprovalPolicyBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    """Enable/disable or reweigh many policies."""

    pk = forms.ModelMultipleChoiceField(queryset=ApprovalPolicy.objects.all(), widget=forms.MultipleHiddenInput)
    enabled = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect)
    weight = forms.IntegerField(required=False)
    description = forms.CharField(max_length=255, required=False)

    class Meta:
        nullable_fields = ["description"]


class ApprovalPolicyFilterForm(NautobotFilterForm):
    """Filters of the policy list."""

    model = ApprovalPolicy
    q = forms.CharField(required=False, label="Search")
    enabled = forms.NullBooleanField(required=False, widget=StaticSelect2(choices=BulkEditNullBooleanSelect().choices))
    applies_to = forms.MultipleChoiceField(choices=PolicyTargetChoices, required=False, widget=StaticSelect2Multiple)
    job = DynamicModelMultipleChoiceField(queryset=Job.objects.all(), to_field_name="name", required=False)
    tags = TagFilterField(model)


class LaunchRequestFilterForm(BootstrapMixin, forms.Form):
    """Filters of the request list (the Approvals page)."""

    q = forms.CharField(required=False, label="Search")
    awaiting_me = forms.NullBooleanField(
        required=False, label="Awaiting my decision", widget=StaticSelect2(choices=BulkEditNullBooleanSelect().choices)
    )
    status = forms.MultipleChoiceField(choices=LaunchRequestStatusChoices, required=False, widget=StaticSelect2Multiple)
    origin = forms.MultipleChoiceField(choices=LaunchOriginChoices, required=False, widget=StaticSelect2Multiple)


class ApprovalDecisionForm(BootstrapMixin, forms.Form):
    """Approve, deny or comment on a request."""

    comments = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=255)


class JobRunRequestForm(BootstrapMixin, forms.Form):
    """Run one Job through Jobflow: held for approval when a policy covers it, started at once otherwise."""

    job = DynamicModelChoiceField(queryset=Job.objects.filter(enabled=True), help_text="The Job to run.")
    inputs = JSONField(required=False, help_text='The Job\'s variables as a JSON object, e.g. {"location": "<id>"}.')
    dryrun = forms.BooleanField(required=False, label="Dry run")

    def clean_inputs(self):
        """Empty means no inputs; anything but an object is refused."""
        value = self.cleaned_data.get("inputs") or {}
        if not isinstance(value, dict):
            raise forms.ValidationError("Inputs must be a JSON object.")
        return value


#
# Hook rules (issue 6)
#

from django.core.exceptions import ValidationError  # noqa: E402
from nautobot.apps.forms import MultipleContentTypeField  # noqa: E402
from nautobot.extras.utils import ChangeLoggedModelsQuery  # noqa: E402

from nautobot_jobflow.choices import (  # noqa: E402
    HookCompletionStatusChoices,
    HookEventSourceChoices,
    HookFiringStatusChoices,
)
from nautobot_jobflow.models import HookRule  # noqa: E402


class HookRuleForm(NautobotModelForm):
    """Create or edit a hook rule; conditions, object filter and input template are JSON, checked on save."""

    content_types = MultipleContentTypeField(
        queryset=ChangeLoggedModelsQuery().as_queryset(), required=False, label="Object types"
    )
    conditions = JSONField(required=False, help_text=HookRule._meta.get_field("conditions").help_text)
    object_filter = JSONField(required=False, help_text=HookRule._meta.get_field("object_filter").help_text)
    input_template = JSONField(required=False, help_text=HookRule._meta.get_field("input_template").help_text)
    job = DynamicModelChoiceField(queryset=Job.objects.all(), required=False, query_params={"enabled": True})
    workflow = DynamicModelChoiceField(queryset=Workflow.objects.all(), required=False)
    completion_jobs = DynamicModelMultipleChoiceField(queryset=Job.objects.all(), required=False)
    completion_workflows = DynamicModelMultipleChoiceField(queryset=Workflow.objects.all(), required=False)
    completion_statuses = forms.MultipleChoiceField(
        choices=HookCompletionStatusChoices, required=False, widget=StaticSelect2Multiple
    )

    class Meta:
        model = HookRule
        fields = [
            "name",
            "description",
            "enabled",
            "event_source",
            "content_types",
            "type_create",
            "type_update",
            "type_delete",
            "completion_jobs",
            "completion_workflows",
            "completion_statuses",
            "match",
            "conditions",
            "object_filter",
            "job",
            "workflow",
            "input_template",
            "debounce_seconds",
            "batch",
            "allow_one_level",
            "tags",
        ]

    def clean_conditions(self):
        """Empty means no conditions."""
        value = self.cleaned_data.get("conditions")
        return [] if value in (None, "") else value

    def clean_object_filter(self):
        """Empty means no filter."""
        value = self.cleaned_data.get("object_filter")
        return {} if value in (None, "") else value

    def clean_input_template(self):
        """Empty means no inputs."""
        value = self.cleaned_data.get("input_template")
        return {} if value in (None, "") else value

    def clean_completion_statuses(self):
        """A list of states."""
        return list(self.cleaned_data.get("completion_statuses") or [])

    def _post_clean(self):
        """After the model's own clean(): condition paths and the object filter against the chosen types."""
        super()._post_clean()
        if self.errors:
            return
        from nautobot_jobflow.models.hook_rule_checks import validate_for_content_types

        try:
            validate_for_content_types(self.instance, self.cleaned_data.get("content_types") or [])
        except ValidationError as error:
            self.add_error(None, error)


class HookRuleBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    """Enable, disable, describe or retag many rules (targets are changed one rule at a time)."""

    pk = forms.ModelMultipleChoiceField(queryset=HookRule.objects.all(), widget=forms.MultipleHiddenInput)
    description = forms.CharField(max_length=255, required=False)
    enabled = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect)
    allow_one_level = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect)

    class Meta:
        nullable_fields = ["description"]


class HookRuleFilterForm(NautobotFilterForm):
    """Filters of the hook rule list."""

    model = HookRule
    field_order = ["q", "name", "enabled", "event_source", "content_types", "job", "workflow", "tags"]
    q = forms.CharField(required=False, label="Search")
    name = forms.CharField(required=False)
    enabled = forms.NullBooleanField(required=False, widget=StaticSelect2(choices=BulkEditNullBooleanSelect().choices))
    event_source = forms.MultipleChoiceField(
        choices=HookEventSourceChoices, required=False, widget=StaticSelect2Multiple
    )
    content_types = MultipleContentTypeField(
        queryset=ChangeLoggedModelsQuery().as_queryset(), required=False, choices_as_strings=True, label="Object types"
    )
    job = DynamicModelMultipleChoiceField(queryset=Job.objects.all(), to_field_name="name", required=False)
    workflow = DynamicModelMultipleChoiceField(queryset=Workflow.objects.all(), to_field_name="name", required=False)
    batch = forms.NullBooleanField(required=False, widget=StaticSelect2(choices=BulkEditNullBooleanSelect().choices))
    tags = TagFilterField(model)


class HookRuleTestForm(BootstrapMixin, forms.Form):
    """The rule tester: a recorded change by ID, or a change (or completion) written as JSON."""

    object_change = forms.UUIDField(
        required=False, label="Object change ID", help_text="A recorded change (see the object's Changelog tab)."
    )
    change = JSONField(
        required=False,
        label="or a change as JSON",
        help_text='{"action": "update", "object_type": "dcim.device", "before": {...}, "after": {...}}',
    )
    completion = JSONField(
        required=False,
        label="or a completion as JSON",
        help_text='Completion rules: {"job": "Backup", "status": "failed", "result": {...}}',
    )


class HookFiringFilterForm(BootstrapMixin, forms.Form):
    """Filters of the firing list."""

    q = forms.CharField(required=False, label="Search")
    status = forms.MultipleChoiceField(choices=HookFiringStatusChoices, required=False, widget=StaticSelect2Multiple)
