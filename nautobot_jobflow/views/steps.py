"""Step and edge forms, reached from a workflow's page (``?workflow=<pk>&return_url=...``) and back to it."""

from django.core.exceptions import ValidationError
from nautobot.apps.views import (
    ObjectBulkDestroyViewMixin,
    ObjectChangeLogViewMixin,
    ObjectDestroyViewMixin,
    ObjectDetailViewMixin,
    ObjectEditViewMixin,
    ObjectListViewMixin,
)

from nautobot_jobflow import details, filters, forms, tables
from nautobot_jobflow.api import serializers
from nautobot_jobflow.models import Workflow, WorkflowEdge, WorkflowStep
from nautobot_jobflow.views.common import GitManagedViewMixin


class _WorkflowPartViewSet(
    GitManagedViewMixin,
    ObjectDetailViewMixin,
    ObjectListViewMixin,
    ObjectEditViewMixin,
    ObjectDestroyViewMixin,
    ObjectBulkDestroyViewMixin,
    ObjectChangeLogViewMixin,
):
    """Views shared by steps and edges: no bulk edit or import, they belong to a workflow (read-only from Git)."""

    action_buttons = ("export",)
    git_owner_lookup = "workflow__git_repository"

    def create(self, request, *args, **kwargs):
        """Refuse adding a step or an edge to a workflow synced from Git."""
        workflow = _workflow_named_by(request)
        return self.refuse_git_managed(request, workflow) or super().create(request, *args, **kwargs)


def _workflow_named_by(request):
    """The workflow the add form is for (``workflow`` in the POST or the query), if it names one."""
    try:
        return Workflow.objects.filter(pk=request.POST.get("workflow") or request.GET.get("workflow")).first()
    except (ValueError, ValidationError):  # not a UUID
        return None


class WorkflowStepUIViewSet(_WorkflowPartViewSet):
    """Steps of workflows."""

    queryset = WorkflowStep.objects.select_related("workflow", "job", "subworkflow", "job_queue")
    filterset_class = filters.WorkflowStepFilterSet
    filterset_form_class = forms.WorkflowStepFilterForm
    form_class = forms.WorkflowStepForm
    serializer_class = serializers.WorkflowStepSerializer
    table_class = tables.WorkflowStepTable
    object_detail_content = details.workflow_step


class WorkflowEdgeUIViewSet(_WorkflowPartViewSet):
    """Edges of workflows."""

    queryset = WorkflowEdge.objects.select_related("workflow", "source", "target")
    filterset_class = filters.WorkflowEdgeFilterSet
    filterset_form_class = forms.WorkflowEdgeFilterForm
    form_class = forms.WorkflowEdgeForm
    serializer_class = serializers.WorkflowEdgeSerializer
    table_class = tables.WorkflowEdgeTable
    object_detail_content = details.workflow_edge
