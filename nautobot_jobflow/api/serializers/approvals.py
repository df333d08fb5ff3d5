"""REST API serializers of the approvals: policies, launch requests, their audit trail, decisions and Job launches."""

from nautobot.apps.api import NautobotModelSerializer, TaggedModelSerializerMixin, ValidatedModelSerializer
from nautobot.extras.models import Job
from rest_framework import serializers

from nautobot_jobflow.models import ApprovalEvent, ApprovalPolicy, LaunchRequest


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
