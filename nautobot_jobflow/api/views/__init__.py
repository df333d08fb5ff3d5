"""REST API views of nautobot-jobflow, one module per capability (``api/urls.py`` registers them)."""

from nautobot_jobflow.api.views.approvals import ApprovalEventViewSet, ApprovalPolicyViewSet, LaunchRequestViewSet
from nautobot_jobflow.api.views.buttons import WorkflowButtonViewSet
from nautobot_jobflow.api.views.hooks import HookFiringViewSet, HookRuleViewSet, HookWindowViewSet
from nautobot_jobflow.api.views.input_steps import StepInputResponseViewSet
from nautobot_jobflow.api.views.workflows import (
    WorkflowEdgeViewSet,
    WorkflowRunViewSet,
    WorkflowStepRunViewSet,
    WorkflowStepViewSet,
    WorkflowViewSet,
)

__all__ = [
    "ApprovalEventViewSet",
    "ApprovalPolicyViewSet",
    "HookFiringViewSet",
    "HookRuleViewSet",
    "HookWindowViewSet",
    "LaunchRequestViewSet",
    "StepInputResponseViewSet",
    "WorkflowButtonViewSet",
    "WorkflowEdgeViewSet",
    "WorkflowRunViewSet",
    "WorkflowStepRunViewSet",
    "WorkflowStepViewSet",
    "WorkflowViewSet",
]
