"""The state of one run under its row lock: which steps finished, which are ready, what to start, when it ends.

``RunState`` is loaded once per ``advance()`` (engine.runner) and writes step runs and the run's status. What must
happen outside the lock (cancel a JobResult or a nested run, advance another run) it records for the runner.
"""

import logging
from collections import defaultdict
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.jobs_cancel import CancelFactory
from nautobot.extras.models import Job, JobResult

from nautobot_jobflow.choices import (
    StepRunStatusChoices,
    WorkflowRunStatusChoices,
)
from nautobot_jobflow.engine.concurrency_keys import release, render_key, try_acquire
from nautobot_jobflow.engine.for_each import ForEachSteps, items_view
from nautobot_jobflow.engine.input_wait import begin_waiting, is_input_step, run_waits_for, timeout_error
from nautobot_jobflow.engine.new_runs import create_child_run
from nautobot_jobflow.engine.outcomes import child_run_results, job_error, truncate
from nautobot_jobflow.engine.readiness import Readiness
from nautobot_jobflow.engine.scheduling import schedule_advance
from nautobot_jobflow.engine.step_launch import StepLauncher, StepSkipped
from nautobot_jobflow.lib.errors import LaunchForbidden, LaunchRefused, refusal_text
from nautobot_jobflow.lib.sandbox import StepContext, TemplateProblem, render_mapping
from nautobot_jobflow.models import WorkflowStepRun

logger = logging.getLogger(__name__)

STEP = StepRunStatusChoices
RUN = WorkflowRunStatusChoices
# What starting an attempt writes on a step run that already exists (a retry); a new one is inserted whole.
LAUNCH_FIELDS = ["started", "status", "rendered_inputs", "job_result"]


def store(step_run, fields):
    """Save a step run: INSERT a new one with every field, else UPDATE only ``fields``."""
    if step_run._state.adding:
        step_run.save()
    else:
        step_run.save(update_fields=fields)


def set_awaiting_approval(run, awaiting, awaiting_input=False):
    """An active run shows 'awaiting approval' while one of its steps is held for approval, else 'running'.

    [input steps] ... or 'awaiting input' while one of its input steps waits for answers (approval shown first).
    """
    if run.status in RUN.FINAL:
        return
    status = RUN.AWAITING_APPROVAL if awaiting else RUN.AWAITING_INPUT if awaiting_input else RUN.RUNNING
    if run.status != status:
        run.status = status
        run.save(update_fields=["status"])


