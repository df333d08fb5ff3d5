"""What a finished attempt reports: the error text of a failed JobResult, a nested run's results, capped text."""

from nautobot.extras.choices import JobCancelTypeChoices, JobResultStatusChoices

MAX_ERROR_CHARS = 4000


def truncate(text):
    """``text`` capped at MAX_ERROR_CHARS, marked when cut."""
    text = str(text or "")
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 20] + "\n… (truncated)"


def job_error(job_result):
    """One message saying why a finished JobResult did not succeed."""
    if job_result.status == JobResultStatusChoices.STATUS_REVOKED:
        if job_result.cancel_type == JobCancelTypeChoices.TYPE_REAPED:
            return (
                f"Job result {job_result.pk} was reaped: no worker was running it any more "
                "(its worker died or lost its connections before it finished)."
            )
        return f"Job result {job_result.pk} was canceled."
    traceback = (job_result.traceback or "").strip()
    if traceback:
        return truncate(f"Job failed: {traceback.splitlines()[-1]}")
    # An error outside the Job's code (e.g. the worker lost its database connection) leaves no traceback, only
    # Celery's exception info in the result.
    result = job_result.result if isinstance(job_result.result, dict) else {}
    if result.get("exc_type"):
        message = result.get("exc_message") or ""
        message = " ".join(map(str, message)) if isinstance(message, (list, tuple)) else str(message)
        return truncate(f"Job failed outside its code: {result['exc_type']}: {message}")
    return "Job failed: the Job failed without a traceback."


def child_run_results(run):
    """A nested run's outcome as its parent step's result: the run's outputs (by default every step's result)."""
    if run.result is not None:
        return run.result
    return {
        step_run.step_name: step_run.result
        for step_run in run.step_runs.filter(item_index__isnull=True).order_by("step_name", "attempt")
        if step_run.is_final
    }
