"""Forms of the approvals: approval policies, the request list's filters, decisions and the "Request a Job run" form."""

from django import forms
from django.contrib.contenttypes.models import ContentType
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
)
from nautobot.extras.models import ApprovalWorkflowDefinition, Job

from nautobot_jobflow.choices import LaunchOriginChoices, LaunchRequestStatusChoices, PolicyTargetChoices
from nautobot_jobflow.forms.mixins import PlainModelHelpTextMixin
from nautobot_jobflow.models import ApprovalPolicy, Workflow


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
