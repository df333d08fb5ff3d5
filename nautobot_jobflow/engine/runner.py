"""advance(): move a workflow run forward. Safe to call any number of times, from any process.

All run state is in PostgreSQL. ``advance`` locks the run row (SELECT ... FOR UPDATE), so two workers finishing
two parents of a fan-in step at the same moment are serialised: the second sees the step already started and
does nothing. A unique constraint on (run, step, attempt) backs this up at the database level.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Exists
from django.utils import timezone
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import Job, JobResult

from nautobot_jobflow.choices import (
    EdgeTriggerChoices,
    JoinModeChoices,
    StepRunStatusChoices,
    WorkflowRunStatusChoices,
)
from nautobot_jobflow.engine.outcomes import child_run_results, job_error, truncate
from nautobot_jobflow.engine.step_launch import StepLauncher, StepSkipped
from nautobot_jobflow.engine.templates import TemplateProblem, evaluate_condition, render_mapping
from nautobot_jobflow.models import ApprovalPolicy, WorkflowRun, WorkflowStepRun

logger = logging.getLogger(__name__)

S = StepRunStatusChoices
R = WorkflowRunStatusChoices
# What starting an attempt writes on a step run that already exists (a retry); a new one is inserted whole.
LAUNCH_FIELDS = ["started", "status", "rendered_inputs", "job_result"]


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
        lambda: _locked_run(step_runs__job_result_id=job_result.pk, step_runs__status=S.RUNNING), job_result
    )


def _advance(lock, finished_job_result):
    follow_ups = []
    with transaction.atomic():
        run = lock()
        if run is None or run.status in R.FINAL:
            return run
        if run.status == R.AWAITING_APPROVAL and run.started is None:
            return run  # the launch itself awaits approval: nothing runs yet
        if run.status == R.PENDING:
            run.status = R.RUNNING
            run.started = timezone.now()
            run.save(update_fields=["status", "started"])
        state = RunState(run, finished_job_result)
        state.sync()
        state.start_ready_steps()
        state.finish_if_done()
        state.mark_awaiting_approval()
        state.insert_new_step_runs()
        follow_ups = state.follow_ups
    for callback in follow_ups:
        callback()
    return run


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


def _store(step_run, fields):
    """Save a step run: INSERT a new one with every field, else UPDATE only ``fields``."""
    if step_run._state.adding:
        step_run.save()
    else:
        step_run.save(update_fields=fields)


def schedule_advance(run_id, countdown):
    """Ask any worker to advance the run after ``countdown`` seconds (retry backoff, step timeouts)."""
    from nautobot_jobflow.engine.tasks import advance_run_task

    transaction.on_commit(lambda: advance_run_task.apply_async(args=[str(run_id)], countdown=max(0, countdown)))


class RunState:
    """The run's snapshot and its step runs, loaded once per advance() under the run's row lock."""

    def __init__(self, run, finished_job_result=None):
        self.run = run
        self.definition = run.definition
        self.steps = self.definition["steps"]
        self.incoming = {name: [] for name in self.steps}
        self.outgoing = {name: [] for name in self.steps}
        for edge in self.definition["edges"]:
            self.incoming[edge["target"]].append(edge)
            self.outgoing[edge["source"]].append(edge)
        self.latest = {}
        for step_run in run.step_runs.order_by("step_name", "attempt"):
            self.latest[step_run.step_name] = step_run
        # The JobResults of running attempts that have finished, with only the fields the engine reads. One still
        # pending or started changes nothing here (a timeout loads it to cancel it): in a 100-way fan-out each
        # completion reads the one or two finished JobResults, not the hundred still queued.
        running = {sr.job_result_id for sr in self.latest.values() if sr.status == S.RUNNING and sr.job_result_id}
        self.job_results = {}
        if finished_job_result is not None and finished_job_result.pk in running:
            self.job_results[finished_job_result.pk] = finished_job_result
            running.discard(finished_job_result.pk)
        if running:
            job_results = JobResult.objects.filter(pk__in=running, status__in=JobResultStatusChoices.READY_STATES).only(
                "pk", "status", "result", "traceback", "celery_kwargs", "cancel_type"
            )
            self.job_results.update((job_result.pk, job_result) for job_result in job_results)
        self.now = timezone.now()
        self.follow_ups = []
        self.launcher = StepLauncher(run)
        self._new_step_runs = []  # started steps, inserted together at the end of the advance

    # ---------------------------------------------------------------------------------------------- context
    def context(self):
        """Template context: inputs, steps.<name>.result/status/error of steps that ran, and the run."""
        steps = {
            name: {"status": step_run.status, "result": step_run.result, "error": step_run.error}
            for name, step_run in self.latest.items()
            if step_run.is_final
        }
        return {
            "inputs": self.run.inputs,
            "steps": steps,
            "run": {"id": str(self.run.pk), "dryrun": self.run.dryrun, "workflow": self.run.workflow_name},
        }

    def settled(self, name):
        """True when the step's latest attempt is over and no retry will follow."""
        step_run = self.latest.get(name)
        return step_run is not None and step_run.is_final

    # ---------------------------------------------------------------------------------------------- sync
    def sync(self):
        """Bring running attempts up to date from their JobResults / nested runs; apply timeouts and retries."""
        for name, step_run in list(self.latest.items()):
            if step_run.status == S.RUNNING:
                self._sync_running(name, step_run)
            elif self._retry_due(step_run):
                self._launch_attempt(name, step_run)

    def _retry_due(self, step_run):
        """A retry attempt waiting for its backoff, whose time has come."""
        return (
            step_run.status == S.PENDING
            and step_run.job_result_id is None
            and (step_run.not_before is None or step_run.not_before <= self.now)
            and not step_run.child_runs.exists()
        )

    def _sync_running(self, name, step_run):
        spec = self.steps[name]
        if step_run.job_result_id:
            job_result = self.job_results.get(step_run.job_result_id)  # None: not finished
            if job_result is None:
                if self._timed_out(spec, step_run):
                    self._cancel_job_result(step_run.job_result, reason="timeout")
                    self._finish_attempt(
                        step_run, S.TIMED_OUT, error=f"Step '{name}' exceeded its timeout of {spec['timeout']}s."
                    )
            elif job_result.status == JobResultStatusChoices.STATUS_SUCCESS:
                self._finish_attempt(step_run, S.SUCCEEDED, result=job_result.result)
            else:
                self._finish_attempt(step_run, S.FAILED, error=job_error(job_result))
        else:
            child = step_run.child_runs.order_by("-created").first()
            if child is not None and child.status in R.FINAL:
                status = {R.SUCCEEDED: S.SUCCEEDED, R.CANCELED: S.CANCELED}.get(child.status, S.FAILED)
                self._finish_attempt(step_run, status, result=child_run_results(child), error=child.error)
            elif self._timed_out(spec, step_run):
                if child is not None:
                    from nautobot_jobflow.engine.control import cancel_run

                    self.follow_ups.append(lambda child=child: cancel_run(child, self.run.user, reason="timeout"))
                self._finish_attempt(
                    step_run, S.TIMED_OUT, error=f"Step '{name}' exceeded its timeout of {spec['timeout']}s."
                )
        if step_run.status in S.FAILURES:
            self._maybe_retry(name, step_run)

    def _timed_out(self, spec, step_run):
        return (
            bool(spec.get("timeout"))
            and step_run.started
            and step_run.started + timedelta(seconds=spec["timeout"]) <= self.now
        )

    def _cancel_job_result(self, job_result, reason):
        from nautobot.extras.jobs_cancel import CancelFactory

        user = self.run.user

        def cancel():
            try:
                CancelFactory.get_strategy(job_result.queue_type).cancel(job_result, user=user)
            except Exception:  # the step is already marked; a failed cancel is logged, not fatal
                logger.exception("Could not cancel JobResult %s (%s)", job_result.pk, reason)

        self.follow_ups.append(cancel)

    def _finish_attempt(self, step_run, status, result=None, error=""):
        step_run.status = status
        step_run.result = result
        step_run.error = truncate(error)
        step_run.finished = self.now
        # started and rendered_inputs too: an attempt that ends before its launch has not stored them yet
        _store(step_run, ["status", "result", "error", "finished", "started", "rendered_inputs"])

    def _maybe_retry(self, name, step_run):
        spec = self.steps[name]
        if step_run.attempt > spec.get("max_retries", 0):
            return
        delay = (spec.get("retry_backoff") or 0) * (2 ** (step_run.attempt - 1))
        retry = WorkflowStepRun.objects.create(
            run=self.run,
            step_name=name,
            attempt=step_run.attempt + 1,
            status=S.PENDING,
            rendered_inputs=step_run.rendered_inputs,
            not_before=self.now + timedelta(seconds=delay),
        )
        self.latest[name] = retry
        if delay:
            schedule_advance(self.run.pk, delay)
        else:
            self._launch_attempt(name, retry)

    # ---------------------------------------------------------------------------------------------- readiness
    def edge_state(self, edge):
        """'fired', 'dead' or 'waiting' for one incoming edge."""
        source = edge["source"]
        if not self.settled(source):
            return "waiting"
        source_run = self.latest[source]
        if source_run.status in (S.SKIPPED, S.CANCELED):
            return "dead"
        trigger = edge["trigger"]
        if trigger == EdgeTriggerChoices.ON_SUCCESS:
            return "fired" if source_run.status == S.SUCCEEDED else "dead"
        if trigger == EdgeTriggerChoices.ON_FAILURE:
            return "fired" if source_run.status in S.FAILURES else "dead"
        if trigger == EdgeTriggerChoices.ALWAYS:
            return "fired"
        label = f"condition of edge {source} → {edge['target']}"
        return "fired" if evaluate_condition(edge["condition"], self.context(), label) else "dead"

    def start_ready_steps(self):
        """Start (or skip) every step that has not started and whose incoming edges are decided."""
        for name in self.definition["order"]:
            if name in self.latest:
                continue
            edges = self.incoming[name]
            if not edges:
                self._start_step(name)
                continue
            try:
                states = [self.edge_state(edge) for edge in edges]
            except TemplateProblem as problem:
                self._record_step(name, S.FAILED, error=str(problem))
                continue
            join_any = self.steps[name].get("join_mode") == JoinModeChoices.ANY
            if (join_any and "fired" in states) or (not join_any and all(state == "fired" for state in states)):
                self._start_step(name)
            elif "waiting" in states:
                continue
            else:
                dead = [edge["source"] for edge, state in zip(edges, states, strict=True) if state == "dead"]
                self._record_step(name, S.SKIPPED, error=f"Skipped: the edge(s) from {', '.join(dead)} did not fire.")

    def _record_step(self, name, status, error="", result=None, **fields):
        step_run = WorkflowStepRun.objects.create(
            run=self.run,
            step_name=name,
            attempt=1,
            status=status,
            error=truncate(error),
            result=result,
            started=self.now,
            finished=self.now,
            **fields,
        )
        self.latest[name] = step_run
        # A step that ends without running may make its own children ready in this same pass.
        return step_run

    def _start_step(self, name):
        reused = self._reusable_result(name)
        if reused is not None:
            self._record_step(
                name, S.SUCCEEDED, result=reused.result, reused_from=reused, rendered_inputs=reused.rendered_inputs
            )
            return
        # Not saved yet: _launch_attempt inserts it once, with its JobResult, instead of insert + two updates.
        step_run = WorkflowStepRun(run=self.run, step_name=name, attempt=1, status=S.PENDING)
        self.latest[name] = step_run
        self._launch_attempt(name, step_run)

    def _reusable_result(self, name):
        """For a rerun: the succeeded step run of the original run to keep, if this step is not to run again."""
        keep = (self.definition.get("rerun") or {}).get("keep", {})
        if name not in keep:
            return None
        return WorkflowStepRun.objects.filter(pk=keep[name]).first()

    def _launch_attempt(self, name, step_run):
        """Render the step's inputs and start its Job (or nested workflow); failures end the attempt cleanly.

        ``step_run`` is a retry attempt already saved, or a new one not saved yet; a new one is written once, with
        its JobResult, by ``insert_new_step_runs`` at the end of the advance (the task is sent only when the
        transaction commits). It is saved before the launch only when something must point at it: an approval
        request (some policy is enabled) or a nested run.
        """
        from nautobot_jobflow.launch import LaunchForbidden, LaunchRefused, refusal_text, start_child_run

        spec = self.steps[name]
        step_run.started = self.now
        step_run.status = S.RUNNING
        try:
            rendered = render_mapping(spec["input_templates"], self.context())
        except TemplateProblem as problem:
            self._finish_attempt(step_run, S.FAILED, error=f"Step '{name}': {problem}")
            return
        step_run.rendered_inputs = rendered
        try:
            if spec["job"]:
                job, job_kwargs = self.launcher.job_kwargs(name, spec["job"], rendered)
                if self.launcher.policies():  # a policy may hold the step: its launch request points at the step run
                    _store(step_run, LAUNCH_FIELDS)
                outcome = self.launcher.start(job, job_kwargs, spec.get("job_queue"), step_run)
                if outcome.approval_required:
                    step_run.status = S.AWAITING_APPROVAL
                    step_run.save(update_fields=["status"])
                    return
                step_run.job_result = outcome.job_result
                if step_run._state.adding:
                    self._new_step_runs.append(step_run)
                else:
                    step_run.save(update_fields=LAUNCH_FIELDS)
            else:
                _store(step_run, LAUNCH_FIELDS)  # the nested run points at it
                start_child_run(spec, rendered, self.run, step_run)
        except StepSkipped as skipped:
            self._finish_attempt(step_run, S.SKIPPED, error=str(skipped))
            return
        except Job.DoesNotExist:
            self._finish_attempt(step_run, S.FAILED, error=f"Step '{name}': its Job no longer exists.")
            return
        except (LaunchRefused, LaunchForbidden) as problem:
            self._finish_attempt(step_run, S.FAILED, error=f"Step '{name}': {refusal_text(problem)}")
            return
        if spec.get("timeout"):
            schedule_advance(self.run.pk, spec["timeout"] + 1)

    def insert_new_step_runs(self):
        """One INSERT for every step started in this advance (a 100-way fan-out writes one statement, not 100)."""
        if self._new_step_runs:
            WorkflowStepRun.objects.bulk_create(self._new_step_runs)

    def mark_awaiting_approval(self):
        """A running run with a step held for approval shows 'awaiting approval' until that step is decided."""
        if self.run.status in R.FINAL:
            return
        awaiting = any(step_run.status == S.AWAITING_APPROVAL for step_run in self.latest.values())
        status = R.AWAITING_APPROVAL if awaiting else R.RUNNING
        if self.run.status != status:
            self.run.status = status
            self.run.save(update_fields=["status"])

    # ---------------------------------------------------------------------------------------------- finish
    def finish_if_done(self):
        """When every step is settled: the run fails if a failure was not handled by an edge, else succeeds."""
        # Steps skipped or failed in this pass may have made others ready: loop until nothing changes.
        while True:
            before = len(self.latest)
            self.start_ready_steps()
            if len(self.latest) == before:
                break
        if len(self.latest) < len(self.steps) or not all(self.settled(name) for name in self.steps):
            return
        unhandled = [
            name
            for name, step_run in self.latest.items()
            if step_run.status in S.FAILURES and not self._failure_handled(name)
        ]
        self.run.status = R.FAILED if unhandled else R.SUCCEEDED
        if unhandled:
            details = "; ".join(f"{name}: {self.latest[name].error}" for name in sorted(unhandled))
            self.run.error = truncate(f"Failed step(s): {details}")
        self.run.finished = self.now
        self.run.save(update_fields=["status", "error", "finished"])
        self._notify_parent()

    def _failure_handled(self, name):
        """A failed step is handled when one of its outgoing edges fired (an on-failure or always branch)."""
        for edge in self.outgoing[name]:
            try:
                if self.edge_state(edge) == "fired":
                    return True
            except TemplateProblem:
                continue
        return False

    def _notify_parent(self):
        parent_step_run_id = self.run.parent_step_run_id
        if parent_step_run_id:
            parent_run_id = (
                WorkflowStepRun.objects.filter(pk=parent_step_run_id).values_list("run_id", flat=True).first()
            )
            if parent_run_id:
                self.follow_ups.append(lambda: transaction.on_commit(lambda: advance(parent_run_id)))
