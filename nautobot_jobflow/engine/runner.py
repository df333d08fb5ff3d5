"""advance(): move a workflow run forward; cancel_run(): stop it. Safe to call any number of times, from any process.

All run state is in PostgreSQL. ``advance`` locks the run row (SELECT ... FOR UPDATE), so two workers finishing
two parents of a fan-in step at the same moment are serialised: the second sees the step already started and
does nothing. A unique constraint on (run, step, attempt) backs this up at the database level.
"""

import contextlib

from django.db import transaction
from django.db.models import Exists
from django.utils import timezone
from nautobot.extras.jobs_cancel import CancelFactory

from nautobot_jobflow.choices import StepRunStatusChoices, WorkflowRunStatusChoices
from nautobot_jobflow.engine.concurrency_keys import release, runs_to_wake
from nautobot_jobflow.engine.readiness import parent_run_id
from nautobot_jobflow.engine.run_state import RunState
from nautobot_jobflow.launching.approval_hold import close_run_requests
from nautobot_jobflow.lib.errors import LaunchRefused
from nautobot_jobflow.models import ApprovalPolicy, WorkflowRun

STEP = StepRunStatusChoices
RUN = WorkflowRunStatusChoices


def advance(run_id, finished_job_result=None):
    """Sync running steps, start every step that is ready, finish the run when nothing is left. Returns the run.

    ``finished_job_result``: a step's JobResult the caller already holds in its final state (spares reading it).
    """
    return _advance(lambda: _locked_run(pk=run_id), finished_job_result)


def advance_after_job_result(job_result):
    """A JobResult reached a final state: advance the run of the step it belongs to, if that step still runs.

    Finding the run is part of the lock query, so a JobResult of no workflow step costs that one query and nothing
    else, and a step's costs no query more than advance() itself. Returns the run, or None.
    """
    return _advance(
        lambda: _locked_run(step_runs__job_result_id=job_result.pk, step_runs__status=STEP.RUNNING), job_result
    )


def advance_after_commit(run_id):
    """Advance the run once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: advance(run_id))


def _advance(lock, finished_job_result):
    with transaction.atomic():
        run = lock()
        if run is None or run.status in RUN.FINAL:
            return run
        if run.status == RUN.AWAITING_APPROVAL and run.started is None:
            return run  # the launch itself awaits approval: nothing runs yet
        if run.status == RUN.PENDING:
            run.status = RUN.RUNNING
            run.started = timezone.now()
            run.save(update_fields=["status", "started"])
        state = RunState(run, finished_job_result, paused=run.status == RUN.PAUSED)
        state.sync()
        if not state.paused:  # a paused run's running attempts finish (and time out); nothing new starts
            state.start_ready_steps()
            state.finish_if_done()
            state.mark_awaiting_approval()
        state.insert_new_step_runs()
    for child_id in state.runs_to_advance:
        advance_after_commit(child_id)
    for callback in state.follow_ups:
        callback()
    for child in state.children_to_cancel:
        cancel_run(child, run.user, reason="timeout")
    if state.parent_to_advance:
        advance_after_commit(state.parent_to_advance)
    wake_waiters(state.freed_keys)
    return run


def wake_waiters(keys):
    """Advance the runs whose attempts waited longest for these freed concurrency keys (after commit)."""
    for run_id in runs_to_wake(keys):
        advance_after_commit(run_id)


def _locked_run(**lookup):
    """The run, row-locked, with its user and whether any approval policy is enabled, in one query.

    Only the run row is locked (``of=self``). The policy flag spares a step the policy query when no policy is
    enabled (the common case); the user is needed by every step launch.
    """
    return (
        WorkflowRun.objects.select_for_update(of=("self",))
        .select_related("user")
        .annotate(has_enabled_policies=Exists(ApprovalPolicy.objects.filter(enabled=True)))
        .filter(**lookup)
        .first()
    )


def pause_run(run, user):
    """Pause an active run that has started: no new step or item starts, running ones finish. Returns the run."""
    with transaction.atomic():
        run = WorkflowRun.objects.select_for_update().get(pk=run.pk)
        if run.status == RUN.PAUSED:
            raise LaunchRefused({"status": "The run is already paused."})
        if run.status not in (RUN.RUNNING, RUN.AWAITING_APPROVAL, RUN.AWAITING_INPUT) or run.started is None:
            raise LaunchRefused(
                {"status": f"Only a running run can be paused; this one is {run.get_status_display()}."}
            )
        run.status = RUN.PAUSED
        run.save(update_fields=["status"])
    return run


def resume_run(run, user):
    """Resume a paused run: it goes on where it stopped (retries due, ready steps and items start now)."""
    with transaction.atomic():
        run = WorkflowRun.objects.select_for_update().get(pk=run.pk)
        if run.status != RUN.PAUSED:
            raise LaunchRefused(
                {"status": f"Only a paused run can be resumed; this one is {run.get_status_display()}."}
            )
        run.status = RUN.RUNNING
        run.save(update_fields=["status"])
    return advance(run.pk)


def cancel_run(run, user, reason="canceled"):
    """Cancel a run: its running JobResults through Nautobot's own cancel, nested runs, and every active step."""
    job_results, children, canceled = [], [], []
    with transaction.atomic():
        run = WorkflowRun.objects.select_for_update().get(pk=run.pk)
        if run.status in RUN.FINAL:
            raise LaunchRefused({"status": f"The run is already {run.get_status_display().lower()}."})
        now = timezone.now()
        who = f" by {user}" if user else ""
        message = f"Timed out{who}." if reason == "timeout" else f"Canceled{who}."
        for step_run in run.step_runs.filter(status__in=STEP.ACTIVE).select_related("job_result"):
            if step_run.job_result_id and step_run.job_result.is_unready_state:
                job_results.append(step_run.job_result)
            children.extend(step_run.child_runs.filter(status__in=RUN.ACTIVE))
            step_run.status = STEP.CANCELED
            step_run.error = message
            step_run.finished = now
            step_run.save(update_fields=["status", "error", "finished"])
            canceled.append(step_run)
        freed_keys = release(canceled)
        close_run_requests(run, user)
        run.status = RUN.CANCELED
        run.error = message
        run.finished = now
        run.save(update_fields=["status", "error", "finished"])
        parent_id = parent_run_id(run)
    for job_result in job_results:
        CancelFactory.get_strategy(job_result.queue_type).cancel(job_result, user=user or run.user)
    for child in children:
        if child.status in RUN.ACTIVE:
            with contextlib.suppress(LaunchRefused):  # it may have finished in the meantime
                cancel_run(child, user, reason)
    if parent_id:
        advance(parent_id)
    wake_waiters(freed_keys)
    return run
