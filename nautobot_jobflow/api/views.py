"""REST API views of nautobot-jobflow: CRUD for definitions, read/delete for runs, run/cancel/rerun actions."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from nautobot.apps.api import BulkDestroyModelMixin, ModelViewSet, NautobotModelViewSet, ReadOnlyModelViewSet
from nautobot.core.api.authentication import TokenPermissions
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from nautobot_jobflow import filters
from nautobot_jobflow.api import serializers
from nautobot_jobflow.choices import LaunchOriginChoices
from nautobot_jobflow.models import Workflow, WorkflowEdge, WorkflowRun, WorkflowStep, WorkflowStepRun


def _permission_class(method_permission):
    """A TokenPermissions whose POST needs ``<app>.<method_permission>_<model>`` instead of add."""

    class _Permissions(TokenPermissions):
        perms_map = {"POST": [f"%(app_label)s.{method_permission}_%(model_name)s"]}

    _Permissions.__name__ = f"{method_permission.title()}OnPostPermissions"
    return _Permissions


ViewOnPostPermissions = _permission_class("view")
ChangeOnPostPermissions = _permission_class("change")


def _validation_error(error):
    """A Django ValidationError (LaunchRefused included) as DRF's, keeping the field names."""
    if hasattr(error, "error_dict"):
        return ValidationError(error.message_dict)
    return ValidationError({"detail": error.messages})


class _ActionRestrictionMixin:
    """Object lookups of the POST actions use the permission those actions need, not "add"."""

    action_restrictions = {}

    def restrict_queryset(self, request, *args, **kwargs):
        """As ModelViewSetMixin, except for the actions in ``action_restrictions``."""
        if request.user.is_authenticated and self.action in self.action_restrictions:
            self.queryset = self.queryset.restrict(request.user, self.action_restrictions[self.action])
        else:
            super().restrict_queryset(request, *args, **kwargs)


class WorkflowViewSet(_ActionRestrictionMixin, NautobotModelViewSet):
    """Workflows; ``POST {id}/run/`` launches one."""

    queryset = Workflow.objects.all()
    serializer_class = serializers.WorkflowSerializer
    filterset_class = filters.WorkflowFilterSet
    action_restrictions = {"run": "view"}

    @extend_schema(
        methods=["post"],
        request=serializers.WorkflowLaunchSerializer,
        responses={201: serializers.WorkflowRunSerializer, 202: serializers.WorkflowLaunchPendingSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[ViewOnPostPermissions])
    def run(self, request, *args, **kwargs):
        """Launch the workflow (403 when the user may not run one of its Jobs, 400 naming the bad input)."""
        from nautobot_jobflow.launch import LaunchForbidden, LaunchRefused, launch

        workflow = self.get_object()
        body = serializers.WorkflowLaunchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            outcome = launch(
                workflow,
                body.validated_data["inputs"],
                request.user,
                LaunchOriginChoices.API,
                dryrun=body.validated_data["dryrun"],
            )
        except LaunchForbidden as error:
            raise PermissionDenied(str(error)) from None
        except LaunchRefused as error:
            raise _validation_error(error) from None
        if outcome.run is None:
            data = {"approval_required": bool(outcome.approval_required), "detail": "The run needs approval."}
            return Response(data, status=status.HTTP_202_ACCEPTED)
        context = {"request": request}
        return Response(serializers.WorkflowRunSerializer(outcome.run, context=context).data, status=201)


class WorkflowStepViewSet(ModelViewSet):
    """Steps of workflows."""

    queryset = WorkflowStep.objects.all()
    serializer_class = serializers.WorkflowStepSerializer
    filterset_class = filters.WorkflowStepFilterSet


class WorkflowEdgeViewSet(ModelViewSet):
    """Edges of workflows."""

    queryset = WorkflowEdge.objects.all()
    serializer_class = serializers.WorkflowEdgeSerializer
    filterset_class = filters.WorkflowEdgeFilterSet


class WorkflowRunViewSet(
    _ActionRestrictionMixin, BulkDestroyModelMixin, mixins.DestroyModelMixin, ReadOnlyModelViewSet
):
    """Runs: read and delete; ``POST {id}/cancel/`` and ``POST {id}/rerun/``."""

    queryset = WorkflowRun.objects.all()
    serializer_class = serializers.WorkflowRunSerializer
    filterset_class = filters.WorkflowRunFilterSet
    action_restrictions = {"cancel": "change", "rerun": "view"}

    @extend_schema(methods=["post"], request=None, responses={200: serializers.WorkflowRunSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def cancel(self, request, *args, **kwargs):
        """Cancel an active run (400 when it is already over)."""
        from nautobot_jobflow.engine.control import cancel_run

        run = self.get_object()
        try:
            run = cancel_run(run, request.user)
        except DjangoValidationError as error:
            raise _validation_error(error) from None
        return Response(serializers.WorkflowRunSerializer(run, context={"request": request}).data)

    @extend_schema(methods=["post"], request=None, responses={201: serializers.WorkflowRunSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ViewOnPostPermissions])
    def rerun(self, request, *args, **kwargs):
        """Rerun a failed or canceled run from its failed steps (403 when a Job may not be run)."""
        from nautobot_jobflow.engine.control import rerun_from_failed

        run = self.get_object()
        try:
            new_run = rerun_from_failed(run, request.user, LaunchOriginChoices.API)
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error)) from None
        except DjangoValidationError as error:
            raise _validation_error(error) from None
        return Response(serializers.WorkflowRunSerializer(new_run, context={"request": request}).data, status=201)


class WorkflowStepRunViewSet(ReadOnlyModelViewSet):
    """Attempts of the steps of runs (read-only)."""

    queryset = WorkflowStepRun.objects.all()
    serializer_class = serializers.WorkflowStepRunSerializer
    filterset_class = filters.WorkflowStepRunFilterSet


#
# Hook rules (issue 6)
#

from nautobot_jobflow.models import HookFiring, HookRule  # noqa: E402


class HookRuleViewSet(_ActionRestrictionMixin, NautobotModelViewSet):
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

        from nautobot_jobflow.hooks.tester import change_from_body, change_from_object_change, run_test

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
                raise _validation_error(error) from None
        elif not isinstance(data.get("completion"), dict):
            raise ValidationError({"completion": "A completion is a JSON object."})
        return Response(run_test(rule, change=change, completion=data.get("completion")))


class HookFiringViewSet(ReadOnlyModelViewSet):
    """Firings of hook rules (read-only)."""

    queryset = HookFiring.objects.select_related("rule", "user", "job_result", "workflow_run")
    serializer_class = serializers.HookFiringSerializer
    filterset_class = filters.HookFiringFilterSet
