"""REST API views of nautobot-jobflow: CRUD for definitions, read/delete for runs, run/cancel/rerun actions."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, connection, transaction
from drf_spectacular.utils import extend_schema
from nautobot.apps.api import BulkDestroyModelMixin, ModelViewSet, NautobotModelViewSet, ReadOnlyModelViewSet
from nautobot.core.api.authentication import TokenPermissions
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from nautobot_jobflow import filters
from nautobot_jobflow.api import serializers
from nautobot_jobflow.choices import LaunchOriginChoices
from nautobot_jobflow.models import (
    ApprovalEvent,
    ApprovalPolicy,
    LaunchRequest,
    Workflow,
    WorkflowEdge,
    WorkflowRun,
    WorkflowStep,
    WorkflowStepRun,
)


def _permission_class(method_permission):
    """A TokenPermissions whose POST needs ``<app>.<method_permission>_<model>`` instead of add."""

    class _Permissions(TokenPermissions):
        perms_map = {"POST": [f"%(app_label)s.{method_permission}_%(model_name)s"]}

    _Permissions.__name__ = f"{method_permission.title()}OnPostPermissions"
    return _Permissions


ViewOnPostPermissions = _permission_class("view")
ChangeOnPostPermissions = _permission_class("change")


REGEX_LOOKUPS = ("__re", "__nre", "__ire", "__nire")


def _bad_regex(pattern):
    """PostgreSQL's own complaint about a regular expression (None when it compiles), asked in a savepoint."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT '' ~ %s", [pattern])
    except DataError as error:
        return str(error).strip().splitlines()[0]
    return None


class RejectBadQueryValuesMixin:
    """Answer 400 naming the query parameter whose value PostgreSQL cannot take, instead of a 500.

    Nautobot's filtering passes query values to PostgreSQL unchanged, so ``?name__ic=%00`` (a NUL character) and
    ``?name__re=(`` (an invalid regular expression) end in database errors and HTTP 500, in Nautobot core too; so
    does a negative ``?offset=`` (PostgreSQL refuses a negative OFFSET).
    Found by tests/test_api_fuzz.py.
    """

    def initial(self, request, *args, **kwargs):
        """Check the query string before authentication, permissions and filtering."""
        problems = {}
        for key, values in request.query_params.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                problems[key.replace("\x00", "\\x00")] = ["Null characters are not allowed."]
            elif key == "offset" and any(value.strip().lstrip("-").isdigit() and int(value) < 0 for value in values):
                problems[key] = ["The offset cannot be negative."]
            elif key.endswith(REGEX_LOOKUPS):
                errors = [f"Invalid regular expression: {error}" for error in map(_bad_regex, values) if error]
                if errors:
                    problems[key] = errors
        if problems:
            raise ValidationError(problems)
        super().initial(request, *args, **kwargs)


def _validation_error(error):
    """A Django ValidationError (LaunchRefused included) as DRF's, keeping the field names."""
    if hasattr(error, "error_dict"):
        return ValidationError(error.message_dict)
    return ValidationError({"detail": error.messages})


def _pending(outcome):
    """Body of a 202 answer: the launch waits for approval."""
    request = outcome.request
    return {
        "approval_required": True,
        "detail": f"Held for approval by policy '{request.policy_name}'.",
        "request": str(request.pk),
        "request_url": request.get_absolute_url(),
        "run": str(outcome.run.pk) if outcome.run else None,
    }


class _ActionRestrictionMixin:
    """Object lookups of the POST actions use the permission those actions need, not "add"."""

    action_restrictions = {}

    def restrict_queryset(self, request, *args, **kwargs):
        """As ModelViewSetMixin, except for the actions in ``action_restrictions``."""
        if request.user.is_authenticated and self.action in self.action_restrictions:
            self.queryset = self.queryset.restrict(request.user, self.action_restrictions[self.action])
        else:
            super().restrict_queryset(request, *args, **kwargs)


class WorkflowViewSet(RejectBadQueryValuesMixin, _ActionRestrictionMixin, NautobotModelViewSet):
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
        from nautobot_jobflow.lib.errors import LaunchForbidden, LaunchRefused
        from nautobot_jobflow.service import launch

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
        if outcome.approval_required:
            return Response(_pending(outcome), status=status.HTTP_202_ACCEPTED)
        context = {"request": request}
        return Response(serializers.WorkflowRunSerializer(outcome.run, context=context).data, status=201)


class WorkflowStepViewSet(RejectBadQueryValuesMixin, ModelViewSet):
    """Steps of workflows."""

    queryset = WorkflowStep.objects.all()
    serializer_class = serializers.WorkflowStepSerializer
    filterset_class = filters.WorkflowStepFilterSet


class WorkflowEdgeViewSet(RejectBadQueryValuesMixin, ModelViewSet):
    """Edges of workflows."""

    queryset = WorkflowEdge.objects.all()
    serializer_class = serializers.WorkflowEdgeSerializer
    filterset_class = filters.WorkflowEdgeFilterSet


