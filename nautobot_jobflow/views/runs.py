"""Workflow run pages: list, detail (coloured graph, step attempts, nested runs), delete, cancel and rerun."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from nautobot.apps.ui import (
    ButtonColorChoices,
    ObjectDetailContent,
    ObjectFieldsPanel,
    ObjectsTablePanel,
    SectionChoices,
)
from nautobot.apps.views import (
    ObjectBulkDestroyViewMixin,
    ObjectDestroyViewMixin,
    ObjectDetailViewMixin,
    ObjectListViewMixin,
)
from nautobot.core.templatetags import helpers
from rest_framework.decorators import action

from nautobot_jobflow import filters, forms, tables
from nautobot_jobflow.api import serializers
from nautobot_jobflow.choices import LaunchOriginChoices, WorkflowRunStatusChoices
from nautobot_jobflow.models import WorkflowRun
from nautobot_jobflow.views.panels import ConditionalPostButton, WorkflowGraphPanel

RERUNNABLE = (WorkflowRunStatusChoices.FAILED, WorkflowRunStatusChoices.CANCELED)


def _json(value):
    return helpers.render_json(value, pretty_print=True) if value else helpers.placeholder(None)


def _can_rerun(run):
    return run.status in RERUNNABLE and run.workflow_id is not None


class WorkflowRunUIViewSet(
    ObjectDetailViewMixin, ObjectListViewMixin, ObjectDestroyViewMixin, ObjectBulkDestroyViewMixin
):
    """Runs are created by launching a workflow, never by hand; they can be watched, canceled, rerun and deleted."""

    queryset = WorkflowRun.objects.select_related("workflow", "user", "rerun_of", "parent_step_run__run")
    filterset_class = filters.WorkflowRunFilterSet
    filterset_form_class = forms.WorkflowRunFilterForm
    serializer_class = serializers.WorkflowRunSerializer
    table_class = tables.WorkflowRunTable
    action_buttons = ("export",)

    object_detail_content = ObjectDetailContent(
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
                label="Inputs",
                fields=["inputs"],
                value_transforms={"inputs": [_json]},
            ),
            WorkflowGraphPanel(weight=100, section=SectionChoices.FULL_WIDTH),
            ObjectsTablePanel(
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

    @action(detail=True, url_path="cancel", url_name="cancel", methods=["post"], custom_view_base_action="change")
    def cancel(self, request, *args, **kwargs):
        """Cancel an active run (needs change permission on it)."""
        from nautobot_jobflow.engine.runner import cancel_run

        run = self.get_object()
        try:
            cancel_run(run, request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Canceled {run}.")
        return redirect(run.get_absolute_url())

    @action(detail=True, url_path="rerun", url_name="rerun", methods=["post"], custom_view_base_action="view")
    def rerun(self, request, *args, **kwargs):
        """Start a new run that keeps the results of the steps that succeeded (launch() checks permissions)."""
        from nautobot_jobflow.engine.control import rerun_from_failed

        run = self.get_object()
        try:
            new_run = rerun_from_failed(run, request.user, LaunchOriginChoices.UI)
        except PermissionDenied as error:
            messages.error(request, str(error) or "You may not rerun this workflow.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Started {new_run}.")
            return redirect(new_run.get_absolute_url())
        return redirect(run.get_absolute_url())
