"""Safety net: advance every active run, reap steps whose worker died. Run periodically by a scheduled Job."""

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.jobs_cancel import CancelFactory, JobLiveness

from nautobot_jobflow.choices import StepRunStatusChoices, WorkflowRunStatusChoices
from nautobot_jobflow.engine.runner import advance
from nautobot_jobflow.models import WorkflowRun, WorkflowStepRun

logger = logging.getLogger(__name__)


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
    """Reap dead steps, then advance every pending or running run. Returns (runs advanced, steps reaped)."""
    reaped = reap_dead_steps(stale_after, log)
    advanced = 0
    # A run whose launch awaits approval (never started) has nothing to advance; one with a gated step has.
    active = WorkflowRun.objects.filter(
        Q(status__in=(WorkflowRunStatusChoices.PENDING, WorkflowRunStatusChoices.RUNNING))
        | Q(status=WorkflowRunStatusChoices.AWAITING_APPROVAL, started__isnull=False)
    ).values_list("pk", flat=True)
    for run_id in list(active):
        try:
            advance(run_id)
            advanced += 1
        except Exception:
            log.exception("Could not advance run %s", run_id)
    return advanced, reaped
