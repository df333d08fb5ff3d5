"""Ask any Celery worker to advance a run later (retry backoff, step timeouts), by task name.

The task itself is defined with the app's other Celery tasks in ``nautobot_jobflow.tasks`` (the module Celery's
autodiscovery finds); sending it by name keeps the engine free of an import of that entry-point module.
"""

from django.db import transaction
from nautobot.core.celery import app

ADVANCE_RUN_TASK = "nautobot_jobflow.advance_run"


def schedule_advance(run_id, countdown):
    """Advance the run after ``countdown`` seconds, once the current transaction commits."""
    transaction.on_commit(lambda: app.send_task(ADVANCE_RUN_TASK, args=[str(run_id)], countdown=max(0, countdown)))
