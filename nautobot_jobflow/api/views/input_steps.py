"""REST API views of input steps: the answers given to them (read-only audit; answers are given with ``respond``)."""

from nautobot.apps.api import ReadOnlyModelViewSet

from nautobot_jobflow import filters
from nautobot_jobflow.api import serializers
from nautobot_jobflow.api.query_checks import ValidatedQueryMixin
from nautobot_jobflow.models import StepInputResponse


class StepInputResponseViewSet(ValidatedQueryMixin, ReadOnlyModelViewSet):
    """Who answered which input step, when, and what (read-only)."""

    queryset = StepInputResponse.objects.select_related("step_run", "user")
    serializer_class = serializers.StepInputResponseSerializer
    filterset_class = filters.StepInputResponseFilterSet
