"""UI views of nautobot-jobflow: the landing page and one NautobotUIViewSet per model."""

from nautobot_jobflow.views.approvals import ApprovalPolicyUIViewSet, LaunchRequestUIViewSet
from nautobot_jobflow.views.buttons import WorkflowButtonPressView, WorkflowButtonUIViewSet
from nautobot_jobflow.views.home import JobflowHomeView
from nautobot_jobflow.views.hooks import HookRuleUIViewSet
from nautobot_jobflow.views.input_steps import AwaitingInputView
from nautobot_jobflow.views.runs import WorkflowRunUIViewSet
from nautobot_jobflow.views.steps import WorkflowEdgeUIViewSet, WorkflowStepUIViewSet
from nautobot_jobflow.views.target_inputs import TargetInputsView
from nautobot_jobflow.views.workflows import WorkflowUIViewSet

__all__ = [
    "ApprovalPolicyUIViewSet",
    "AwaitingInputView",
    "HookRuleUIViewSet",
    "JobflowHomeView",
    "LaunchRequestUIViewSet",
    "TargetInputsView",
    "WorkflowButtonPressView",
    "WorkflowButtonUIViewSet",
    "WorkflowEdgeUIViewSet",
    "WorkflowRunUIViewSet",
    "WorkflowStepUIViewSet",
    "WorkflowUIViewSet",
]
