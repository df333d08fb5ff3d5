"""REST API serializers of the workflows. Model clean() errors come back keyed by field (full_clean)."""

from nautobot.apps.api import NautobotModelSerializer, TaggedModelSerializerMixin, ValidatedModelSerializer
from rest_framework import serializers

from nautobot_jobflow.models import Workflow, WorkflowEdge, WorkflowRun, WorkflowStep, WorkflowStepRun


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
            "result",
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
            "item_index",
            "item",
            "items",
            "progress",
            "attempt",
            "status",
            "job_result",
            "rendered_inputs",
            "result",
            "reused_from",
            "error",
            "not_before",
            "concurrency_key",
            "waiting_since",
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
