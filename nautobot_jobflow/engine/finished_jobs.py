"""How the engine learns that a step's Job finished: the JobResult's own save, in the worker that ran it.

Nautobot's worker saves the JobResult when the Job ends (SUCCESS, FAILURE, REVOKED). A post_save receiver, for final
states only and without a query of its own, asks for ``advance_after_job_result`` once the transaction commits: its
lock query finds the run whose step is still running with that JobResult (none for a JobResult of no workflow
step, or for a second save of the same finished one) and advances it in the same process, with the JobResult as
saved (not read again). If this is ever missed (worker killed between the save and the advance), the reconciler
advances the run later.
"""

import logging

from django.db import transaction
from nautobot.extras.choices import JobResultStatusChoices

from nautobot_jobflow.engine.runner import advance, advance_after_job_result

logger = logging.getLogger(__name__)


def on_job_result_saved(sender, instance, **kwargs):
    """post_save receiver for JobResult (connected in ``nautobot_jobflow.signals``)."""
    if instance.status in JobResultStatusChoices.READY_STATES:
        transaction.on_commit(lambda: _safely(advance_after_job_result, instance, f"of JobResult {instance.pk}"))


def advance_safely(run_id):
    """advance() that logs instead of raising (Celery tasks, the reconciler's follow-ups)."""
    _safely(advance, run_id, run_id)


def _safely(function, argument, which):
    """The JobResult's save must never fail because of us: log, and let the reconciler retry."""
    try:
        function(argument)
    except Exception:
        logger.exception("Could not advance workflow run %s; the reconciler will retry", which)
