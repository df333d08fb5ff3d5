"""Models of nautobot-jobflow, one module per capability."""

from nautobot_jobflow.models.approvals import ApprovalEvent, ApprovalPolicy, LaunchRequest
from nautobot_jobflow.models.workflows import Workflow, WorkflowEdge, WorkflowRun, WorkflowStep, WorkflowStepRun

__all__ = [
    "ApprovalEvent",
    "ApprovalPolicy",
    "LaunchRequest",
    "Workflow",
    "WorkflowEdge",
    "WorkflowRun",
    "WorkflowStep",
    "WorkflowStepRun",
]

# Hook rules (issue 6)
from nautobot_jobflow.models.hooks import HookFiring, HookRule, HookWindow, HookWindowEvent

__all__ += ["HookFiring", "HookRule", "HookWindow", "HookWindowEvent"]
