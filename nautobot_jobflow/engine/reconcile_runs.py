"""Safety net: reap steps whose worker died, send lost tasks again, advance every active run.

Run periodically by a scheduled Job (every minute). Only one reconciler works at a time (a PostgreSQL advisory
lock), so two overlapping runs of the Job never send the same lost task twice.
"""

import logging
from contextlib import contextmanager
from datetime import timedelta
from typing import NamedTuple

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.jobs_cancel import CancelFactory, JobLiveness

from nautobot_jobflow.choices import StepRunStatusChoices, WorkflowRunStatusChoices
from nautobot_jobflow.engine.concurrency_keys import release_orphaned_slots
from nautobot_jobflow.engine.lost_tasks import resend_lost_tasks
from nautobot_jobflow.engine.runner import advance, wake_waiters
from nautobot_jobflow.models import WorkflowRun, WorkflowStepRun

logger = logging.getLogger(__name__)

# Key of the advisory lock that lets one reconciler work at a time ("jobflow" in ASCII).
RECONCILER_LOCK_KEY = 0x6A6F62666C6F77


class Reconciled(NamedTuple):
    """What one reconciler pass did."""

    advanced: int
    reaped: int
    resent: int
    skipped: bool = False  # another reconciler was working


@contextmanager
def only_reconciler():
    """Yield True while this process holds the reconciler lock, False when another one does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [RECONCILER_LOCK_KEY])
        mine = cursor.fetchone()[0]
    try:
        yield mine
    finally:
        if mine:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [RECONCILER_LOCK_KEY])


def reap_dead_steps(stale_after, log=logger):
    """Cancel (reap) JobResults of running steps that a worker started but no live worker knows about any more."""
    cutoff = timezone.now() - timedelta(seconds=stale_after)
    reaped = 0
    candidates = WorkflowStepRun.objects.filter(
        status=StepRunStatusChoices.RUNNING,
        started__lte=cutoff,
        job_result__status=JobResultStatusChoices.STATUS_STARTED,
    ).select_related("job_result", "run__user")
    for step_run in candidates:
        job_result = step_run.job_result
        strategy = CancelFactory.get_strategy(job_result.queue_type)
        if strategy.liveness(job_result) != JobLiveness.NOT_RUNNING:
            continue
        log.warning("Step '%s' of run %s: its worker is gone; reaping JobResult %s", step_run.step_name,
                    step_run.run_id, job_result.pk)  # fmt: skip
        strategy.cancel(job_result, user=step_run.run.user)
        reaped += 1
    return reaped


def reconcile(stale_after=60, log=logger):
    """Reap dead steps, send lost tasks again, then advance every active run. Returns Reconciled."""
    with only_reconciler() as mine:
        if not mine:
            log.info("Another reconciler is working; nothing done.")
            return Reconciled(0, 0, 0, skipped=True)
        reaped = reap_dead_steps(stale_after, log)
        resent = resend_lost_tasks(stale_after, log)
        orphaned, keys = release_orphaned_slots()
        if orphaned:
            log.warning("Freed %d concurrency-key slot(s) held by attempts that were over", orphaned)
            wake_waiters(keys)
        advanced = 0
        # A run whose launch awaits approval (never started) has nothing to advance; one with a gated step has.
        active = WorkflowRun.objects.filter(
            Q(
                status__in=(
                    WorkflowRunStatusChoices.PENDING,
                    WorkflowRunStatusChoices.RUNNING,
                    WorkflowRunStatusChoices.AWAITING_INPUT,  # an input step's timeout
                )
            )
            | Q(status=WorkflowRunStatusChoices.AWAITING_APPROVAL, started__isnull=False)
        ).values_list("pk", flat=True)
        for run_id in list(active):
            try:
                advance(run_id)
                advanced += 1
            except Exception:
                log.exception("Could not advance run %s", run_id)
    return Reconciled(advanced, reaped, resent)
