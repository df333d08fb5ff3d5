"""REST API views of the workflows: definitions (CRUD, YAML import/export), runs and their run/cancel/rerun/respond."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from nautobot.apps.api import BulkDestroyModelMixin, ModelViewSet, NautobotModelViewSet, ReadOnlyModelViewSet
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from nautobot_jobflow import filters
from nautobot_jobflow.api import serializers
from nautobot_jobflow.api.mixins import (
    ActionRestrictionMixin,
    ChangeOnPostPermissions,
    GitManagedMixin,
    ViewOnPostPermissions,
    YAMLTextParser,
    pending_answer,
    validation_error,
)
from nautobot_jobflow.api.query_checks import ValidatedQueryMixin
from nautobot_jobflow.choices import LaunchOriginChoices
from nautobot_jobflow.engine.control import rerun_from_failed
from nautobot_jobflow.engine.input_steps import AnswerForbidden, AnswerRefused, respond
from nautobot_jobflow.engine.runner import cancel_run, pause_run, resume_run
from nautobot_jobflow.lib.errors import LaunchForbidden, LaunchRefused, refusal_text
from nautobot_jobflow.models import Workflow, WorkflowEdge, WorkflowRun, WorkflowStep, WorkflowStepRun
from nautobot_jobflow.models.git_owned import GitManaged
from nautobot_jobflow.models.workflow_yaml import apply_workflow_yaml, export_workflow
from nautobot_jobflow.service import launch


class WorkflowViewSet(ValidatedQueryMixin, ActionRestrictionMixin, GitManagedMixin, NautobotModelViewSet):
    """Workflows; ``POST {id}/run/`` launches one; ``POST import/`` and ``GET {id}/export/`` carry YAML."""

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
            raise validation_error(error) from None
        if outcome.approval_required:
            return Response(pending_answer(outcome), status=status.HTTP_202_ACCEPTED)
        context = {"request": request}
        return Response(serializers.WorkflowRunSerializer(outcome.run, context=context).data, status=201)

    @extend_schema(
        methods=["post"],
        request={"application/json": serializers.WorkflowYAMLSerializer, "application/yaml": OpenApiTypes.STR},
        responses={201: serializers.WorkflowSerializer, 200: serializers.WorkflowSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        permission_classes=[ViewOnPostPermissions],
        parser_classes=[JSONParser, YAMLTextParser],
    )
    def import_yaml(self, request, *args, **kwargs):
        """Create (201) or replace (200) the workflow a YAML definition names, as the UI import does.

        One transaction: 400 naming the field of the document when anything is wrong (nothing changes); 403 without
        add permission (create) or change permission (replace), or when the workflow is managed by Git.
        """
        body = serializers.WorkflowYAMLSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            outcome = apply_workflow_yaml(body.validated_data["yaml"], user=request.user)
        except GitManaged as error:
            raise PermissionDenied(" ".join(error.messages)) from None
        except DjangoValidationError as error:
            raise ValidationError({"yaml": [refusal_text(error)]}) from None
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error)) from None
        data = serializers.WorkflowSerializer(outcome.workflow, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK)

    @extend_schema(methods=["get"], responses={200: serializers.WorkflowExportSerializer})
    @action(detail=True, methods=["get"], url_path="export", url_name="export")
    def export_yaml(self, request, *args, **kwargs):
        """The workflow's definition as YAML text (the format ``import/``, the UI and Git files take)."""
        workflow = self.get_object()
        return Response({"id": workflow.pk, "name": workflow.name, "yaml": export_workflow(workflow)})


class WorkflowStepViewSet(ValidatedQueryMixin, GitManagedMixin, ModelViewSet):
    """Steps of workflows."""

    queryset = WorkflowStep.objects.all()
    serializer_class = serializers.WorkflowStepSerializer
    filterset_class = filters.WorkflowStepFilterSet


class WorkflowEdgeViewSet(ValidatedQueryMixin, GitManagedMixin, ModelViewSet):
    """Edges of workflows."""

    queryset = WorkflowEdge.objects.all()
    serializer_class = serializers.WorkflowEdgeSerializer
    filterset_class = filters.WorkflowEdgeFilterSet


class WorkflowRunViewSet(
    ValidatedQueryMixin,
    ActionRestrictionMixin,
    BulkDestroyModelMixin,
    mixins.DestroyModelMixin,
    ReadOnlyModelViewSet,
):
    """Runs: read and delete; ``POST {id}/cancel/``, ``pause/``, ``resume/`` and ``rerun/``."""

    queryset = WorkflowRun.objects.all()
    serializer_class = serializers.WorkflowRunSerializer
    filterset_class = filters.WorkflowRunFilterSet
    action_restrictions = {"cancel": "change", "pause": "change", "resume": "change", "rerun": "view"}

    def _change_state(self, request, operation):
        run = self.get_object()
        try:
            run = operation(run, request.user)
        except DjangoValidationError as error:
            raise validation_error(error) from None
        return Response(serializers.WorkflowRunSerializer(run, context={"request": request}).data)

    @extend_schema(methods=["post"], request=None, responses={200: serializers.WorkflowRunSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def pause(self, request, *args, **kwargs):
        """Pause a running run: no new step or item starts, running ones finish (400 when it is not running)."""
        return self._change_state(request, pause_run)

    @extend_schema(methods=["post"], request=None, responses={200: serializers.WorkflowRunSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def resume(self, request, *args, **kwargs):
        """Resume a paused run (400 when it is not paused)."""
        return self._change_state(request, resume_run)

    @extend_schema(methods=["post"], request=None, responses={200: serializers.WorkflowRunSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def cancel(self, request, *args, **kwargs):
        """Cancel an active run (400 when it is already over)."""
        run = self.get_object()
        try:
            run = cancel_run(run, request.user)
        except DjangoValidationError as error:
            raise validation_error(error) from None
        return Response(serializers.WorkflowRunSerializer(run, context={"request": request}).data)

    @extend_schema(methods=["post"], request=None, responses={201: serializers.WorkflowRunSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ViewOnPostPermissions])
    def rerun(self, request, *args, **kwargs):
        """Rerun a failed or canceled run from its failed steps (403 when a Job may not be run)."""
        run = self.get_object()
        try:
            new_run = rerun_from_failed(run, request.user, LaunchOriginChoices.API)
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error)) from None
        except DjangoValidationError as error:
            raise validation_error(error) from None
        return Response(serializers.WorkflowRunSerializer(new_run, context={"request": request}).data, status=201)


class WorkflowStepRunViewSet(ValidatedQueryMixin, ActionRestrictionMixin, ReadOnlyModelViewSet):
    """Attempts of the steps of runs (read-only); ``POST {id}/respond/`` answers an input step."""

    queryset = WorkflowStepRun.objects.all()
    serializer_class = serializers.WorkflowStepRunSerializer
    filterset_class = filters.WorkflowStepRunFilterSet
    action_restrictions = {"respond": "view"}

    @extend_schema(
        methods=["post"],
        request=serializers.StepInputAnswerSerializer,
        responses={200: serializers.WorkflowStepRunSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[ViewOnPostPermissions])
    def respond(self, request, *args, **kwargs):
        """Answer an input step: 200 with the step run, 400 naming the field, 403 for a user who may not answer it."""
        step_run = self.get_object()
        body = serializers.StepInputAnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            step_run = respond(step_run, request.user, body.validated_data["answer"])
        except AnswerForbidden as error:
            raise PermissionDenied(str(error)) from None
        except AnswerRefused as error:
            raise validation_error(error) from None
        return Response(serializers.WorkflowStepRunSerializer(step_run, context={"request": request}).data)
