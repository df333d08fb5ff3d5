"""REST API views of the approvals: policies (CRUD), launch requests (decide, cancel, launch a Job), audit trail."""

from drf_spectacular.utils import extend_schema
from nautobot.apps.api import NautobotModelViewSet, ReadOnlyModelViewSet
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from nautobot_jobflow import filters
from nautobot_jobflow.api import serializers
from nautobot_jobflow.api.mixins import (
    ActionRestrictionMixin,
    ViewOnPostPermissions,
    pending_answer,
    validation_error,
)
from nautobot_jobflow.api.query_checks import ValidatedQueryMixin
from nautobot_jobflow.approvals.decisions import ApprovalRefused, cancel_request, decide
from nautobot_jobflow.choices import LaunchOriginChoices
from nautobot_jobflow.lib.errors import LaunchForbidden, LaunchRefused
from nautobot_jobflow.models import ApprovalEvent, ApprovalPolicy, LaunchRequest
from nautobot_jobflow.service import launch


class ApprovalPolicyViewSet(ValidatedQueryMixin, NautobotModelViewSet):
    """Approval policies."""

    # The definition's content type is shown at depth=1: without it, one query per policy.
    queryset = ApprovalPolicy.objects.select_related(
        "approval_workflow_definition__model_content_type", "object_content_type"
    )
    serializer_class = serializers.ApprovalPolicySerializer
    filterset_class = filters.ApprovalPolicyFilterSet


class LaunchRequestViewSet(ValidatedQueryMixin, ActionRestrictionMixin, ReadOnlyModelViewSet):
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
            raise validation_error(error) from None
        if outcome.approval_required:
            return Response(pending_answer(outcome), status=status.HTTP_202_ACCEPTED)
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


class ApprovalEventViewSet(ValidatedQueryMixin, ReadOnlyModelViewSet):
    """The audit trail of launch requests (read-only)."""

    queryset = ApprovalEvent.objects.select_related("request", "user")
    serializer_class = serializers.ApprovalEventSerializer
    filterset_class = filters.ApprovalEventFilterSet
