"""Tables of the workflows: workflows, their steps and edges, runs and step attempts."""

import django_tables2 as tables
from nautobot.apps.tables import (
    BaseTable,
    BooleanColumn,
    ButtonsColumn,
    ChoiceFieldColumn,
    LinkedCountColumn,
    TagColumn,
    ToggleColumn,
)

from nautobot_jobflow.models import Workflow, WorkflowEdge, WorkflowRun, WorkflowStep, WorkflowStepRun


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
            "kind",
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
    status = ChoiceFieldColumn()
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
    item_index = tables.Column(verbose_name="Item")
    item = tables.TemplateColumn(
        template_code="{% if value is not None %}<code>{{ value|truncatechars:80 }}</code>{% else %}—{% endif %}",
        orderable=False,
    )
    attempt = tables.Column()
    status = ChoiceFieldColumn()
    job_result = tables.Column(linkify=True, verbose_name="Job Result")
    rendered_inputs = tables.TemplateColumn(
        template_code="{% if value %}<code>{{ value|truncatechars:120 }}</code>{% else %}—{% endif %}",
        verbose_name="Inputs",
        orderable=False,
    )
    error = tables.Column()

    class Meta(BaseTable.Meta):
        model = WorkflowStepRun
        fields = (
            "step_name", "item_index", "item", "attempt", "status", "job_result", "rendered_inputs", "started",
            "finished", "error",
        )  # fmt: skip
        default_columns = (
            "step_name",
            "attempt",
            "status",
            "job_result",
            "rendered_inputs",
            "started",
            "finished",
            "error",
        )
