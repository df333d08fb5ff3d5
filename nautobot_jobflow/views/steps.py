"""Step and edge forms, reached from a workflow's page (``?workflow=<pk>&return_url=...``) and back to it."""

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
from nautobot_jobflow.models import WorkflowEdge, WorkflowStep


class _WorkflowPartViewSet(
    ObjectDetailViewMixin,
    ObjectListViewMixin,
    ObjectEditViewMixin,
    ObjectDestroyViewMixin,
    ObjectBulkDestroyViewMixin,
    ObjectChangeLogViewMixin,
):
    """Views shared by steps and edges: no bulk edit or import, they belong to a workflow."""

    action_buttons = ("export",)


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
