"""Models of nautobot-jobflow, one module per capability; validation and lookups live next to them."""

from nautobot_jobflow.models.approvals import ApprovalEvent, ApprovalPolicy, LaunchRequest, launch_request_decided
from nautobot_jobflow.models.buttons import WorkflowButton
from nautobot_jobflow.models.concurrency import ConcurrencySlot
from nautobot_jobflow.models.hooks import HookFiring, HookRule, HookWindow, HookWindowEvent
from nautobot_jobflow.models.input_steps import StepInputResponse
from nautobot_jobflow.models.workflows import Workflow, WorkflowEdge, WorkflowRun, WorkflowStep, WorkflowStepRun

__all__ = [
    "ApprovalEvent",
    "ApprovalPolicy",
    "ConcurrencySlot",
    "HookFiring",
    "HookRule",
    "HookWindow",
    "HookWindowEvent",
    "LaunchRequest",
    "StepInputResponse",
    "Workflow",
    "WorkflowButton",
    "WorkflowEdge",
    "WorkflowRun",
    "WorkflowStep",
    "WorkflowStepRun",
    "launch_request_decided",
]
