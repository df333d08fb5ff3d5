"""UI views of nautobot-jobflow: the landing page and one NautobotUIViewSet per model."""

from nautobot_jobflow.views.home import JobflowHomeView

# Hook rules (issue 6)
from nautobot_jobflow.views.hooks import HookRuleUIViewSet
from nautobot_jobflow.views.runs import WorkflowRunUIViewSet
from nautobot_jobflow.views.steps import WorkflowEdgeUIViewSet, WorkflowStepUIViewSet
from nautobot_jobflow.views.workflows import WorkflowUIViewSet

__all__ = [
    "HookRuleUIViewSet",
    "JobflowHomeView",
    "WorkflowEdgeUIViewSet",
    "WorkflowRunUIViewSet",
    "WorkflowStepUIViewSet",
    "WorkflowUIViewSet",
]
