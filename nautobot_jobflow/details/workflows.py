"""Detail layouts of the workflows: workflow (graph, steps, edges, runs), step, edge and run (coloured graph)."""

from django.urls import reverse
from django.utils.html import format_html
from nautobot.apps.ui import (
    Button,
    ButtonColorChoices,
    ObjectDetailContent,
    ObjectFieldsPanel,
    ObjectsTablePanel,
    Panel,
    SectionChoices,
)
from nautobot.core.templatetags import helpers

from nautobot_jobflow import graph_svg, tables
from nautobot_jobflow.choices import WorkflowRunStatusChoices
from nautobot_jobflow.details.common import ConditionalPostButton, pretty_json
from nautobot_jobflow.details.input_steps import AwaitingInputPanel
from nautobot_jobflow.engine.for_each import counter_label
from nautobot_jobflow.models.snapshots import build_definition

REFRESH_SECONDS = 3
REFRESH_SCRIPT = '{}<script id="jobflow-refresh">setTimeout(function () {{ window.location.reload(); }}, {});</script>'


def run_graph_data(run):
    """Statuses, links and for-each counters per step of a run: the latest attempt of each step wins.

    A for-each step's items are not read: its own row's counters give '12/40 ✓ 11 ✗ 1'.
    """
    statuses, links, counters = {}, {}, {}
    step_runs = (
        run.step_runs.filter(item_index__isnull=True)
        .select_related("job_result")
        .prefetch_related("child_runs")
        .order_by("attempt")
    )
    for step_run in step_runs:
        statuses[step_run.step_name] = step_run.status
        children = list(step_run.child_runs.all())
        if children:
            links[step_run.step_name] = reverse("plugins:nautobot_jobflow:workflowrun", kwargs={"pk": children[0].pk})
        elif step_run.job_result_id:
            links[step_run.step_name] = step_run.job_result.get_absolute_url()
        if step_run.progress:
            counters[step_run.step_name] = counter_label(step_run.progress)
    return statuses, links, counters


class StepRunsTablePanel(ObjectsTablePanel):
    """A run's step attempts: its steps' own attempts, or (``items=True``) the attempts of for-each items, paged."""

    def __init__(self, *, items=False, **kwargs):
        """``items``: show the items of for-each steps instead of the steps' own attempts."""
        self.items = items
        super().__init__(**kwargs)

    def get_table_data_queryset(self, instance, request):
        """Only the rows of this panel's kind."""
        return super().get_table_data_queryset(instance, request).filter(item_index__isnull=not self.items)


class WorkflowGraphPanel(Panel):
    """The DAG of a workflow (its current definition) or of a run (its snapshot, nodes coloured by status)."""

    label = "Graph"
    section = SectionChoices.FULL_WIDTH

    def render_body_content(self, context):
        """Inline SVG; on an active run, a small script reloads the page every few seconds."""
        obj = context["object"]
        if hasattr(obj, "step_runs"):  # a WorkflowRun
            statuses, links, counters = run_graph_data(obj)
            svg = graph_svg.render_graph(obj.definition or {}, statuses=statuses, links=links, counters=counters)
            if obj.is_active:
                return format_html(REFRESH_SCRIPT, svg, REFRESH_SECONDS * 1000)
            return svg
        return graph_svg.render_graph(build_definition(obj))


RERUNNABLE = (WorkflowRunStatusChoices.FAILED, WorkflowRunStatusChoices.CANCELED)


def _can_rerun(run):
    return run.status in RERUNNABLE and run.workflow_id is not None


workflow = ObjectDetailContent(
    panels=(
        ObjectFieldsPanel(
            weight=100,
            section=SectionChoices.LEFT_HALF,
            fields=["name", "description", "enabled", "dryrun_mode", "git_repository", "git_path"],
            hide_if_unset=["git_repository", "git_path"],
        ),
        ObjectFieldsPanel(
            weight=200,
            section=SectionChoices.RIGHT_HALF,
            label="Inputs",
            fields=["input_schema", "default_inputs"],
            value_transforms={"input_schema": [pretty_json], "default_inputs": [pretty_json]},
        ),
        WorkflowGraphPanel(weight=100, section=SectionChoices.FULL_WIDTH),
        ObjectsTablePanel(
            weight=200,
            section=SectionChoices.FULL_WIDTH,
            table_class=tables.WorkflowStepTable,
            table_filter="workflow",
            table_title="Steps",
            select_related_fields=["job", "subworkflow", "job_queue"],
            exclude_columns=["workflow"],
            enable_related_link=False,
        ),
        ObjectsTablePanel(
            weight=300,
            section=SectionChoices.FULL_WIDTH,
            table_class=tables.WorkflowEdgeTable,
            table_filter="workflow",
            table_title="Edges",
            select_related_fields=["source", "target"],
            exclude_columns=["workflow"],
            enable_related_link=False,
        ),
        ObjectsTablePanel(
            weight=400,
            section=SectionChoices.FULL_WIDTH,
            table_class=tables.WorkflowRunTable,
            table_filter="workflow",
            table_title="Recent runs",
            select_related_fields=["workflow", "user"],
            exclude_columns=["workflow", "pk"],
            add_button_route=None,
            max_display_count=10,
            paginate=False,
        ),
    ),
    extra_buttons=(
        Button(
            weight=100,
            label="Run",
            icon="mdi-play",
            color=ButtonColorChoices.GREEN,
            link_name="plugins:nautobot_jobflow:workflow_run",
            required_permissions=["nautobot_jobflow.view_workflow"],
        ),
        Button(
            weight=200,
            label="Export YAML",
            icon="mdi-download",
            link_name="plugins:nautobot_jobflow:workflow_export_yaml",
            required_permissions=["nautobot_jobflow.view_workflow"],
        ),
    ),
)

