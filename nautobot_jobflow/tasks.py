"""The app's Celery tasks (internal, not Jobs), in the one module Celery's autodiscovery finds.

The engine and the hook queue send them by name (``engine.scheduling``, ``hooks.queue``, ``hooks.windows``), so
they need no import of this module; a worker registers them when Celery autodiscovers ``nautobot_jobflow.tasks``.
"""

from nautobot.core.celery import app

from nautobot_jobflow.engine.finished_jobs import advance_safely
from nautobot_jobflow.engine.scheduling import ADVANCE_RUN_TASK
from nautobot_jobflow.hooks.dispatch import drain
from nautobot_jobflow.hooks.queue import DRAIN_TASK
from nautobot_jobflow.hooks.windows import FIRE_WINDOW_TASK, fire_window


@app.task(name=ADVANCE_RUN_TASK, ignore_result=True)
def advance_run_task(run_id):
    """Advance one workflow run; safe to run any number of times."""
    advance_safely(run_id)


@app.task(name=DRAIN_TASK, ignore_result=True)
def drain_hook_events():
    """Evaluate every queued change event; one drain at a time (see hooks.queue)."""
    drain()


@app.task(name=FIRE_WINDOW_TASK, ignore_result=True)
def fire_hook_window(window_id):
    """Close one debounce/batch window and launch its run; safe to run any number of times."""
    fire_window(window_id)
