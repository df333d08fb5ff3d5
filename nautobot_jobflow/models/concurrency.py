"""Concurrency keys: one row per slot of a key held by a running attempt, in PostgreSQL (no process memory).

A slot is taken (INSERT, unique on key and slot) in the same transaction that starts the attempt and freed (DELETE)
in the same transaction that records its end; the unique constraint makes "at most N" hold across all runs and
workers. Waiting attempts are ``WorkflowStepRun`` rows in status "waiting" with the key and ``waiting_since``.
"""

from django.db import models
from nautobot.apps.models import BaseModel


class ConcurrencySlot(BaseModel):
    """Slot ``slot`` of concurrency key ``key``, held by one running attempt."""

    key = models.CharField(max_length=255)
    slot = models.PositiveSmallIntegerField()
    holder = models.OneToOneField(
        "nautobot_jobflow.WorkflowStepRun", on_delete=models.CASCADE, related_name="concurrency_slot"
    )
    acquired = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key", "slot"]
        constraints = [models.UniqueConstraint(fields=["key", "slot"], name="jobflow_concurrency_slot_unique")]

    def __str__(self):
        return f"{self.key} #{self.slot}"
