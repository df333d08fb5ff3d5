"""Models of nautobot-jobflow, one module per capability."""

from nautobot_jobflow.models.workflows import Workflow, WorkflowEdge, WorkflowRun, WorkflowStep, WorkflowStepRun

__all__ = ["Workflow", "WorkflowEdge", "WorkflowRun", "WorkflowStep", "WorkflowStepRun"]
