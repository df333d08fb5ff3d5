"""Hook rules' part of the reconciler Job: nothing a lost worker held stays undone."""

from nautobot_jobflow.hooks import queue
from nautobot_jobflow.hooks.windows import sweep_overdue


def recover_stuck_hooks():
    """Fire overdue windows and reschedule a drain lost with its worker. Returns (windows fired, drain scheduled)."""
    return sweep_overdue(), queue.reschedule_if_stuck()
