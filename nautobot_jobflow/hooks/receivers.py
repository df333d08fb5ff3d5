"""Signal wiring of hook rules (called from the app's signals.connect)."""

from django.db.models.signals import m2m_changed, post_delete, post_save
from nautobot.extras.models import JobResult


def connect():
    """Event broker for changes, completion receivers, and rule-cache invalidation."""
    from nautobot_jobflow.hooks import broker, completion, tasks  # noqa: F401 - tasks registers the Celery tasks
    from nautobot_jobflow.hooks.registry import bump_generation
    from nautobot_jobflow.models import HookRule, WorkflowRun

    broker.connect()
    post_save.connect(completion.on_job_result_saved, sender=JobResult, dispatch_uid="jobflow-hooks-job-completion")
    post_save.connect(completion.on_workflow_run_saved, sender=WorkflowRun, dispatch_uid="jobflow-hooks-run-completion")
    post_save.connect(bump_generation, sender=HookRule, dispatch_uid="jobflow-hooks-rule-saved")
    post_delete.connect(bump_generation, sender=HookRule, dispatch_uid="jobflow-hooks-rule-deleted")
    for field in ("content_types", "completion_jobs", "completion_workflows"):
        m2m_changed.connect(
            bump_generation,
            sender=getattr(HookRule, field).through,
            dispatch_uid=f"jobflow-hooks-rule-{field}",
        )
