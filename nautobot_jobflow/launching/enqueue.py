"""The app's one call of ``JobResult.enqueue_job``, and the mark that tells core's guard the launch was gated."""

import contextlib
import contextvars

from nautobot.extras.models import JobResult

_launching = contextvars.ContextVar("jobflow_launching", default=False)


@contextlib.contextmanager
def jobflow_launch():
    """Mark JobResults created inside this block as made by Jobflow's launch (already gated)."""
    token = _launching.set(True)
    try:
        yield
    finally:
        _launching.reset(token)


def inside_jobflow_launch():
    """True while ``jobflow_launch()`` is active in this context (read by ``launching.core_guard``)."""
    return _launching.get()


def enqueue(job, user, job_kwargs, job_queue=None):
    """Send a new JobResult for ``job`` (already gated by the caller).

    Without a queue, the Job's default queue, as enqueue_job would pick; passed in, so that a caller that loaded it
    with the Job (the engine, once per advance) spares enqueue_job a query per launch.
    """
    with jobflow_launch():
        return JobResult.enqueue_job(job, user, job_kwargs=job_kwargs, job_queue=job_queue or job.default_job_queue)


def resend_job_result(job_result, job_kwargs, job_queue):
    """Send a PENDING JobResult whose task was lost again (the reconciler); not a new launch, so no gate."""
    with jobflow_launch():
        return JobResult.enqueue_job(
            job_result.job_model, job_result.user, job_kwargs=job_kwargs, job_queue=job_queue, job_result=job_result
        )
