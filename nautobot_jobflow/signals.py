"""Signal wiring for nautobot-jobflow; connected from the AppConfig's ``ready()``."""

from nautobot.core.signals import nautobot_database_ready


def connect(app_config):
    """Connect every receiver of the app. Called once from ``NautobotJobflowConfig.ready()``."""
    from nautobot_jobflow import setup
    from nautobot_jobflow.engine import completion, tasks  # noqa: F401 - tasks registers the Celery task

    nautobot_database_ready.connect(setup.seed_after_migrate, sender=app_config, dispatch_uid="jobflow-seed")
    completion.connect()
    connect_hooks()


def connect_hooks():
    """Hook rules (issue 6): the change event broker, completion receivers and rule-cache invalidation."""
    from nautobot_jobflow.hooks import receivers

    receivers.connect()