class RunState(ForEachSteps, Readiness):
    """The run's snapshot and its step runs, loaded once per advance() under the run's row lock.

    ``paused``: the run is paused: running attempts are brought up to date (and time out), nothing new starts.
    """

    def __init__(self, run, finished_job_result=None, paused=False):
        self.run = run
        self.paused = paused
        self.definition = run.definition
        self.steps = self.definition["steps"]
        self.incoming = {name: [] for name in self.steps}
        self.outgoing = {name: [] for name in self.steps}
        for edge in self.definition["edges"]:
            self.incoming[edge["target"]].append(edge)
            self.outgoing[edge["source"]].append(edge)
        self.latest = {}  # step name -> the step's latest own row (a for-each step's row holds its counters)
        self.items = defaultdict(dict)  # for-each step name -> {item index -> its active attempt}
        # One query: every step's own rows, and of for-each items only the active attempts (never every item).
        own_or_active = Q(item_index__isnull=True) | Q(status__in=STEP.ACTIVE)
        for step_run in run.step_runs.filter(own_or_active).order_by("step_name", "item_index", "attempt"):
            if step_run.item_index is None:
                self.latest[step_run.step_name] = step_run
            else:
                self.items[step_run.step_name][step_run.item_index] = step_run
        # The JobResults of running attempts that have finished, with only the fields the engine reads. One still
        # pending or started changes nothing here (a timeout loads it to cancel it): in a 100-way fan-out each
        # completion reads the one or two finished JobResults, not the hundred still queued.
        attempts = [*self.latest.values(), *(item for items in self.items.values() for item in items.values())]
        running = {sr.job_result_id for sr in attempts if sr.status == STEP.RUNNING and sr.job_result_id}
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
        self.follow_ups = []  # callables to run once the run's lock is released (cancel a JobResult)
        self.children_to_cancel = []  # nested runs of timed-out steps: runner cancels them after the lock
        self.runs_to_advance = []  # nested runs started in this advance: advanced once the transaction commits
        self.parent_to_advance = None  # the parent run of a nested run that finished in this advance
        self.launcher = StepLauncher(run)
        self._new_step_runs = []  # started steps, inserted together at the end of the advance
        self.freed_keys = set()  # concurrency keys freed in this advance: the runner wakes their next waiters
        self._timeouts_scheduled = set()  # timeouts asked for in this advance (items started together share one)

    # ---------------------------------------------------------------------------------------------- context
    def context(self, step_run=None):
        """Template context: inputs, steps.<name>.result/status/error (and .items) of steps that ran, and the run.

        ``step_run``: an item attempt of a for-each step, whose templates also see ``item`` and ``index``.
        """
        steps = {}
        for name, done in self.latest.items():
            if done.is_final:
                steps[name] = StepContext(status=done.status, result=done.result, error=done.error)
                if done.items is not None:
                    steps[name]["items"] = items_view(done)
        context = {
            "inputs": self.run.inputs,
            "steps": steps,
            "run": {"id": str(self.run.pk), "dryrun": self.run.dryrun, "workflow": self.run.workflow_name},
        }
        if step_run is not None and step_run.item_index is not None:
            context.update(item=step_run.item, index=step_run.item_index)
        return context

    def settled(self, name):
        """True when the step's latest attempt is over and no retry will follow."""
        step_run = self.latest.get(name)
        return step_run is not None and step_run.is_final

    # ---------------------------------------------------------------------------------------------- sync
    def sync(self):
        """Bring running attempts up to date from their JobResults / nested runs; apply timeouts and retries."""
        for name, step_run in list(self.latest.items()):
            if self.steps[name].get("for_each") and step_run.status == STEP.RUNNING:
                self._sync_for_each(name, step_run)
            elif step_run.status in (STEP.RUNNING, STEP.AWAITING_INPUT):  # [input steps] awaiting input: its timeout
                self._sync_running(name, step_run)
            elif (self._retry_due(step_run) or step_run.status == STEP.WAITING) and not self.paused:
                self._launch_attempt(name, step_run)

    def _retry_due(self, step_run):
        """A retry attempt waiting for its backoff, whose time has come."""
        return (
            step_run.status == STEP.PENDING
            and step_run.job_result_id is None
            and (step_run.not_before is None or step_run.not_before <= self.now)
            and not (self.steps[step_run.step_name].get("subworkflow") and step_run.child_runs.exists())
        )

    def _sync_running(self, name, step_run):
        spec = self.steps[name]
        if step_run.status == STEP.AWAITING_INPUT:  # [input steps] no Job: only its timeout ends it (not while paused)
            if not self.paused and self._timed_out(spec, step_run):
                self._finish_attempt(step_run, STEP.TIMED_OUT, error=timeout_error(name, spec))
        elif step_run.job_result_id:
            job_result = self.job_results.get(step_run.job_result_id)  # None: not finished
            if job_result is None:
                if self._timed_out(spec, step_run):
                    self._cancel_job_result(step_run.job_result, reason="timeout")
                    self._finish_attempt(
                        step_run, STEP.TIMED_OUT, error=f"Step '{name}' exceeded its timeout of {spec['timeout']}s."
                    )
            elif job_result.status == JobResultStatusChoices.STATUS_SUCCESS:
                self._finish_attempt(step_run, STEP.SUCCEEDED, result=job_result.result)
            else:
                self._finish_attempt(step_run, STEP.FAILED, error=job_error(job_result))
        else:
            child = step_run.child_runs.order_by("-created").first()
            if child is not None and child.status in RUN.FINAL:
                status = {RUN.SUCCEEDED: STEP.SUCCEEDED, RUN.CANCELED: STEP.CANCELED}.get(child.status, STEP.FAILED)
                self._finish_attempt(step_run, status, result=child_run_results(child), error=child.error)
            elif self._timed_out(spec, step_run):
                if child is not None:
                    self.children_to_cancel.append(child)
                self._finish_attempt(
                    step_run, STEP.TIMED_OUT, error=f"Step '{name}' exceeded its timeout of {spec['timeout']}s."
                )
        if step_run.status in STEP.FAILURES:
            self._maybe_retry(name, step_run)

    def _timed_out(self, spec, step_run):
        return (
            bool(spec.get("timeout"))
            and step_run.started
            and step_run.started + timedelta(seconds=spec["timeout"]) <= self.now
        )

    def _cancel_job_result(self, job_result, reason):
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
        # started and rendered_inputs too: an attempt that ends before its launch has not stored them yet; a
        # for-each step's counters change with its last item
        fields = ["status", "result", "error", "finished", "started", "rendered_inputs"]
        store(step_run, [*fields, "progress"] if step_run.progress is not None else fields)
        if step_run.concurrency_key:
            self.freed_keys |= release([step_run])

    def _maybe_retry(self, name, step_run):
        spec = self.steps[name]
        if step_run.attempt > spec.get("max_retries", 0):
            return
        delay = (spec.get("retry_backoff") or 0) * (2 ** (step_run.attempt - 1))
        retry = WorkflowStepRun.objects.create(
            run=self.run,
            step_name=name,
            item_index=step_run.item_index,
            item=step_run.item,
            attempt=step_run.attempt + 1,
            status=STEP.PENDING,
            rendered_inputs=step_run.rendered_inputs,
            not_before=self.now + timedelta(seconds=delay),
        )
        if retry.item_index is None:
            self.latest[name] = retry
        else:
            self.items[name][retry.item_index] = retry
        if delay:
            schedule_advance(self.run.pk, delay)
        elif not self.paused:
            self._launch_attempt(name, retry)

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
        keep = (self.definition.get("rerun") or {}).get("keep", {}).get(name)
        if isinstance(keep, dict):  # a for-each step of a rerun: only the items that did not succeed run again
            self._start_for_each(name, reused=keep)
            return
        reused = self._reusable_result(name)
        if reused is not None:
            self._record_step(
                name, STEP.SUCCEEDED, result=reused.result, reused_from=reused, rendered_inputs=reused.rendered_inputs,
                items=reused.items, progress=reused.progress,
            )  # fmt: skip
            return
        if self.steps[name].get("for_each"):
            self._start_for_each(name)
            return
        # Not saved yet: _launch_attempt inserts it once, with its JobResult, instead of insert + two updates.
        step_run = WorkflowStepRun(run=self.run, step_name=name, attempt=1, status=STEP.PENDING)
        self.latest[name] = step_run
        self._launch_attempt(name, step_run)

    def _reusable_result(self, name):
        """For a rerun: the succeeded step run of the original run to keep, if this step is not to run again."""
        keep = (self.definition.get("rerun") or {}).get("keep", {})
        if not isinstance(keep.get(name), str):
            return None
        return WorkflowStepRun.objects.filter(pk=keep[name]).first()

    def _launch_attempt(self, name, step_run):
        """Render the step's inputs and start its Job (or nested workflow); failures end the attempt cleanly.

        ``step_run`` is a retry attempt already saved, or a new one not saved yet; a new one is written once, with
        its JobResult, by ``insert_new_step_runs`` at the end of the advance (the task is sent only when the
        transaction commits). It is saved before the launch only when something must point at it: an approval
        request (some policy is enabled) or a nested run.
        """
        spec = self.steps[name]
        step_run.started = self.now
        step_run.status = STEP.RUNNING
        try:
            rendered = render_mapping(spec["input_templates"], self.context(step_run))
        except TemplateProblem as problem:
            self._finish_attempt(step_run, STEP.FAILED, error=f"Step '{name}': {problem}")
            return
        step_run.rendered_inputs = rendered
        if spec.get("concurrency_key") and not self._take_key(name, spec, step_run):
            return
        try:
            if is_input_step(spec):  # [input steps] no Job: the attempt waits for answers (engine/input_wait.py)
                begin_waiting(self.run, spec, step_run, self.context(step_run))
                store(step_run, LAUNCH_FIELDS)
            elif spec["job"]:
                job, job_kwargs = self.launcher.job_kwargs(spec["job"], rendered)
                if self.launcher.policies():  # a policy may hold the step: its launch request points at the step run
                    store(step_run, LAUNCH_FIELDS)
                outcome = self.launcher.start(job, job_kwargs, spec.get("job_queue"), step_run)
                if outcome.approval_required:
                    step_run.status = STEP.AWAITING_APPROVAL
                    step_run.save(update_fields=["status"])
                    return
                step_run.job_result = outcome.job_result
                if step_run._state.adding:
                    self._new_step_runs.append(step_run)
                else:
                    step_run.save(update_fields=LAUNCH_FIELDS)
            else:
                store(step_run, LAUNCH_FIELDS)  # the nested run points at it
                self.runs_to_advance.extend(create_child_run(spec, rendered, self.run, step_run).to_advance)
        except StepSkipped as skipped:
            self._finish_attempt(step_run, STEP.SKIPPED, error=str(skipped))
            return
        except Job.DoesNotExist:
            self._finish_attempt(step_run, STEP.FAILED, error=f"Step '{name}': its Job no longer exists.")
            return
        except (LaunchRefused, LaunchForbidden) as problem:
            self._finish_attempt(step_run, STEP.FAILED, error=f"Step '{name}': {refusal_text(problem)}")
            return
        if spec.get("timeout") and spec["timeout"] not in self._timeouts_scheduled:
            self._timeouts_scheduled.add(spec["timeout"])
            schedule_advance(self.run.pk, spec["timeout"] + 1)

    def _take_key(self, name, spec, step_run):
        """Take a slot of the step's concurrency key, or leave the attempt waiting for one (returns False)."""
        try:
            key = render_key(spec["concurrency_key"], self.context(step_run))
        except TemplateProblem as problem:
            self._finish_attempt(step_run, STEP.FAILED, error=f"Step '{name}': {problem}")
            return False
        step_run.concurrency_key = key
        if step_run._state.adding:  # the slot points at the attempt: write it now (as waiting until it has one)
            step_run.status = STEP.WAITING
            step_run.save()
        if try_acquire(step_run, key, spec.get("concurrency_limit") or 1):
            step_run.status = STEP.RUNNING
            return True
        step_run.status = STEP.WAITING
        step_run.started = None
        step_run.waiting_since = step_run.waiting_since or self.now
        step_run.save(update_fields=["status", "started", "waiting_since", "concurrency_key", "rendered_inputs"])
        return False

    def insert_new_step_runs(self):
        """One INSERT for every step started in this advance (a 100-way fan-out writes one statement, not 100)."""
        if self._new_step_runs:
            WorkflowStepRun.objects.bulk_create(self._new_step_runs)

    def mark_awaiting_approval(self):
        """A running run with a step held for approval shows 'awaiting approval' until that step is decided."""
        attempts = [*self.latest.values(), *(item for items in self.items.values() for item in items.values())]
        awaiting, awaiting_input = run_waits_for(attempts)  # [input steps] and 'awaiting input'
        set_awaiting_approval(self.run, awaiting, awaiting_input)
