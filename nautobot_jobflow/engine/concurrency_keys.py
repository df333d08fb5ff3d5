"""Concurrency keys: take a slot when an attempt starts, free it when the attempt ends, wake the next waiter.

Only the engine calls these, under the run's row lock, inside the transaction that changes the attempt, so a slot is
never held by an attempt that is over (and the reconciler frees the rare leftover). Arrival order: an attempt takes a
slot only when no attempt with the same key has waited longer; the advance that frees a slot wakes the run of the
attempt that has waited longest.
"""

from django.db import IntegrityError, transaction

from nautobot_jobflow.choices import StepRunStatusChoices
from nautobot_jobflow.lib.sandbox import render_value
from nautobot_jobflow.models import ConcurrencySlot, WorkflowStepRun

MAX_KEY_CHARS = 255


def render_key(template, context):
    """The attempt's key: the step's template rendered over its context, as text (TemplateProblem says why not)."""
    return str(render_value(template, context, "concurrency_key"))[:MAX_KEY_CHARS]


def try_acquire(step_run, key, limit):
    """Take a free slot of ``key`` for ``step_run`` (saved) unless an attempt with the key has waited longer."""
    waited_longer = WorkflowStepRun.objects.filter(status=StepRunStatusChoices.WAITING, concurrency_key=key).exclude(
        pk=step_run.pk
    )
    if step_run.waiting_since is not None:
        waited_longer = waited_longer.filter(waiting_since__lt=step_run.waiting_since)
    if waited_longer.exists():
        return False
    for slot in range(limit):
        try:
            with transaction.atomic():
                ConcurrencySlot.objects.create(key=key, slot=slot, holder=step_run)
        except IntegrityError:
            continue
        return True
    return False


def release(step_runs):
    """Free the slots held by these attempts (now over). Returns the keys freed."""
    holders = [step_run.pk for step_run in step_runs if step_run.concurrency_key and step_run.pk]
    if not holders:
        return set()
    slots = ConcurrencySlot.objects.filter(holder_id__in=holders)
    keys = set(slots.values_list("key", flat=True))
    slots.delete()
    return keys


def runs_to_wake(keys):
    """For each freed key, the run of the attempt that has waited longest for it."""
    run_ids = set()
    for key in keys:
        run_id = (
            WorkflowStepRun.objects.filter(status=StepRunStatusChoices.WAITING, concurrency_key=key)
            .order_by("waiting_since", "created")
            .values_list("run_id", flat=True)
            .first()
        )
        if run_id:
            run_ids.add(run_id)
    return run_ids


def release_orphaned_slots():
    """Reconciler: free slots whose attempt is over (it ended in a transaction that could not free them). A count."""
    orphaned = ConcurrencySlot.objects.exclude(holder__status__in=StepRunStatusChoices.ACTIVE)
    keys = set(orphaned.values_list("key", flat=True))
    count = orphaned.delete()[0]
    return count, keys
