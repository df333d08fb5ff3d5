"""REST API serializers of nautobot-jobflow. Model clean() errors come back keyed by field (full_clean)."""

from nautobot.apps.api import NautobotModelSerializer, TaggedModelSerializerMixin, ValidatedModelSerializer
from nautobot.extras.models import Job
from rest_framework import serializers

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


class WorkflowSerializer(TaggedModelSerializerMixin, NautobotModelSerializer):
    """A workflow (its steps and edges have their own endpoints)."""

    class Meta:
        model = Workflow
        fields = "__all__"


class _NamedUniquenessMixin:
    """Report a unique-constraint clash on one named field instead of DRF's non-field "must make a unique set"."""

    unique_fields = ()
    unique_error_field = None

    def get_unique_together_validators(self):
        """Uniqueness is checked in validate(), keyed to a field."""
        return []

    def _merged(self, attrs, name):
        if name in attrs:
            return attrs[name]
        return getattr(self.instance, name, None) if self.instance is not None else None

    def validate(self, attrs):
        """Check the unique constraint first, then the model's full_clean()."""
        values = {name: self._merged(attrs, name) for name in self.unique_fields}
        if all(value is not None for value in values.values()):
            clash = self.Meta.model.objects.filter(**values)
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                raise serializers.ValidationError({self.unique_error_field: self.unique_error_message(values)})
        return super().validate(attrs)


class WorkflowStepSerializer(_NamedUniquenessMixin, ValidatedModelSerializer):
    """One step of a workflow: a Job (or nested workflow) and its input templates."""

    unique_fields = ("workflow", "name")
    unique_error_field = "name"

    class Meta:
        model = WorkflowStep
        fields = "__all__"

    @staticmethod
    def unique_error_message(values):
        """Duplicate step name."""
        return f"Workflow '{values['workflow']}' already has a step named '{values['name']}'."


class WorkflowEdgeSerializer(_NamedUniquenessMixin, ValidatedModelSerializer):
    """A dependency between two steps of a workflow."""

    unique_fields = ("source", "target")
    unique_error_field = "target"

    class Meta:
        model = WorkflowEdge
        fields = "__all__"

    @staticmethod
    def unique_error_message(values):
        """Duplicate edge."""
        return f"There is already an edge from '{values['source'].name}' to '{values['target'].name}'."


class WorkflowRunSerializer(ValidatedModelSerializer):
    """A run of a workflow (read-only: runs are started with POST workflows/{id}/run/)."""

    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = WorkflowRun
        fields = "__all__"
        read_only_fields = [
            "workflow",
            "workflow_name",
            "status",
            "inputs",
            "dryrun",
            "user",
            "origin",
            "parent_step_run",
            "rerun_of",
            "definition",
            "error",
            "created",
            "started",
            "finished",
        ]


class WorkflowStepRunSerializer(ValidatedModelSerializer):
    """One attempt of one step of a run (read-only)."""

    class Meta:
        model = WorkflowStepRun
        fields = "__all__"
        read_only_fields = [
            "run",
            "step_name",
            "attempt",
            "status",
            "job_result",
            "rendered_inputs",
            "result",
            "reused_from",
            "error",
            "not_before",
            "created",
            "started",
            "finished",
        ]


class WorkflowLaunchSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """Body of POST workflows/{id}/run/."""

    inputs = serializers.JSONField(required=False, default=dict, help_text="The run's inputs (a JSON object).")
    dryrun = serializers.BooleanField(required=False, default=False)

    def validate_inputs(self, value):
        """Inputs are a JSON object."""
        if not isinstance(value, dict):
            raise serializers.ValidationError("Inputs must be a JSON object.")
        return value


class WorkflowLaunchPendingSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """Answer of POST workflows/{id}/run/ when the launch waits for approval (HTTP 202)."""

    approval_required = serializers.BooleanField()
    detail = serializers.CharField()
    request = serializers.UUIDField(help_text="The launch request awaiting approval.")
    request_url = serializers.CharField()
    run = serializers.UUIDField(allow_null=True, help_text="The run held until approval.")


#
# Approval policies and launch requests
#


class ApprovalPolicySerializer(TaggedModelSerializerMixin, NautobotModelSerializer):
    """An approval policy: what it covers, its stages (a core approval workflow definition), expiry."""

    class Meta:
        model = ApprovalPolicy
        fields = "__all__"


class LaunchRequestSerializer(NautobotModelSerializer):
    """A launch held for approval (read-only; decide with POST launch-requests/{id}/approve|deny|comment|cancel/)."""

    approval_workflow = serializers.SerializerMethodField()

    class Meta:
        model = LaunchRequest
        fields = "__all__"
        read_only_fields = [field.name for field in LaunchRequest._meta.concrete_fields if field.name != "id"]

    def get_approval_workflow(self, obj) -> str | None:
        """ID of core's approval workflow for this request (core's approve/deny API works on its stages)."""
        approval_workflow = obj.approval_workflow
        return str(approval_workflow.pk) if approval_workflow else None


