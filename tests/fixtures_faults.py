"""Helpers for fault tests: a Celery queue only a dedicated worker consumes, and waiting for steps to start."""

from nautobot.extras.choices import JobQueueTypeChoices, JobResultStatusChoices
from nautobot.extras.models import JobQueue

from nautobot_jobflow.models import WorkflowStepRun
from tests.fixtures import wait_for

FAULT_QUEUE = "jobflow-faults"


def fault_queue():
    """The JobQueue that only the test's own (killable) worker consumes, so no other worker takes its steps."""
    queue, _ = JobQueue.objects.get_or_create(
        name=FAULT_QUEUE, defaults={"queue_type": JobQueueTypeChoices.TYPE_CELERY}
    )
    return queue


def wait_until_started(run, step_names, timeout=60):
    """Wait until each named step's Job is running on a worker (its JobResult is STARTED)."""

    def started():
        return set(
            WorkflowStepRun.objects.filter(
                run=run, step_name__in=step_names, job_result__status=JobResultStatusChoices.STATUS_STARTED
            ).values_list("step_name", flat=True)
        ) == set(step_names)

    wait_for(started, timeout=timeout, message=f"steps {sorted(step_names)} started on the worker")
