"""Runs and steps held for approval: what the engine does once approvals.decisions has decided their request.

The request's own state (LaunchRequest) is the approvals layer's; the run and step state changed here is the
engine's. Every function runs inside the caller's transaction, with the run row locked by the caller.
"""

from django.utils import timezone

from nautobot_jobflow.choices import StepRunStatusChoices, WorkflowRunStatusChoices
from nautobot_jobflow.engine.readiness import parent_run_id
from nautobot_jobflow.engine.run_state import set_awaiting_approval
from nautobot_jobflow.engine.runner import advance_after_commit
from nautobot_jobflow.engine.scheduling import schedule_advance
from nautobot_jobflow.launching.jobs import LaunchOutcome
from nautobot_jobflow.launching.permissions import check_target_runnable


def start_approved_run(run, user):
    """An approved Workflow launch: re-check ``user`` against the run's snapshot, then let the run start."""
    check_target_runnable(run.workflow, user, run.definition)
    run.status = WorkflowRunStatusChoices.PENDING
    run.save(update_fields=["status"])
    advance_after_commit(run.pk)
    return LaunchOutcome(run=run)


def release_step(run, step_run, job_result, now=None):
    """An approved step: its Job runs now as ``job_result``; the run resumes and the step's timeout counts."""
    step_run.job_result = job_result
    step_run.status = StepRunStatusChoices.RUNNING
    step_run.started = now or timezone.now()
    step_run.save(update_fields=["job_result", "status", "started"])
    _resume(run)
    timeout = run.definition["steps"].get(step_run.step_name, {}).get("timeout")
    if timeout:
        schedule_advance(run.pk, timeout + 1)


def end_held(run, step_run, message, now=None):
    """A request that will never run (denied, expired, canceled, failed to start): its step fails, or its run ends.

    ``step_run``: the held step (None when the request holds a whole Workflow launch, ``run``).
    """
    now = now or timezone.now()
    if step_run is not None:
        if step_run.status == StepRunStatusChoices.AWAITING_APPROVAL:
            step_run.status = StepRunStatusChoices.FAILED
            step_run.error = f"Step '{step_run.step_name}': {message}"
            step_run.finished = now
            step_run.save(update_fields=["status", "error", "finished"])
            _resume(run)
            advance_after_commit(run.pk)
    elif run is not None and run.status == WorkflowRunStatusChoices.AWAITING_APPROVAL and run.started is None:
        run.status = WorkflowRunStatusChoices.CANCELED
        run.error = f"Not run: {message}"
        run.finished = now
        run.save(update_fields=["status", "error", "finished"])
        parent_id = parent_run_id(run)
        if parent_id:
            advance_after_commit(parent_id)


def _resume(run):
    """After a held step is decided, the run is running again unless another step still awaits approval.

    (Or it awaits input, while an input step waits for answers: one query for both.)
    """
    if run is None or run.status != WorkflowRunStatusChoices.AWAITING_APPROVAL:
        return
    waiting = (StepRunStatusChoices.AWAITING_APPROVAL, StepRunStatusChoices.AWAITING_INPUT)
    statuses = set(run.step_runs.filter(status__in=waiting).values_list("status", flat=True).order_by().distinct())
    set_awaiting_approval(
        run, StepRunStatusChoices.AWAITING_APPROVAL in statuses, StepRunStatusChoices.AWAITING_INPUT in statuses
    )
