"""Data seeded after every ``nautobot-server migrate``: the app's Jobs enabled, the reconciler scheduled.

Everything here is idempotent (get_or_create, never overwrite what an administrator changed).
"""

import logging

logger = logging.getLogger(__name__)

RECONCILER_SCHEDULE_NAME = "Jobflow: reconcile workflow runs"
RECONCILER_CRONTAB = "* * * * *"


def enable_app_jobs():
    """Enable the app's own Jobs (Nautobot installs new Jobs disabled). Returns how many were enabled."""
    from nautobot.extras.models import Job

    return Job.objects.filter(module_name__startswith="nautobot_jobflow.", enabled=False).update(enabled=True)


def ensure_reconciler_schedule():
    """Schedule the "Reconcile Workflow Runs" Job every minute, owned by the first superuser.

    Nautobot's scheduler runs a scheduled Job as a user, so the schedule is created once a superuser exists (the
    next migrate, or `invoke start`, creates it otherwise). Returns the ScheduledJob or None.
    """
    from django.contrib.auth import get_user_model
    from nautobot.extras.choices import JobExecutionType
    from nautobot.extras.models import Job, ScheduledJob

    existing = ScheduledJob.objects.filter(name=RECONCILER_SCHEDULE_NAME).first()
    if existing is not None:
        return existing
    job = Job.objects.filter(
        module_name="nautobot_jobflow.jobs.workflows", job_class_name="ReconcileWorkflowRuns"
    ).first()
    owner = get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("date_joined").first()
    if job is None or owner is None:
        logger.info("nautobot-jobflow: reconciler not scheduled yet (needs its Job row and a superuser)")
        return None
    return ScheduledJob.create_schedule(
        job,
        owner,
        name=RECONCILER_SCHEDULE_NAME,
        interval=JobExecutionType.TYPE_CUSTOM,
        crontab=RECONCILER_CRONTAB,
        job_kwargs={"stale_after": 60},
    )


def seed_after_migrate(sender, **kwargs):
    """``nautobot_database_ready`` receiver: idempotent seeding."""
    enabled = enable_app_jobs()
    if enabled:
        logger.info("nautobot-jobflow: enabled %d job(s)", enabled)
    ensure_reconciler_schedule()
