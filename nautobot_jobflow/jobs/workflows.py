"""System Jobs of the workflow engine: start a workflow through Nautobot's own Job machinery, and reconcile."""

import time

from nautobot.apps.jobs import BooleanVar, IntegerVar, Job, JSONVar, ObjectVar
from nautobot.extras.choices import JobExecutionType

from nautobot_jobflow.approvals.decisions import expire_due
from nautobot_jobflow.choices import LaunchOriginChoices, WorkflowRunStatusChoices
from nautobot_jobflow.engine.reconcile_runs import reconcile
from nautobot_jobflow.hooks.recover_stuck import recover_stuck_hooks
from nautobot_jobflow.lib.errors import LaunchForbidden, LaunchRefused, refusal_text
from nautobot_jobflow.models import Workflow
from nautobot_jobflow.service import launch

name = "Jobflow"


class RunWorkflow(Job):
    """Start a workflow run. Lets Nautobot's scheduling (cron, intervals) and queues start workflows.

    Core's job buttons cannot run it (they run job-button receivers only); workflow buttons start workflows from
    object pages instead.

    The run is started through the app's launch service as the user who runs this Job, so that user must be
    allowed to run every Job of the workflow. The Job ends as soon as the run is started (follow the run on its
    own page), or, with "wait for the outputs", when the run ends, returning the run's outputs as its result; that
    keeps one worker process busy while the run's steps run on the others.
    """

    workflow = ObjectVar(model=Workflow, query_params={"enabled": True})
    inputs = JSONVar(required=False, description="Workflow inputs as a JSON object (defaults fill the rest).")
    dry_run = BooleanVar(default=False, label="Dry run", description="Run the workflow's steps as dry runs.")
    wait = BooleanVar(
        default=False,
        label="Wait for the outputs",
        description="End when the run ends and return its outputs (holds a worker process meanwhile).",
    )
    wait_timeout = IntegerVar(
        default=3600, min_value=1, required=False, description="Seconds to wait at most for the run to end."
    )

    class Meta:
        name = "Run Workflow"
        description = "Start a Jobflow workflow run (schedulable, usable with Job queues)."
        has_sensitive_variables = False

    def _origin(self):
        """Return 'schedule' when core's scheduler started this run, else 'ui'.

        Beat sets the JobResult's scheduled_job; enqueue_job(schedule=...) records the schedule in celery_kwargs.
        """
        from nautobot.extras.models import ScheduledJob

        job_result = self.job_result
        schedule_id = job_result.scheduled_job_id or (job_result.celery_kwargs or {}).get(
            "nautobot_job_schedule_id", (job_result.celery_kwargs or {}).get("nautobot_job_scheduled_job_id")
        )
        if schedule_id:
            interval = ScheduledJob.objects.filter(pk=schedule_id).values_list("interval", flat=True).first()
            if interval is None or interval != JobExecutionType.TYPE_IMMEDIATELY:
                return LaunchOriginChoices.SCHEDULE
        return LaunchOriginChoices.UI

    def run(self, workflow, inputs=None, dry_run=False, wait=False, wait_timeout=None):
        """Launch the workflow; fail with a clear message when the launch is refused."""
        origin = self._origin()
        self.logger.info("Launching workflow '%s' as %s (origin: %s).", workflow, self.user, origin)
        try:
            outcome = launch(workflow, inputs or {}, self.user, origin, dryrun=dry_run)
        except (LaunchRefused, LaunchForbidden) as problem:
            text = refusal_text(problem)  # names the field: "inputs: count: 'x' is not of type 'integer'"
            self.logger.error("Workflow '%s' was not started: %s", workflow, text)
            raise RuntimeError(f"Workflow '{workflow}' was not started: {text}") from None
        run = outcome.run
        if outcome.approval_required:
            self.logger.warning("Workflow '%s' awaits approval before it runs: %s", workflow, run.get_absolute_url())
        else:
            self.logger.info("Started workflow '%s': run %s", workflow, run.get_absolute_url(), extra={"object": run})
        if wait and not outcome.approval_required:
            run = self._wait_for(run, wait_timeout or 3600)
        return {"run": str(run.pk), "status": run.status, "url": run.get_absolute_url(), "result": run.result}

    def _wait_for(self, run, timeout):
        """Poll the run until it ends; fail the Job when it does not end in time or does not succeed."""
        deadline = time.monotonic() + timeout
        while run.status not in WorkflowRunStatusChoices.FINAL:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Workflow run {run.pk} did not end within {timeout}s; it goes on: {run.get_absolute_url()}"
                )
            time.sleep(0.5)
            run.refresh_from_db(fields=["status", "result", "error"])
        if run.status != WorkflowRunStatusChoices.SUCCEEDED:
            self.logger.error("Workflow run %s ended %s: %s", run.pk, run.status, run.error)
            raise RuntimeError(f"Workflow run {run.pk} ended {run.status}: {run.error}")
        self.logger.info("Workflow run %s succeeded; outputs: %s", run.pk, run.result)
        return run


class ReconcileWorkflowRuns(Job):
    """Expire overdue launch requests, reap dead steps, resend lost tasks, advance runs. Scheduled every minute."""

    stale_after = IntegerVar(
        default=60, min_value=10, description="Seconds a started step must run before its worker is checked."
    )

    class Meta:
        name = "Reconcile Workflow Runs"
        description = "Safety net of the workflow engine: no run stays running forever."
        has_sensitive_variables = False
        soft_time_limit = 300
        time_limit = 360

    def run(self, stale_after=60):
        """Advance and reap; log what was done."""
        expired = expire_due(log=self.logger)
        done = reconcile(stale_after=stale_after, log=self.logger)
        self.logger.info(
            "Expired %d launch request(s), advanced %d active run(s), reaped %d step(s) whose worker was gone, "
            "sent %d lost task(s) again.",
            expired,
            done.advanced,
            done.reaped,
            done.resent,
        )
        # Hook rules: windows whose fire task was lost, events whose drain was lost.
        windows, drain_scheduled = recover_stuck_hooks()
        if windows or drain_scheduled:
            self.logger.info("Hook rules: fired %d overdue window(s); drain rescheduled: %s.", windows, drain_scheduled)
        return {**done._asdict(), "expired": expired, "hook_windows_fired": windows}
