"""Tables of nautobot-jobflow (django-tables2 through Nautobot's BaseTable)."""

import django_tables2 as tables
from django.utils.html import format_html
from nautobot.apps.tables import BaseTable, BooleanColumn, ButtonsColumn, LinkedCountColumn, TagColumn, ToggleColumn

from nautobot_jobflow.models import (
    ApprovalEvent,
    ApprovalPolicy,
    LaunchRequest,
    Workflow,
    WorkflowEdge,
    WorkflowRun,
    WorkflowStep,
    WorkflowStepRun,
)

STATUS_BADGE = '<span class="badge bg-{}">{}</span>'


class StatusBadgeColumn(tables.Column):
    """A run or step-run status as a coloured badge (the record gives the colour)."""

    def render(self, record, value):
        """Badge coloured by ``record.get_status_class()``."""
        return format_html(STATUS_BADGE, record.get_status_class(), record.get_status_display())


class WorkflowTable(BaseTable):
    """Workflows with their step and run counts."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True)
    enabled = BooleanColumn()
    step_count = LinkedCountColumn(
        viewname="plugins:nautobot_jobflow:workflowstep_list",
        url_params={"workflow": "pk"},
        verbose_name="Steps",
        reverse_lookup="workflow",
    )
    run_count = LinkedCountColumn(
        viewname="plugins:nautobot_jobflow:workflowrun_list",
        url_params={"workflow": "pk"},
        verbose_name="Runs",
        reverse_lookup="workflow",
    )
    tags = TagColumn(url_name="plugins:nautobot_jobflow:workflow_list")
    actions = ButtonsColumn(Workflow)

    class Meta(BaseTable.Meta):
        model = Workflow
        fields = ("pk", "name", "description", "enabled", "dryrun_mode", "step_count", "run_count", "tags", "actions")
        default_columns = ("pk", "name", "description", "enabled", "step_count", "run_count", "tags", "actions")


class WorkflowStepTable(BaseTable):
    """Steps of workflows (on a workflow page: its steps, with edit/delete returning to it)."""

    pk = ToggleColumn()
    name = tables.Column()
    workflow = tables.Column(linkify=True)
    target = tables.Column(accessor="target_label", verbose_name="Runs", orderable=False)
    input_templates = tables.TemplateColumn(
        template_code="{% if value %}<code>{{ value|truncatechars:80 }}</code>{% else %}—{% endif %}",
        verbose_name="Inputs",
        orderable=False,
    )
    actions = ButtonsColumn(WorkflowStep, buttons=("changelog", "edit", "delete"))

    class Meta(BaseTable.Meta):
        model = WorkflowStep
        fields = (
            "pk",
            "name",
            "workflow",
            "target",
            "input_templates",
            "join_mode",
            "max_retries",
            "retry_backoff",
            "timeout",
            "job_queue",
            "actions",
        )
        default_columns = ("pk", "name", "workflow", "target", "input_templates", "join_mode", "max_retries", "actions")


class WorkflowEdgeTable(BaseTable):
    """Edges of workflows."""

    pk = ToggleColumn()
    workflow = tables.Column(linkify=True)
    source = tables.Column(accessor="source__name", verbose_name="From")
    target = tables.Column(accessor="target__name", verbose_name="To")
    condition = tables.TemplateColumn(
        template_code="{% if value %}<code>{{ value }}</code>{% else %}—{% endif %}", orderable=False
    )
    actions = ButtonsColumn(WorkflowEdge, buttons=("changelog", "edit", "delete"))

    class Meta(BaseTable.Meta):
        model = WorkflowEdge
        fields = ("pk", "workflow", "source", "target", "trigger", "condition", "actions")
        default_columns = ("pk", "workflow", "source", "target", "trigger", "condition", "actions")


class WorkflowRunTable(BaseTable):
    """Runs of workflows."""

    pk = ToggleColumn()
    created = tables.DateTimeColumn(linkify=True, verbose_name="Run")
    workflow_name = tables.Column(verbose_name="Workflow")
    workflow = tables.Column(linkify=True, verbose_name="Workflow (current)")
    status = StatusBadgeColumn()
    dryrun = BooleanColumn()
    user = tables.Column()
    actions = ButtonsColumn(WorkflowRun, buttons=("delete",))

    class Meta(BaseTable.Meta):
        model = WorkflowRun
        fields = (
            "pk",
            "created",
            "workflow_name",
            "workflow",
            "status",
            "origin",
            "dryrun",
            "user",
            "started",
            "finished",
            "error",
            "actions",
        )
        default_columns = (
            "pk",
            "created",
            "workflow_name",
            "status",
            "origin",
            "dryrun",
            "user",
            "finished",
            "actions",
        )


class WorkflowStepRunTable(BaseTable):
    """Attempts of the steps of a run, linking to their Job Results."""

    step_name = tables.Column(verbose_name="Step")
    attempt = tables.Column()
    status = StatusBadgeColumn()
    job_result = tables.Column(linkify=True, verbose_name="Job Result")
    rendered_inputs = tables.TemplateColumn(
        template_code="{% if value %}<code>{{ value|truncatechars:120 }}</code>{% else %}—{% endif %}",
        verbose_name="Inputs",
        orderable=False,
    )
    error = tables.Column()

    class Meta(BaseTable.Meta):
        model = WorkflowStepRun
        fields = ("step_name", "attempt", "status", "job_result", "rendered_inputs", "started", "finished", "error")
        default_columns = fields


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
    status = StatusBadgeColumn()
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


#
# Hook rules (issue 6)
#

from nautobot_jobflow.models import HookFiring, HookRule  # noqa: E402


class HookRuleTable(BaseTable):
    """Hook rules: what they watch and what they run."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True)
    enabled = BooleanColumn()
    content_types = tables.TemplateColumn(
        template_code="{{ value.all|join:', ' }}", verbose_name="Object types", orderable=False
    )
    actions_label = tables.Column(verbose_name="Actions", orderable=False, empty_values=())
    target = tables.Column(accessor="target_label", verbose_name="Runs", orderable=False)
    batch = BooleanColumn()
    allow_one_level = BooleanColumn()
    tags = TagColumn(url_name="plugins:nautobot_jobflow:hookrule_list")
    actions = ButtonsColumn(HookRule)

    class Meta(BaseTable.Meta):
        model = HookRule
        fields = (
            "pk",
            "name",
            "description",
            "enabled",
            "event_source",
            "content_types",
            "actions_label",
            "match",
            "target",
            "debounce_seconds",
            "batch",
            "allow_one_level",
            "owner",
            "tags",
            "actions",
        )
        default_columns = (
            "pk",
            "name",
            "enabled",
            "event_source",
            "content_types",
            "actions_label",
            "target",
            "debounce_seconds",
            "batch",
            "actions",
        )


class HookFiringTable(BaseTable):
    """Firings of a rule, newest first, with the run each one started."""

    created = tables.DateTimeColumn(linkify=False)
    rule = tables.Column(linkify=True)
    status = StatusBadgeColumn()
    run = tables.TemplateColumn(
        template_code=(
            '{% if record.workflow_run %}<a href="{{ record.workflow_run.get_absolute_url }}">'
            "{{ record.workflow_run }}</a>{% elif record.job_result %}"
            '<a href="{{ record.job_result.get_absolute_url }}">{{ record.job_result }}</a>'
            "{% else %}—{% endif %}"
        ),
        verbose_name="Run",
        orderable=False,
    )

    class Meta(BaseTable.Meta):
        model = HookFiring
        fields = ("created", "rule", "status", "action", "object_repr", "object_count", "user", "depth", "run",
                  "reason")  # fmt: skip
        default_columns = ("created", "rule", "status", "action", "object_repr", "object_count", "user", "run",
                           "reason")  # fmt: skip
