"""Signal wiring for nautobot-jobflow; connected from the AppConfig's ``ready()``."""

from nautobot.core.signals import nautobot_database_ready


def connect(app_config):
    """Connect every receiver of the app. Called once from ``NautobotJobflowConfig.ready()``."""
    from nautobot_jobflow import setup
    from nautobot_jobflow.engine import completion, tasks  # noqa: F401 - tasks registers the Celery task

    nautobot_database_ready.connect(setup.seed_after_migrate, sender=app_config, dispatch_uid="jobflow-seed")
    completion.connect()
    _connect_approvals()
    connect_hooks()


def _connect_approvals():
    """Guard and audit core's approval responses when they decide one of our launch requests."""
    from django.db.models.signals import post_save, pre_save
    from nautobot.extras.models import ApprovalWorkflowStageResponse, JobResult

    from nautobot_jobflow.approvals import core_guard, decisions

    pre_save.connect(decisions.guard_response, sender=ApprovalWorkflowStageResponse, dispatch_uid="jobflow-guard")
    pre_save.connect(core_guard.guard_core_job_result, sender=JobResult, dispatch_uid="jobflow-core-guard")
    post_save.connect(decisions.record_response, sender=ApprovalWorkflowStageResponse, dispatch_uid="jobflow-audit")


def connect_hooks():
    """Hook rules (issue 6): the change event broker, completion receivers and rule-cache invalidation."""
    from nautobot_jobflow.hooks import receivers

    receivers.connect()
