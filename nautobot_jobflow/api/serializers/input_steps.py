"""REST API serializers of input steps: an answer's body (``POST workflow-step-runs/{id}/respond/``), the audit."""

from nautobot.apps.api import ValidatedModelSerializer
from rest_framework import serializers

from nautobot_jobflow.models import StepInputResponse


class StepInputResponseSerializer(ValidatedModelSerializer):
    """One answer given to an input step (read-only: answers are given with the step run's ``respond`` action)."""

    class Meta:
        model = StepInputResponse
        fields = "__all__"
        read_only_fields = ["step_run", "user", "user_name", "time", "answer"]


class StepInputAnswerSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """Body of POST workflow-step-runs/{id}/respond/."""

    answer = serializers.JSONField(help_text="The answer: a JSON object valid against the step's answer schema.")

    def validate_answer(self, value):
        """An answer is a JSON object."""
        if not isinstance(value, dict):
            raise serializers.ValidationError("The answer must be a JSON object.")
        return value
