"""Detail page layouts (``ObjectDetailContent``) of nautobot-jobflow, one module per capability.

The UI viewsets only name them: ``object_detail_content = details.workflow``.
"""

from nautobot_jobflow.details.approvals import approval_policy, launch_request
from nautobot_jobflow.details.buttons import workflow_button
from nautobot_jobflow.details.hooks import hook_rule
from nautobot_jobflow.details.workflows import workflow, workflow_edge, workflow_run, workflow_step

__all__ = [
    "approval_policy",
    "hook_rule",
    "launch_request",
    "workflow",
    "workflow_button",
    "workflow_edge",
    "workflow_run",
    "workflow_step",
]
