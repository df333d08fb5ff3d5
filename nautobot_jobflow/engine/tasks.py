"""Celery tasks of the engine (internal, not Jobs): advance a run later (retry backoff, timeouts)."""

from nautobot.core.celery import app


@app.task(name="nautobot_jobflow.advance_run", ignore_result=True)
def advance_run_task(run_id):
    """Advance one workflow run; safe to run any number of times."""
    from nautobot_jobflow.engine.completion import advance_safely

    advance_safely(run_id)
