"""How the engine learns that a step's Job finished: the JobResult's own save, in the worker that ran it.

Nautobot's worker saves the JobResult when the Job ends (SUCCESS, FAILURE, REVOKED). A post_save receiver looks up
(one indexed query, only for final states) whether that JobResult belongs to a workflow step and, after the
transaction commits, advances that run in the same process. If this is ever missed (worker killed between the
save and the advance), the reconciler advances the run later.
"""

import logging

from django.db import transaction
from django.db.models.signals import post_save
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import JobResult

logger = logging.getLogger(__name__)


def on_job_result_saved(sender, instance, **kwargs):
    """post_save receiver for JobResult."""
    if instance.status not in JobResultStatusChoices.READY_STATES:
        return
    from nautobot_jobflow.choices import StepRunStatusChoices
    from nautobot_jobflow.models import WorkflowStepRun

    # Only while the step is still marked running: a second save of the same finished JobResult is a no-op.
    run_id = (
        WorkflowStepRun.objects.filter(job_result_id=instance.pk, status=StepRunStatusChoices.RUNNING)
        .values_list("run_id", flat=True)
        .first()
    )
    if run_id is not None:
        transaction.on_commit(lambda: advance_safely(run_id))


def advance_safely(run_id):
    """advance() that logs instead of raising: the JobResult's save must never fail because of us."""
    from nautobot_jobflow.engine.runner import advance

    try:
        advance(run_id)
    except Exception:
        logger.exception("Could not advance workflow run %s; the reconciler will retry", run_id)


def connect():
    """Connect the receiver (from the AppConfig's ready())."""
    post_save.connect(on_job_result_saved, sender=JobResult, dispatch_uid="jobflow-job-result-completion")
