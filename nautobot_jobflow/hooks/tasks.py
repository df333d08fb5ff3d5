"""Celery tasks of hook rules (internal, not Jobs)."""

from nautobot.core.celery import app


@app.task(name="nautobot_jobflow.drain_hook_events", ignore_result=True)
def drain_hook_events():
    """Evaluate every queued change event; one drain at a time (see hooks.queue)."""
    from nautobot_jobflow.hooks.dispatch import drain

    drain()


@app.task(name="nautobot_jobflow.fire_hook_window", ignore_result=True)
def fire_hook_window(window_id):
    """Close one debounce/batch window and launch its run; safe to run any number of times."""
    from nautobot_jobflow.hooks.windows import fire_window

    fire_window(window_id)
