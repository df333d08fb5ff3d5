"""REST API views of the workflow buttons (CRUD; pressing one is the UI's POST, as core's job buttons)."""

from nautobot.apps.api import NautobotModelViewSet

from nautobot_jobflow import filters
from nautobot_jobflow.api import serializers
from nautobot_jobflow.api.query_checks import ValidatedQueryMixin
from nautobot_jobflow.models import WorkflowButton


class WorkflowButtonViewSet(ValidatedQueryMixin, NautobotModelViewSet):
    """Workflow buttons."""

    queryset = WorkflowButton.objects.select_related("workflow").prefetch_related("content_types", "tags")
    serializer_class = serializers.WorkflowButtonSerializer
    filterset_class = filters.WorkflowButtonFilterSet
