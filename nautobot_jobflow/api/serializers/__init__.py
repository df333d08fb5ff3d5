"""REST API serializers of nautobot-jobflow, one module per capability.

Nautobot finds a model's serializer by name in this package (``nautobot.core.api.utils.get_serializer_for_model``
imports ``nautobot_jobflow.api.serializers.<Model>Serializer``), so every serializer is exported here.
"""

from nautobot_jobflow.api.serializers.approvals import (
    ApprovalDecisionSerializer,
    ApprovalEventSerializer,
    ApprovalPolicySerializer,
    JobLaunchSerializer,
    JobLaunchStartedSerializer,
    LaunchRequestSerializer,
)
from nautobot_jobflow.api.serializers.buttons import WorkflowButtonSerializer
from nautobot_jobflow.api.serializers.hooks import (
    HookFiringSerializer,
    HookRuleSerializer,
    HookRuleTestResultSerializer,
    HookRuleTestSerializer,
    HookWindowSerializer,
)
from nautobot_jobflow.api.serializers.input_steps import StepInputAnswerSerializer, StepInputResponseSerializer
from nautobot_jobflow.api.serializers.workflows import (
    WorkflowEdgeSerializer,
    WorkflowExportSerializer,
    WorkflowLaunchPendingSerializer,
    WorkflowLaunchSerializer,
    WorkflowRunSerializer,
    WorkflowSerializer,
    WorkflowStepRunSerializer,
    WorkflowStepSerializer,
    WorkflowYAMLSerializer,
)

__all__ = [
    "ApprovalDecisionSerializer",
    "ApprovalEventSerializer",
    "ApprovalPolicySerializer",
    "HookFiringSerializer",
    "HookRuleSerializer",
    "HookRuleTestResultSerializer",
    "HookRuleTestSerializer",
    "HookWindowSerializer",
    "JobLaunchSerializer",
    "JobLaunchStartedSerializer",
    "LaunchRequestSerializer",
    "StepInputAnswerSerializer",
    "StepInputResponseSerializer",
    "WorkflowButtonSerializer",
    "WorkflowEdgeSerializer",
    "WorkflowExportSerializer",
    "WorkflowLaunchPendingSerializer",
    "WorkflowLaunchSerializer",
    "WorkflowRunSerializer",
    "WorkflowSerializer",
    "WorkflowStepRunSerializer",
    "WorkflowStepSerializer",
    "WorkflowYAMLSerializer",
]
