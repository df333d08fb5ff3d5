"""Every signal receiver of nautobot-jobflow, connected once from the AppConfig's ``ready()``.

The receivers live with the code that decides (engine, approvals, launching, hooks, seeding, events); this module only
wires them, so a reader finds here everything the app does on a save or a Nautobot signal.
"""

from django.db.models.signals import m2m_changed, post_delete, post_init, post_save, pre_delete, pre_save
from nautobot.core.signals import nautobot_database_ready
from nautobot.extras.models import ApprovalWorkflowStageResponse, JobResult

from nautobot_jobflow import events, seeding
from nautobot_jobflow.approvals import decisions
from nautobot_jobflow.engine import finished_jobs
from nautobot_jobflow.hooks import broker, completion_events
from nautobot_jobflow.hooks.registry import bump_generation
from nautobot_jobflow.launching import core_guard
from nautobot_jobflow.models import (
    ApprovalPolicy,
    HookRule,
    LaunchRequest,
    Workflow,
    WorkflowEdge,
    WorkflowRun,
    WorkflowStep,
    launch_request_decided,
)
from nautobot_jobflow.models.git_owned import refuse_git_managed_write


def connect(app_config):
    """Connect every receiver of the app. Called once from ``NautobotJobflowConfig.ready()``."""
    nautobot_database_ready.connect(seeding.seed_after_migrate, sender=app_config, dispatch_uid="jobflow-seed")
    post_save.connect(finished_jobs.on_job_result_saved, sender=JobResult, dispatch_uid="jobflow-job-result-completion")
    _connect_approvals()
    _connect_hooks()
    _connect_git_ownership()
    _connect_events()


def _connect_approvals():
    """Guard and audit core's approval responses on our requests; act on their final decisions."""
    pre_save.connect(decisions.guard_response, sender=ApprovalWorkflowStageResponse, dispatch_uid="jobflow-guard")
    pre_save.connect(core_guard.guard_core_job_result, sender=JobResult, dispatch_uid="jobflow-core-guard")
    post_save.connect(decisions.record_response, sender=ApprovalWorkflowStageResponse, dispatch_uid="jobflow-audit")
    launch_request_decided.connect(
        decisions.on_request_decided, sender=LaunchRequest, dispatch_uid="jobflow-request-decided"
    )


def _connect_hooks():
    """Hook rules: the change event broker, completion receivers and rule-cache invalidation."""
    broker.connect()
    post_save.connect(
        completion_events.on_job_result_saved, sender=JobResult, dispatch_uid="jobflow-hooks-job-completion"
    )
    post_save.connect(
        completion_events.on_workflow_run_saved, sender=WorkflowRun, dispatch_uid="jobflow-hooks-run-completion"
    )
    post_save.connect(bump_generation, sender=HookRule, dispatch_uid="jobflow-hooks-rule-saved")
    post_delete.connect(bump_generation, sender=HookRule, dispatch_uid="jobflow-hooks-rule-deleted")
    for field in ("content_types", "completion_jobs", "completion_workflows"):
        m2m_changed.connect(
            bump_generation, sender=getattr(HookRule, field).through, dispatch_uid=f"jobflow-hooks-rule-{field}"
        )


def _connect_git_ownership():
    """Definitions a Git repository owns (and a workflow's steps and edges) are written only by its sync."""
    for model in (Workflow, WorkflowStep, WorkflowEdge, HookRule, ApprovalPolicy):
        label = model._meta.model_name
        pre_save.connect(refuse_git_managed_write, sender=model, dispatch_uid=f"jobflow-git-owned-save-{label}")
        pre_delete.connect(refuse_git_managed_write, sender=model, dispatch_uid=f"jobflow-git-owned-delete-{label}")


def _connect_events():
    """Events on Nautobot's event broker: keep each row's loaded status, publish its transitions after commit."""
    for model in events.STATUS_MODELS:
        post_init.connect(events.remember_status, sender=model, dispatch_uid=f"jobflow-events-{model._meta.model_name}")
    for model, receiver in events.RECEIVERS.items():
        post_save.connect(receiver, sender=model, dispatch_uid=f"jobflow-events-{model._meta.model_name}-saved")