workflow_step = ObjectDetailContent(
    panels=(
        ObjectFieldsPanel(
            weight=100,
            section=SectionChoices.LEFT_HALF,
            fields="__all__",
            value_transforms={"input_templates": [helpers.render_json]},
        ),
    )
)

workflow_edge = ObjectDetailContent(
    panels=(ObjectFieldsPanel(weight=100, section=SectionChoices.LEFT_HALF, fields="__all__"),)
)

workflow_run = ObjectDetailContent(
    panels=(
        ObjectFieldsPanel(
            weight=100,
            section=SectionChoices.LEFT_HALF,
            fields=[
                "workflow",
                "workflow_name",
                "status",
                "dryrun",
                "origin",
                "user",
                "rerun_of",
                "parent_step_run",
                "created",
                "started",
                "finished",
                "error",
            ],
        ),
        ObjectFieldsPanel(
            weight=200,
            section=SectionChoices.RIGHT_HALF,
            label="Inputs and result",
            fields=["inputs", "result"],
            value_transforms={"inputs": [pretty_json], "result": [pretty_json]},
        ),
        WorkflowGraphPanel(weight=100, section=SectionChoices.FULL_WIDTH),
        AwaitingInputPanel(weight=150, section=SectionChoices.FULL_WIDTH),
        StepRunsTablePanel(
            weight=200,
            section=SectionChoices.FULL_WIDTH,
            table_class=tables.WorkflowStepRunTable,
            table_filter="run",
            table_title="Step attempts",
            select_related_fields=["job_result"],
            order_by_fields=["created", "step_name", "attempt"],
            add_button_route=None,
            enable_related_link=False,
        ),
        StepRunsTablePanel(
            items=True,
            weight=250,
            section=SectionChoices.FULL_WIDTH,
            table_class=tables.WorkflowStepRunTable,
            table_filter="run",
            table_title="For-each items",
            select_related_fields=["job_result"],
            order_by_fields=["step_name", "item_index", "attempt"],
            include_columns=["item_index", "item"],
            exclude_columns=["rendered_inputs"],
            max_display_count=25,
            include_paginator=True,
            add_button_route=None,
            enable_related_link=False,
        ),
        ObjectsTablePanel(
            weight=300,
            section=SectionChoices.FULL_WIDTH,
            table_class=tables.WorkflowRunTable,
            table_filter="parent_step_run__run",
            table_title="Nested runs",
            select_related_fields=["workflow", "user"],
            exclude_columns=["pk"],
            add_button_route=None,
            enable_related_link=False,
        ),
        ObjectsTablePanel(
            weight=320,
            section=SectionChoices.FULL_WIDTH,
            table_class=tables.StepInputResponseTable,
            table_filter="step_run__run",
            table_title="Answers to input steps",
            select_related_fields=["step_run"],
            add_button_route=None,
            enable_related_link=False,
        ),
        ObjectsTablePanel(
            weight=350,
            section=SectionChoices.FULL_WIDTH,
            table_class=tables.ApprovalEventTable,
            table_filter="request__workflow_run",
            table_title="Approval history",
            select_related_fields=["request", "preview_job_result", "preview_run"],
            add_button_route=None,
            enable_related_link=False,
        ),
        ObjectsTablePanel(
            weight=400,
            section=SectionChoices.FULL_WIDTH,
            table_class=tables.WorkflowRunTable,
            table_filter="rerun_of",
            table_title="Reruns",
            select_related_fields=["workflow", "user"],
            exclude_columns=["pk"],
            add_button_route=None,
            enable_related_link=False,
        ),
    ),
    extra_buttons=(
        ConditionalPostButton(
            weight=100,
            label="Cancel",
            icon="mdi-cancel",
            color=ButtonColorChoices.RED,
            link_name="plugins:nautobot_jobflow:workflowrun_cancel",
            required_permissions=["nautobot_jobflow.change_workflowrun"],
            condition=lambda run: run.is_active,
        ),
        ConditionalPostButton(
            weight=150,
            label="Pause",
            icon="mdi-pause",
            color=ButtonColorChoices.YELLOW,
            link_name="plugins:nautobot_jobflow:workflowrun_pause",
            required_permissions=["nautobot_jobflow.change_workflowrun"],
            condition=lambda run: (
                run.status in (WorkflowRunStatusChoices.RUNNING, WorkflowRunStatusChoices.AWAITING_INPUT)
            ),
        ),
        ConditionalPostButton(
            weight=160,
            label="Resume",
            icon="mdi-play",
            color=ButtonColorChoices.GREEN,
            link_name="plugins:nautobot_jobflow:workflowrun_resume",
            required_permissions=["nautobot_jobflow.change_workflowrun"],
            condition=lambda run: run.status == WorkflowRunStatusChoices.PAUSED,
        ),
        ConditionalPostButton(
            weight=200,
            label="Rerun from failed",
            icon="mdi-replay",
            color=ButtonColorChoices.YELLOW,
            link_name="plugins:nautobot_jobflow:workflowrun_rerun",
            required_permissions=["nautobot_jobflow.view_workflowrun"],
            condition=_can_rerun,
        ),
    ),
)
