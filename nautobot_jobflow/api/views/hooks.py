"""REST API views of the hook rules: rules (CRUD and the tester), their windows and firings (read-only)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from nautobot.apps.api import NautobotModelViewSet, ReadOnlyModelViewSet
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from nautobot_jobflow import filters
from nautobot_jobflow.api import serializers
from nautobot_jobflow.api.mixins import (
    ActionRestrictionMixin,
    ViewOnPostPermissions,
    validation_error,
)
from nautobot_jobflow.api.query_checks import ValidatedQueryMixin
from nautobot_jobflow.hooks.tester import change_from_body, change_from_object_change, run_test
from nautobot_jobflow.models import HookFiring, HookRule, HookWindow


class HookRuleViewSet(ValidatedQueryMixin, ActionRestrictionMixin, NautobotModelViewSet):
    """Hook rules; ``POST {id}/test/`` says whether the rule would fire for a change, and with what inputs."""

    queryset = HookRule.objects.select_related("job", "workflow", "owner").prefetch_related(
        "content_types", "completion_jobs", "completion_workflows", "tags"
    )
    serializer_class = serializers.HookRuleSerializer
    filterset_class = filters.HookRuleFilterSet
    action_restrictions = {"test": "view"}

    def perform_create(self, serializer):
        """The creating user becomes the owner."""
        serializer.save(owner=self.request.user)

    @extend_schema(
        methods=["post"],
        request=serializers.HookRuleTestSerializer,
        responses={200: serializers.HookRuleTestResultSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[ViewOnPostPermissions])
    def test(self, request, *args, **kwargs):
        """Test the rule against a recorded ObjectChange, a posted change, or a posted completion. Runs nothing."""
        from nautobot.extras.models import ObjectChange

        rule = self.get_object()
        body = serializers.HookRuleTestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        change = None
        if data.get("object_change"):
            object_change = ObjectChange.objects.restrict(request.user, "view").filter(pk=data["object_change"]).first()
            if object_change is None:
                raise ValidationError({"object_change": f"No object change {data['object_change']} you may view."})
            change = change_from_object_change(object_change)
        elif data.get("change") is not None:
            try:
                change = change_from_body(data["change"])
            except DjangoValidationError as error:
                raise validation_error(error) from None
        elif not isinstance(data.get("completion"), dict):
            raise ValidationError({"completion": "A completion is a JSON object."})
        return Response(run_test(rule, change=change, completion=data.get("completion")))


class HookWindowViewSet(ValidatedQueryMixin, ReadOnlyModelViewSet):
    """Debounce/batch windows of hook rules with their changes (read-only; a firing links its window here)."""

    queryset = HookWindow.objects.select_related("rule", "user")
    serializer_class = serializers.HookWindowSerializer
    filterset_class = filters.HookWindowFilterSet


class HookFiringViewSet(ValidatedQueryMixin, ReadOnlyModelViewSet):
    """Firings of hook rules (read-only)."""

    queryset = HookFiring.objects.select_related("rule", "user", "job_result", "workflow_run")
    serializer_class = serializers.HookFiringSerializer
    filterset_class = filters.HookFiringFilterSet
