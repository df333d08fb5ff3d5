"""Data seeded after every ``nautobot-server migrate``: the app's Jobs enabled, its job buttons created."""

import logging

logger = logging.getLogger(__name__)


def enable_app_jobs():
    """Enable the app's own Jobs (Nautobot installs new Jobs disabled). Returns how many were enabled."""
    from nautobot.extras.models import Job

    return Job.objects.filter(module_name__startswith="nautobot_jobflow.", enabled=False).update(enabled=True)


def seed_after_migrate(sender, **kwargs):
    """``nautobot_database_ready`` receiver: idempotent seeding (get_or_create only, never overwrite)."""
    enabled = enable_app_jobs()
    if enabled:
        logger.info("nautobot-jobflow: enabled %d job(s)", enabled)
