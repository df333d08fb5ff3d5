"""Forms of nautobot-jobflow, one module per capability.

Nautobot finds a model's forms by name in this package (``nautobot.core.utils.lookup.get_form_for_model`` imports
``nautobot_jobflow.forms.<Model>[Filter|BulkEdit]Form``), so every form is exported here.
"""

from nautobot_jobflow.forms.approvals import (
    ApprovalDecisionForm,
    ApprovalPolicyBulkEditForm,
    ApprovalPolicyFilterForm,
    ApprovalPolicyForm,
    JobRunRequestForm,
    LaunchRequestFilterForm,
)
from nautobot_jobflow.forms.buttons import WorkflowButtonBulkEditForm, WorkflowButtonFilterForm, WorkflowButtonForm
from nautobot_jobflow.forms.hooks import HookRuleBulkEditForm, HookRuleFilterForm, HookRuleForm, HookRuleTestForm
from nautobot_jobflow.forms.mixins import PlainModelHelpTextMixin
from nautobot_jobflow.forms.target_inputs import TargetInputsFormMixin
from nautobot_jobflow.forms.workflows import (
    WorkflowBulkEditForm,
    WorkflowEdgeFilterForm,
    WorkflowEdgeForm,
    WorkflowFilterForm,
    WorkflowForm,
    WorkflowImportForm,
    WorkflowRunFilterForm,
    WorkflowStepFilterForm,
    WorkflowStepForm,
)

__all__ = [
    "ApprovalDecisionForm",
    "ApprovalPolicyBulkEditForm",
    "ApprovalPolicyFilterForm",
    "ApprovalPolicyForm",
    "HookRuleBulkEditForm",
    "HookRuleFilterForm",
    "HookRuleForm",
    "HookRuleTestForm",
    "JobRunRequestForm",
    "LaunchRequestFilterForm",
    "PlainModelHelpTextMixin",
    "TargetInputsFormMixin",
    "WorkflowBulkEditForm",
    "WorkflowButtonBulkEditForm",
    "WorkflowButtonFilterForm",
    "WorkflowButtonForm",
    "WorkflowEdgeFilterForm",
    "WorkflowEdgeForm",
    "WorkflowFilterForm",
    "WorkflowForm",
    "WorkflowImportForm",
    "WorkflowRunFilterForm",
    "WorkflowStepFilterForm",
    "WorkflowStepForm",
]
