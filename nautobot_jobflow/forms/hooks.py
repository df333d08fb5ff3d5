"""Forms of the hook rules: rule editing (conditions, object filter and input template as JSON), filters, the tester."""

from django import forms
from django.core.exceptions import ValidationError
from nautobot.apps.forms import (
    BootstrapMixin,
    BulkEditNullBooleanSelect,
    DynamicModelChoiceField,
    DynamicModelMultipleChoiceField,
    JSONField,
    MultipleContentTypeField,
    NautobotBulkEditForm,
    NautobotFilterForm,
    NautobotModelForm,
    StaticSelect2,
    StaticSelect2Multiple,
    TagFilterField,
    TagsBulkEditFormMixin,
)
from nautobot.extras.models import Job
from nautobot.extras.utils import ChangeLoggedModelsQuery

from nautobot_jobflow.choices import HookCompletionStatusChoices, HookEventSourceChoices
from nautobot_jobflow.forms.mixins import PlainModelHelpTextMixin
from nautobot_jobflow.forms.target_inputs import TargetInputsFormMixin
from nautobot_jobflow.models import HookRule, Workflow
from nautobot_jobflow.models.hook_rule_checks import validate_for_content_types


class HookRuleForm(PlainModelHelpTextMixin, TargetInputsFormMixin, NautobotModelForm):
    """Create or edit a hook rule; conditions and object filter are JSON, checked on save.

    The input template is edited through the target's own fields (a Job's variables, a Workflow's schema
    properties; see ``forms.target_inputs``), with the JSON as the advanced view.
    """

    target_inputs_field = "input_template"
    target_inputs_context = "hook"
    target_job_field = "job"
    target_workflow_field = "workflow"

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
