"""Tables of nautobot-jobflow (django-tables2 through Nautobot's BaseTable), one module per capability.

Nautobot finds a model's table by name in this package (``nautobot.core.utils.lookup.get_table_for_model`` imports
``nautobot_jobflow.tables.<Model>Table``), so every table is exported here. Status columns are core's
``ChoiceFieldColumn``: a badge coloured by the record's ``get_status_class()`` (the ChoiceSet's ``CSS_CLASSES``).
"""

from nautobot_jobflow.tables.approvals import ApprovalEventTable, ApprovalPolicyTable, LaunchRequestTable
from nautobot_jobflow.tables.buttons import WorkflowButtonTable
from nautobot_jobflow.tables.hooks import HookFiringTable, HookRuleTable
from nautobot_jobflow.tables.input_steps import AwaitingInputTable, StepInputResponseTable
from nautobot_jobflow.tables.workflows import (
    WorkflowEdgeTable,
    WorkflowRunTable,
    WorkflowStepRunTable,
    WorkflowStepTable,
    WorkflowTable,
)

__all__ = [
    "ApprovalEventTable",
    "ApprovalPolicyTable",
    "AwaitingInputTable",
    "HookFiringTable",
    "HookRuleTable",
    "LaunchRequestTable",
    "StepInputResponseTable",
    "WorkflowButtonTable",
    "WorkflowEdgeTable",
    "WorkflowRunTable",
    "WorkflowStepRunTable",
    "WorkflowStepTable",
    "WorkflowTable",
]
