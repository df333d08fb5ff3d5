"""The system Job "Run Workflow" through the real worker: origin, result link, permissions, bad inputs, disabled."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from nautobot.apps.testing import TransactionTestCase
from nautobot.extras.choices import JobExecutionType, JobResultStatusChoices
from nautobot.extras.models import Job, ScheduledJob

from nautobot_jobflow.choices import LaunchOriginChoices, WorkflowRunStatusChoices
from nautobot_jobflow.launching.job_kwargs import prepare_job_kwargs
from nautobot_jobflow.models import WorkflowRun
from nautobot_jobflow.service import launch
from tests.fixtures import get_test_job, refresh_jobs, wait_for, wait_for_job_result
from tests.fixtures_approvals import dispatch_like_beat, make_user
from tests.fixtures_engine import build_workflow, run_summary, wait_for_run

COUNT_SCHEMA = {
    "type": "object",
    "properties": {"count": {"type": "integer", "minimum": 1}},
    "required": ["count"],
}


def run_workflow_job():
    """The app's "Run Workflow" Job row."""
    return Job.objects.get(module_name__startswith="nautobot_jobflow.jobs", job_class_name="RunWorkflow")


def log_messages(job_result):
    """Every log line of a JobResult, in order."""
    return list(job_result.job_log_entries.order_by("created").values_list("message", flat=True))


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class RunWorkflowJobTest(TransactionTestCase):
    """Each test starts "Run Workflow" as a real Job (through launch(), or like beat) and waits for the worker."""

    def setUp(self):
        super().setUp()
        ContentType.objects.clear_cache()  # a flush between transactional tests gives content types new ids
        refresh_jobs()
        self.job = run_workflow_job()
        self.echo = get_test_job("Echo")
        self.noop = get_test_job("Noop")
        self.fail = get_test_job("Fail")
        self.workflow = build_workflow(
            {
                "first": {"job": "Echo", "inputs": {"message": "n={{ inputs.count }}"}},
                "second": "Noop",
            },
            [("first", "second")],
            input_schema=COUNT_SCHEMA,
        )
        # May run "Run Workflow" and every Job of the workflow, nothing else.
        self.operator = make_user(f"op-{uuid.uuid4().hex[:4]}", run_jobs=[self.job, self.echo, self.noop])

    def run_job(self, user, **inputs):
        """Start "Run Workflow" as ``user`` through the one way in; return its finished JobResult."""
        data = {"workflow": str(self.workflow.pk), **inputs}
        job_result = launch(self.job, data, user, LaunchOriginChoices.UI).job_result
        self.assertIsNotNone(job_result, "no approval policy exists: the Job starts at once")
        return wait_for_job_result(job_result)

    def assert_failed_naming(self, job_result, *names):
        """The Run Workflow Job failed, one error log line names every one of ``names``, no run was created."""
        logs = log_messages(job_result)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_FAILURE, logs)
        errors = list(
            job_result.job_log_entries.filter(log_level="error").values_list("message", flat=True)
        )  # fmt: skip
        self.assertTrue(
            any(all(name in line for name in names) for line in errors), f"no error line names {names}: {logs}"
        )
        self.assertFalse(WorkflowRun.objects.exists(), "a refused launch creates no run")
        return errors

    def test_started_from_the_job_runs_with_origin_ui_and_links_the_run(self):
        job_result = self.run_job(self.operator, inputs={"count": 3})
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, log_messages(job_result))
        run = WorkflowRun.objects.get(workflow=self.workflow)
        self.assertEqual(job_result.result["run"], str(run.pk))
        self.assertEqual(job_result.result["url"], run.get_absolute_url())
        self.assertEqual(run.origin, LaunchOriginChoices.UI)
        self.assertEqual(run.user, self.operator)
        self.assertEqual(run.inputs, {"count": 3})
        self.assertFalse(run.dryrun)
        run = wait_for_run(run)
        self.assertEqual(run.status, WorkflowRunStatusChoices.SUCCEEDED, run_summary(run))
        first = run.step_runs.get(step_name="first")
        self.assertEqual(first.result["message"], "n=3")
        self.assertEqual(first.job_result.user, self.operator, "steps run as the user who ran Run Workflow")
        self.assertTrue(
            any(run.get_absolute_url() in line for line in log_messages(job_result)), "the log links the run"
        )

    def test_scheduled_job_dispatched_like_beat_runs_with_origin_schedule(self):
        job_kwargs = prepare_job_kwargs(self.job, {"workflow": str(self.workflow.pk), "inputs": {"count": 2}})
        schedule = ScheduledJob.create_schedule(
            self.job,
            self.operator,
            name=f"hourly {self.workflow}",
            start_time=timezone.now() + timedelta(hours=1),
            interval=JobExecutionType.TYPE_HOURLY,
            **job_kwargs,
        )
        job_result = wait_for_job_result(dispatch_like_beat(schedule))
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, log_messages(job_result))
        run = wait_for(
            lambda: WorkflowRun.objects.filter(workflow=self.workflow).first(), message="the scheduled run"
        )  # fmt: skip
        self.assertEqual(run.origin, LaunchOriginChoices.SCHEDULE)
        self.assertEqual(job_result.result["run"], str(run.pk))
        self.assertEqual(run.user, self.operator)
        run = wait_for_run(run)
        self.assertEqual(run.status, WorkflowRunStatusChoices.SUCCEEDED, run_summary(run))

    def test_user_who_may_not_run_one_of_the_jobs_gets_a_failed_job_result(self):
        self.workflow = build_workflow({"first": "Echo", "boom": "Fail"}, [("first", "boom")])
        # May run "Run Workflow" and Echo, not Fail.
        restricted = make_user(f"lim-{uuid.uuid4().hex[:4]}", run_jobs=[self.job, self.echo])
        job_result = self.run_job(restricted)
        errors = self.assert_failed_naming(job_result, str(self.fail), restricted.username)
        self.assertNotIn(str(self.echo), " ".join(errors), "only the Job they may not run is named")

    def test_inputs_that_are_not_a_json_object_fail_naming_the_field(self):
        job_result = self.run_job(self.operator, inputs=[1, 2, 3])
        self.assert_failed_naming(job_result, "inputs", "JSON object")

    def test_inputs_violating_the_schema_fail_naming_the_field(self):
        job_result = self.run_job(self.operator, inputs={"count": "three"})
        self.assert_failed_naming(job_result, "count", "integer")
        job_result = self.run_job(self.operator, inputs={})
        self.assert_failed_naming(job_result, "count", "required")

    def test_disabled_workflow_fails_naming_it(self):
        self.workflow.enabled = False
        self.workflow.validated_save()
        job_result = self.run_job(self.operator, inputs={"count": 1})
        self.assert_failed_naming(job_result, str(self.workflow), "disabled")
