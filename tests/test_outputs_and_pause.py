"""Workflow outputs (a run's result, a nested step's result, the Run Workflow Job's result) and pause / resume,
through the real worker; the fixes found when the engine was tried as a new user would."""

import pytest
from nautobot.apps.testing import TransactionTestCase
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import Job, JobResult

from nautobot_jobflow.choices import EdgeTriggerChoices
from nautobot_jobflow.choices import StepRunStatusChoices as STEP
from nautobot_jobflow.choices import WorkflowRunStatusChoices as RUN
from nautobot_jobflow.engine.reconcile_runs import reconcile
from nautobot_jobflow.engine.runner import pause_run, resume_run
from nautobot_jobflow.lib.errors import LaunchRefused
from nautobot_jobflow.models import WorkflowRun
from tests.fixtures import create_superuser, get_test_job, refresh_jobs, wait_for, wait_for_job_result
from tests.fixtures_engine import build_workflow, run_summary, start, step_runs, wait_for_run
from tests.fixtures_faults import fault_queue
from tests.worker import WorkerProcess


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class OutputsTest(TransactionTestCase):
    """A workflow's output templates become its run's result, its parent step's result and the Job's result."""

    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.admin = create_superuser()

    def _child(self):
        return build_workflow(
            {"a": {"job": "Echo", "inputs": {"message": "{{ inputs.word }}"}}},
            output_templates={"shout": "{{ steps.a.result.message | upper }}", "size": "{{ steps.a.result.length }}"},
        )

    def test_outputs_are_the_runs_result_and_the_nested_steps_result(self):
        child = self._child()
        parent = build_workflow(
            {
                "nested": {"job": child, "inputs": {"word": "{{ inputs.word }}"}},
                "after": {"job": "Echo", "inputs": {"message": "{{ steps.nested.result.shout }}!"}},
            },
            [("nested", "after")],
        )
        run = wait_for_run(start(parent, self.admin, {"word": "hello"}))
        self.assertEqual(run.status, RUN.SUCCEEDED, run_summary(run))
        self.assertEqual(step_runs(run)["nested"].result, {"shout": "HELLO", "size": 5})
        self.assertEqual(step_runs(run)["after"].result["message"], "HELLO!")
        child_run = WorkflowRun.objects.get(parent_step_run=step_runs(run)["nested"])
        self.assertEqual(child_run.result, {"shout": "HELLO", "size": 5})
        self.assertEqual(run.result["after"]["message"], "HELLO!", "no outputs declared: every step's result")

    def test_an_output_template_error_fails_the_run_naming_the_output(self):
        workflow = build_workflow({"a": "Noop"}, output_templates={"x": "{{ steps.a.result.nothing.deeper }}"})
        run = wait_for_run(start(workflow, self.admin))
        self.assertEqual(run.status, RUN.FAILED)
        self.assertTrue(run.error.startswith("Outputs: template x"), run.error)

    def test_the_run_workflow_job_returns_the_outputs_when_it_waits(self):
        from nautobot_jobflow.launching.job_kwargs import prepare_job_kwargs

        child = self._child()
        job = Job.objects.get(module_name="nautobot_jobflow.jobs.workflows", job_class_name="RunWorkflow")
        job.enabled = True
        job.save()
        kwargs = prepare_job_kwargs(job, {"workflow": str(child.pk), "inputs": {"word": "hi"}, "wait": True})
        job_result = JobResult.enqueue_job(job, self.admin, job_kwargs=kwargs)
        job_result = wait_for_job_result(job_result, timeout=120)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        self.assertEqual(job_result.result["result"], {"shout": "HI", "size": 2})
        self.assertEqual(job_result.result["status"], RUN.SUCCEEDED)


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class FixesTest(TransactionTestCase):
    """What a new user ran into: Job defaults for omitted inputs, condition edges on failures, doubled prefixes."""

    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.admin = create_superuser()

    def test_an_omitted_input_gets_the_job_variables_default(self):
        workflow = build_workflow({"a": {"job": "MaybeFail", "inputs": {"label": "x"}}})
        run = wait_for_run(start(workflow, self.admin))
        self.assertEqual(run.status, RUN.SUCCEEDED, run_summary(run))
        self.assertEqual(step_runs(run)["a"].job_result.task_kwargs.get("fail"), False)

    def test_a_condition_edge_from_a_failed_step_does_not_fire_and_the_error_is_the_root_cause(self):
        workflow = build_workflow(
            {"report": {"job": "Fail", "inputs": {"reason": "no such location"}}, "next": "Noop"},
            [("report", "next", EdgeTriggerChoices.CONDITION, "steps.report.result.totals.used > 0")],
        )
        run = wait_for_run(start(workflow, self.admin))
        self.assertEqual(run.status, RUN.FAILED)
        self.assertTrue(
            run.error.startswith("Failed step(s): report: Job failed: RuntimeError: no such location"), run.error
        )
        self.assertNotIn("'None' has no attribute", run.error)
        self.assertEqual(step_runs(run)["next"].status, STEP.SKIPPED)

    def test_a_refused_steps_error_has_one_prefix(self):
        workflow = build_workflow({"report": {"job": "Echo", "inputs": {"number": "not a number"}}})
        run = wait_for_run(start(workflow, self.admin))
        error = step_runs(run)["report"].error
        self.assertTrue(error.startswith("Step 'report': number:"), error)
        self.assertEqual(error.count("Step 'report'"), 1, error)


@pytest.mark.worker
class PauseResumeTest(TransactionTestCase):
    """Pause stops new steps while running ones finish; resume goes on, also after the worker was killed meanwhile."""

    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.admin = create_superuser()
        self.queue = fault_queue()  # only this test's worker consumes it, so killing it leaves no other
        self.worker = WorkerProcess(name="jobflow-pause-a", concurrency=1, queues=[self.queue.name])
        self.worker.start()
        self.addCleanup(lambda: self.worker.stop())

    def test_pause_then_resume_with_the_worker_killed_while_paused(self):
        workflow = build_workflow(
            {
                "first": {"job": "Sleep", "inputs": {"seconds": 2}, "job_queue": self.queue},
                "second": {"job": "Noop", "job_queue": self.queue},
            },
            [("first", "second")],
        )
        run = start(workflow, self.admin)
        wait_for(lambda: run.step_runs.filter(step_name="first", status=STEP.RUNNING).exists())
        pause_run(run, self.admin)
        with self.assertRaises(LaunchRefused):
            pause_run(run, self.admin)
        wait_for(
            lambda: run.step_runs.filter(step_name="first", status=STEP.SUCCEEDED).exists(),
            message="the running step finishes while the run is paused",
        )
        run.refresh_from_db()
        self.assertEqual(run.status, RUN.PAUSED)
        self.assertFalse(run.step_runs.filter(step_name="second").exists(), "no new step starts while paused")
        self.assertEqual(reconcile(stale_after=60).advanced, 0, "the reconciler never advances a paused run")
        self.assertFalse(run.step_runs.filter(step_name="second").exists())
        self.worker.kill()  # the only worker dies while the run is paused
        self.worker = WorkerProcess(name="jobflow-pause-b", concurrency=1, queues=[self.queue.name])
        self.worker.start()
        resume_run(run, self.admin)
        run = wait_for_run(run)
        self.assertEqual(run.status, RUN.SUCCEEDED, run_summary(run))
        self.assertEqual(step_runs(run)["second"].job_result.status, JobResultStatusChoices.STATUS_SUCCESS)
        self.assertEqual(get_test_job("Noop").job_results.count(), 1)
        with self.assertRaises(LaunchRefused):
            resume_run(run, self.admin)