class WorkflowRunViewSet(
    RejectBadQueryValuesMixin,
    _ActionRestrictionMixin,
    BulkDestroyModelMixin,
    mixins.DestroyModelMixin,
    ReadOnlyModelViewSet,
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
        from nautobot_jobflow.engine.runner import cancel_run

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


class WorkflowStepRunViewSet(RejectBadQueryValuesMixin, ReadOnlyModelViewSet):
    """Attempts of the steps of runs (read-only)."""

    queryset = WorkflowStepRun.objects.all()
    serializer_class = serializers.WorkflowStepRunSerializer
    filterset_class = filters.WorkflowStepRunFilterSet


#
# Approval policies and launch requests
#


class ApprovalPolicyViewSet(RejectBadQueryValuesMixin, NautobotModelViewSet):
    """Approval policies."""

    # The definition's content type is shown at depth=1: without it, one query per policy.
    queryset = ApprovalPolicy.objects.select_related(
        "approval_workflow_definition__model_content_type", "object_content_type"
    )
    serializer_class = serializers.ApprovalPolicySerializer
    filterset_class = filters.ApprovalPolicyFilterSet


class LaunchRequestViewSet(RejectBadQueryValuesMixin, _ActionRestrictionMixin, ReadOnlyModelViewSet):
    """Launch requests; ``POST {id}/approve|deny|comment/`` decide the active stage, ``{id}/cancel/`` withdraws it.

    Decisions go through core's approval responses, so the same rules hold here, in core's API and in the UI:
    approvers must belong to the active stage's group, the requester may not approve (unless the policy allows),
    expired or closed requests cannot be decided.
    """

    # The serializer shows core's approval workflow of each request: prefetched, or one query per request.
    queryset = LaunchRequest.objects.select_related(
        "policy", "job", "workflow", "user", "workflow_run"
    ).prefetch_related("associated_approval_workflows")
    serializer_class = serializers.LaunchRequestSerializer
    filterset_class = filters.LaunchRequestFilterSet
    action_restrictions = {"approve": "view", "deny": "view", "comment": "view", "cancel": "view"}

    def _decide(self, request, action_name):
        from nautobot_jobflow.approvals.decisions import ApprovalRefused, cancel_request, decide

        launch_request = self.get_object()
        body = serializers.ApprovalDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        comments = body.validated_data["comments"]
        try:
            if action_name == "cancel":
                launch_request = cancel_request(launch_request, request.user, comments)
            else:
                launch_request = decide(launch_request, request.user, action_name, comments)
        except ApprovalRefused as error:
            raise PermissionDenied(str(error)) from None
        return Response(self.get_serializer(launch_request).data)

    @extend_schema(
        methods=["post"],
        request=serializers.JobLaunchSerializer,
        responses={201: serializers.JobLaunchStartedSerializer, 202: serializers.WorkflowLaunchPendingSerializer},
    )
    @action(detail=False, methods=["post"], url_path="launch-job", permission_classes=[IsAuthenticated])
    def launch_job(self, request, *args, **kwargs):
        """Run one Job through Jobflow: 202 with the request when a policy holds it, 201 with its JobResult."""
        from nautobot_jobflow.lib.errors import LaunchForbidden, LaunchRefused
        from nautobot_jobflow.service import launch

        body = serializers.JobLaunchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            outcome = launch(
                body.validated_data["job"],
                body.validated_data["inputs"],
                request.user,
                LaunchOriginChoices.API,
                dryrun=body.validated_data["dryrun"],
            )
        except LaunchForbidden as error:
            raise PermissionDenied(str(error)) from None
        except LaunchRefused as error:
            raise _validation_error(error) from None
        if outcome.approval_required:
            return Response(_pending(outcome), status=status.HTTP_202_ACCEPTED)
        job_result = outcome.job_result
        return Response({"job_result": str(job_result.pk), "url": job_result.get_absolute_url()}, status=201)

    @extend_schema(
        methods=["post"],
        request=serializers.ApprovalDecisionSerializer,
        responses={200: serializers.LaunchRequestSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[ViewOnPostPermissions])
    def approve(self, request, *args, **kwargs):
        """Approve the active stage (403 with the reason when not allowed)."""
        return self._decide(request, "approve")

    @extend_schema(
        methods=["post"],
        request=serializers.ApprovalDecisionSerializer,
        responses={200: serializers.LaunchRequestSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[ViewOnPostPermissions])
    def deny(self, request, *args, **kwargs):
        """Deny the active stage: the request ends and never runs."""
        return self._decide(request, "deny")

    @extend_schema(
        methods=["post"],
        request=serializers.ApprovalDecisionSerializer,
        responses={200: serializers.LaunchRequestSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[ViewOnPostPermissions])
    def comment(self, request, *args, **kwargs):
        """Comment on the active stage without deciding."""
        return self._decide(request, "comment")

    @extend_schema(
        methods=["post"],
        request=serializers.ApprovalDecisionSerializer,
        responses={200: serializers.LaunchRequestSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[ViewOnPostPermissions])
    def cancel(self, request, *args, **kwargs):
        """Withdraw the request (the requester, or a user with change permission on it)."""
        return self._decide(request, "cancel")


class ApprovalEventViewSet(RejectBadQueryValuesMixin, ReadOnlyModelViewSet):
    """The audit trail of launch requests (read-only)."""

    queryset = ApprovalEvent.objects.select_related("request", "user")
    serializer_class = serializers.ApprovalEventSerializer
    filterset_class = filters.ApprovalEventFilterSet


#
# Hook rules (issue 6)
#

from nautobot_jobflow.models import HookFiring, HookRule, HookWindow  # noqa: E402


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


class HookWindowViewSet(RejectBadQueryValuesMixin, ReadOnlyModelViewSet):
    """Debounce/batch windows of hook rules with their changes (read-only; a firing links its window here)."""

    queryset = HookWindow.objects.select_related("rule", "user")
    serializer_class = serializers.HookWindowSerializer
    filterset_class = filters.HookWindowFilterSet


class HookFiringViewSet(ReadOnlyModelViewSet):
    """Firings of hook rules (read-only)."""

    queryset = HookFiring.objects.select_related("rule", "user", "job_result", "workflow_run")
    serializer_class = serializers.HookFiringSerializer
    filterset_class = filters.HookFiringFilterSet
