"""Workflow run pages: list, detail (coloured graph, step attempts, nested runs), delete, cancel, rerun, answer."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from nautobot.apps.views import (
    ObjectBulkDestroyViewMixin,
    ObjectDestroyViewMixin,
    ObjectDetailViewMixin,
    ObjectListViewMixin,
)
from rest_framework.decorators import action

from nautobot_jobflow import details, filters, forms, tables
from nautobot_jobflow.api import serializers
from nautobot_jobflow.choices import LaunchOriginChoices
from nautobot_jobflow.engine.control import rerun_from_failed
from nautobot_jobflow.engine.runner import cancel_run, pause_run, resume_run
from nautobot_jobflow.models import WorkflowRun
from nautobot_jobflow.views.input_steps import InputStepViewMixin


class WorkflowRunUIViewSet(
    InputStepViewMixin, ObjectDetailViewMixin, ObjectListViewMixin, ObjectDestroyViewMixin, ObjectBulkDestroyViewMixin
):
    """Runs are created by launching a workflow, never by hand; they can be watched, canceled, rerun and deleted.

    Their input steps are answered on the run's page (``respond``, from ``InputStepViewMixin``).
    """

    queryset = WorkflowRun.objects.select_related("workflow", "user", "rerun_of", "parent_step_run__run")
    filterset_class = filters.WorkflowRunFilterSet
    filterset_form_class = forms.WorkflowRunFilterForm
    serializer_class = serializers.WorkflowRunSerializer
    table_class = tables.WorkflowRunTable
    action_buttons = ("export",)

    object_detail_content = details.workflow_run

    @action(detail=True, url_path="cancel", url_name="cancel", methods=["post"], custom_view_base_action="change")
    def cancel(self, request, *args, **kwargs):
        """Cancel an active run (needs change permission on it)."""
        run = self.get_object()
        try:
            cancel_run(run, request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Canceled {run}.")
        return redirect(run.get_absolute_url())

    def _change_state(self, request, operation, done):
        run = self.get_object()
        try:
            operation(run, request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{done} {run}.")
        return redirect(run.get_absolute_url())

    @action(detail=True, url_path="pause", url_name="pause", methods=["post"], custom_view_base_action="change")
    def pause(self, request, *args, **kwargs):
        """Pause a running run: no new step or item starts; running ones finish (needs change permission)."""
        return self._change_state(request, pause_run, "Paused")

    @action(detail=True, url_path="resume", url_name="resume", methods=["post"], custom_view_base_action="change")
    def resume(self, request, *args, **kwargs):
        """Resume a paused run (needs change permission)."""
        return self._change_state(request, resume_run, "Resumed")

    @action(detail=True, url_path="rerun", url_name="rerun", methods=["post"], custom_view_base_action="view")
    def rerun(self, request, *args, **kwargs):
        """Start a new run that keeps the results of the steps that succeeded (launch() checks permissions)."""
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
