"""Tables of the approvals: policies, launch requests and their audit trail."""

import django_tables2 as tables
from django.utils.html import format_html
from nautobot.apps.tables import (
    BaseTable,
    BooleanColumn,
    ButtonsColumn,
    ChoiceFieldColumn,
    LinkedCountColumn,
    TagColumn,
    ToggleColumn,
)

from nautobot_jobflow.models import ApprovalEvent, ApprovalPolicy, LaunchRequest


class ApprovalPolicyTable(BaseTable):
    """Approval policies, highest weight first."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True)
    enabled = BooleanColumn()
    approval_workflow_definition = tables.Column(linkify=True, verbose_name="Stages")
    dryrun_exempt = BooleanColumn(verbose_name="Dry runs exempt")
    allow_self_approval = BooleanColumn(verbose_name="Self-approval")
    require_preview = BooleanColumn(verbose_name="Preview required")
    request_count = LinkedCountColumn(
        viewname="plugins:nautobot_jobflow:launchrequest_list",
        url_params={"policy": "pk"},
        verbose_name="Requests",
        reverse_lookup="policy",
    )
    tags = TagColumn(url_name="plugins:nautobot_jobflow:approvalpolicy_list")
    actions = ButtonsColumn(ApprovalPolicy)

    class Meta(BaseTable.Meta):
        model = ApprovalPolicy
        fields = (
            "pk",
            "name",
            "description",
            "enabled",
            "weight",
            "applies_to",
            "approval_workflow_definition",
            "expiry_minutes",
            "dryrun_exempt",
            "allow_self_approval",
            "require_preview",
            "request_count",
            "tags",
            "actions",
        )
        default_columns = (
            "pk",
            "name",
            "enabled",
            "weight",
            "applies_to",
            "approval_workflow_definition",
            "expiry_minutes",
            "request_count",
            "actions",
        )


class LaunchRequestTable(BaseTable):
    """Launch requests: what waits (or waited) for approval."""

    pk = ToggleColumn()
    created = tables.DateTimeColumn(linkify=True, verbose_name="Requested")
    target_name = tables.Column(verbose_name="Target")
    status = ChoiceFieldColumn()
    user_name = tables.Column(verbose_name="Requester")
    policy = tables.Column(linkify=True)
    workflow_run = tables.Column(linkify=True, verbose_name="Run")
    dryrun = BooleanColumn()

    class Meta(BaseTable.Meta):
        model = LaunchRequest
        fields = (
            "pk",
            "created",
            "target_name",
            "status",
            "origin",
            "user_name",
            "policy",
            "workflow_run",
            "dryrun",
            "expires_at",
            "decided",
            "message",
        )
        default_columns = (
            "pk",
            "created",
            "target_name",
            "status",
            "origin",
            "user_name",
            "policy",
            "expires_at",
            "decided",
        )


class ApprovalEventTable(BaseTable):
    """A request's audit trail."""

    time = tables.DateTimeColumn()
    kind = tables.Column(verbose_name="Event")
    user_name = tables.Column(verbose_name="By")
    request = tables.Column(linkify=True)
    preview = tables.Column(empty_values=(), verbose_name="Preview seen", orderable=False)

    class Meta(BaseTable.Meta):
        model = ApprovalEvent
        fields = ("time", "kind", "user_name", "message", "preview", "request")
        default_columns = ("time", "kind", "user_name", "message", "preview")

    def render_preview(self, record):
        """Link to the preview an approver saw."""
        preview = record.preview_job_result or record.preview_run
        if preview is None:
            return "—"
        return format_html('<a href="{}">{}</a>', preview.get_absolute_url(), preview)