class ApprovalEventSerializer(ValidatedModelSerializer):
    """One entry of a request's audit trail (read-only)."""

    class Meta:
        model = ApprovalEvent
        fields = "__all__"
        read_only_fields = [field.name for field in ApprovalEvent._meta.concrete_fields if field.name != "id"]


class ApprovalDecisionSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """Body of POST launch-requests/{id}/approve|deny|comment|cancel/."""

    comments = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)


class JobLaunchSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """Body of POST launch-requests/launch-job/: one Job through Jobflow's approval policies."""

    job = serializers.PrimaryKeyRelatedField(queryset=Job.objects.all(), help_text="ID of the Job to run.")
    inputs = serializers.JSONField(required=False, default=dict, help_text="The Job's variables (a JSON object).")
    dryrun = serializers.BooleanField(required=False, default=False)

    def validate_inputs(self, value):
        """Inputs are a JSON object."""
        if not isinstance(value, dict):
            raise serializers.ValidationError("Inputs must be a JSON object.")
        return value


class JobLaunchStartedSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """Answer of POST launch-requests/launch-job/ when the Job started (HTTP 201)."""

    job_result = serializers.UUIDField()
    url = serializers.CharField()


#
# Hook rules (issue 6)
#

from django.core.exceptions import ValidationError as DjangoValidationError  # noqa: E402
from nautobot.apps.api import ContentTypeField  # noqa: E402
from nautobot.extras.utils import ChangeLoggedModelsQuery  # noqa: E402

from nautobot_jobflow.models import HookFiring, HookRule, HookWindow  # noqa: E402


class HookRuleSerializer(TaggedModelSerializerMixin, NautobotModelSerializer):
    """A hook rule; saving it requires run permission on its target. Bad input is a 400 naming the field."""

    content_types = ContentTypeField(queryset=ChangeLoggedModelsQuery().as_queryset(), many=True, required=False)

    class Meta:
        model = HookRule
        fields = "__all__"
        read_only_fields = ["owner"]

    def validate(self, attrs):
        """The model's clean(), then paths/filter against the object types, then the saving user's permission."""
        from nautobot_jobflow.launching.permissions import check_target_permission
        from nautobot_jobflow.models.hook_rule_checks import validate_for_content_types

        attrs = super().validate(attrs)
        instance = self._merged_instance(attrs)
        if "content_types" in attrs:
            content_types = attrs["content_types"]
        else:
            content_types = list(self.instance.content_types.all()) if self.instance is not None else []
        request = self.context.get("request")
        try:
            validate_for_content_types(instance, content_types)
            if request is None or not getattr(request, "user", None):
                raise DjangoValidationError({"job": "A hook rule is saved by a user who may run its target."})
            check_target_permission(instance, request.user)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        return attrs

    def _merged_instance(self, attrs):
        """An unsaved HookRule with the instance's values overlaid by the request's (no many-to-many)."""
        instance = HookRule()
        if self.instance is not None:
            for field in HookRule._meta.concrete_fields:
                setattr(instance, field.attname, getattr(self.instance, field.attname))
        concrete = {field.name for field in HookRule._meta.concrete_fields}
        for name, value in attrs.items():
            if name in concrete:
                setattr(instance, name, value)
        return instance


class HookWindowSerializer(ValidatedModelSerializer):
    """A debounce or batch window of a rule (read-only; nested in firings at depth > 0)."""

    events = serializers.SerializerMethodField()

    class Meta:
        model = HookWindow
        fields = "__all__"
        read_only_fields = [field.name for field in HookWindow._meta.concrete_fields if field.name != "id"]

    def get_events(self, obj) -> list[dict]:
        """The window's changes, one per object (latest change, ``before`` of the first), as its run sees them."""
        return obj.changes()


class HookFiringSerializer(ValidatedModelSerializer):
    """One time a rule matched (read-only)."""

    class Meta:
        model = HookFiring
        fields = "__all__"
        read_only_fields = [field.name for field in HookFiring._meta.concrete_fields if field.name != "id"]


class HookRuleTestSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """Body of POST hook-rules/{id}/test/: one of object_change, change or completion."""

    object_change = serializers.UUIDField(required=False, help_text="ID of a recorded ObjectChange.")
    change = serializers.JSONField(
        required=False, help_text="A change: {action, object_type, before, after[, user]} (snapshots as in webhooks)."
    )
    completion = serializers.JSONField(
        required=False, help_text="Completion rules: {job | workflow, status, result, ...}."
    )

    def validate(self, attrs):
        """Exactly one input."""
        given = [key for key in ("object_change", "change", "completion") if attrs.get(key) is not None]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"object_change": "Give exactly one of object_change, change, completion."}
            )
        return attrs


class HookRuleTestResultSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """Answer of POST hook-rules/{id}/test/."""

    would_fire = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField())
    conditions = serializers.ListField(child=serializers.DictField())
    object_filter = serializers.DictField(allow_null=True)
    inputs = serializers.JSONField(allow_null=True)
