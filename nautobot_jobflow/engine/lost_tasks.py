"""Steps whose Celery task the broker lost before any worker took it: find them and send the same task again.

How a task gets lost: the engine creates the step's JobResult (PENDING) and, when its transaction commits, sends the
Celery task. If Redis is down at that moment (the send fails after Celery's retries), or restarts without persistence
while the task waits in its queue, nothing will ever run that JobResult, and the step would stay running forever.

A task counts as lost only when all three hold, checked in this order so a task moving from the queue to a worker in
between is still seen: its JobResult is PENDING (no worker started it), its id is not in its Celery queue in the
broker (Nautobot's own queue reader, as its workers use at start-up), and no live worker has it reserved, scheduled
or active (one ``query_task`` broadcast for all candidates, the check behind Nautobot's own liveness). Then the same
JobResult is sent again, so the step keeps one JobResult and its Job runs once: it never ran before.
"""

import logging
from datetime import timedelta

from django.utils import timezone
from nautobot.core.celery import app as celery_app
from nautobot.extras.choices import JobQueueTypeChoices, JobResultStatusChoices
from nautobot.extras.models import JobQueue

from nautobot_jobflow.choices import StepRunStatusChoices
from nautobot_jobflow.launching.enqueue import resend_job_result
from nautobot_jobflow.launching.job_kwargs import prepare_job_kwargs
from nautobot_jobflow.models import WorkflowStepRun

logger = logging.getLogger(__name__)


def queued_task_ids(queue_names):
    """Ids of the tasks waiting in these Celery queues of the broker; None when the broker cannot be read."""
    from nautobot.core.celery import _get_celery_queue_items  # Redis only, like Nautobot's brokers

    ids = set()
    try:
        for name in queue_names:
            ids.update(_get_celery_queue_items(name))
    except Exception as error:  # broker down or not Redis: we cannot prove a task is lost
        logger.warning("Cannot read the Celery queues %s: %s", sorted(queue_names), error)
        return None
    return ids


def tasks_known_to_workers(task_ids):
    """The subset of ``task_ids`` that a live worker has reserved, scheduled or running; None when unknown."""
    if not task_ids:
        return set()
    try:
        replies = celery_app.control.inspect().query_task(list(task_ids)) or {}
    except Exception as error:
        logger.warning("Cannot ask the Celery workers about %d task(s): %s", len(task_ids), error)
        return None
    return {task_id for tasks in replies.values() for task_id in tasks}


def lost_step_runs(stale_after):
    """Running steps, started at least ``stale_after`` seconds ago, whose PENDING task is nowhere to be found."""
    cutoff = timezone.now() - timedelta(seconds=stale_after)
    candidates = [
        step_run
        for step_run in WorkflowStepRun.objects.filter(
            status=StepRunStatusChoices.RUNNING,
            started__lte=cutoff,
            job_result__status=JobResultStatusChoices.STATUS_PENDING,
        ).select_related("job_result__job_model", "run__user")
        if step_run.job_result.queue_type == JobQueueTypeChoices.TYPE_CELERY
    ]
    if not candidates:
        return []
    queued = queued_task_ids({step_run.job_result.queue for step_run in candidates})
    if queued is None:
        return []
    missing = [step_run for step_run in candidates if str(step_run.job_result_id) not in queued]
    known = tasks_known_to_workers([str(step_run.job_result_id) for step_run in missing])
    if known is None:
        return []
    return [step_run for step_run in missing if str(step_run.job_result_id) not in known]


def resend(step_run):
    """Send the lost task of ``step_run`` again: the same JobResult, the same Job and inputs, on the same queue.

    This is not a new launch (permissions, approvals and input validation were passed when the step started):
    ``launching.enqueue.resend_job_result`` asks Nautobot to send the existing PENDING JobResult again.
    """
    job_result = step_run.job_result
    job = job_result.job_model
    data = dict(step_run.rendered_inputs or {})
    if step_run.run.dryrun:
        data["dryrun"] = True
    job_kwargs = prepare_job_kwargs(job, data)
    queue = JobQueue.objects.get(name=job_result.queue)
    return resend_job_result(job_result, job_kwargs, queue)


def resend_lost_tasks(stale_after, log=logger):
    """Find the steps whose task was lost and send each again. Returns how many were sent."""
    sent = 0
    for step_run in lost_step_runs(stale_after):
        log.warning("Step '%s' of run %s: its task (JobResult %s) was lost by the broker; sending it again",
                    step_run.step_name, step_run.run_id, step_run.job_result_id)  # fmt: skip
        try:
            resend(step_run)
        except Exception:
            log.exception("Could not send JobResult %s again", step_run.job_result_id)
            continue
        sent += 1
    return sent
