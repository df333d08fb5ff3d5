"""FilterSets of nautobot-jobflow (UI lists, REST API and GraphQL share them), one module per capability.

Nautobot finds a model's FilterSet by name in this package (``nautobot.core.utils.lookup.get_filterset_for_model``
imports ``nautobot_jobflow.filters.<Model>FilterSet``), so every FilterSet is exported here.
"""

from nautobot_jobflow.filters.approvals import ApprovalEventFilterSet, ApprovalPolicyFilterSet, LaunchRequestFilterSet
from nautobot_jobflow.filters.buttons import WorkflowButtonFilterSet
from nautobot_jobflow.filters.hooks import HookFiringFilterSet, HookRuleFilterSet, HookWindowFilterSet
from nautobot_jobflow.filters.input_steps import StepInputResponseFilterSet
from nautobot_jobflow.filters.workflows import (
    WorkflowEdgeFilterSet,
    WorkflowFilterSet,
    WorkflowRunFilterSet,
    WorkflowStepFilterSet,
    WorkflowStepRunFilterSet,
)

__all__ = [
    "ApprovalEventFilterSet",
    "ApprovalPolicyFilterSet",
    "HookFiringFilterSet",
    "HookRuleFilterSet",
    "HookWindowFilterSet",
    "LaunchRequestFilterSet",
    "StepInputResponseFilterSet",
    "WorkflowButtonFilterSet",
    "WorkflowEdgeFilterSet",
    "WorkflowFilterSet",
    "WorkflowRunFilterSet",
    "WorkflowStepFilterSet",
    "WorkflowStepRunFilterSet",
]
