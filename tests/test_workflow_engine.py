"""The workflow engine end to end, every step a real Job on a real Celery worker."""

import uuid

import pytest
from django.db.models import Count
from nautobot.apps.testing import TransactionTestCase
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import JobResult

from nautobot_jobflow.choices import DryRunModeChoices, EdgeTriggerChoices, JoinModeChoices
from nautobot_jobflow.choices import StepRunStatusChoices as S
from nautobot_jobflow.choices import WorkflowRunStatusChoices as R
from nautobot_jobflow.engine.control import rerun_from_failed
from nautobot_jobflow.engine.runner import cancel_run
from nautobot_jobflow.lib.errors import LaunchRefused
from nautobot_jobflow.models import WorkflowStepRun
from tests.fixtures import create_superuser, refresh_jobs, wait_for
from tests.fixtures_engine import build_workflow, run_summary, start, step_runs, wait_for_run


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class WorkflowEngineWorkerTest(TransactionTestCase):
    """Each test launches a workflow and waits for the real worker to finish it."""

    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.admin = create_superuser()

    def test_linear_chain_passes_data(self):
        workflow = build_workflow(
            {
                "greet": {"job": "Echo", "inputs": {"message": "hello {{ inputs.who }}"}},
                "shout": {
                    "job": "Echo",
                    "inputs": {
                        "message": "{{ steps.greet.result.message | upper }}!",
                        "number": "{{ steps.greet.result.length }}",
                    },
                },
            },
            [("greet", "shout")],
        )
        run = wait_for_run(start(workflow, self.admin, {"who": "world"}))
        self.assertEqual(run.status, R.SUCCEEDED, run_summary(run))
        shout = step_runs(run)["shout"]
        self.assertEqual(shout.rendered_inputs, {"message": "HELLO WORLD!", "number": 11})
        self.assertEqual(shout.result, {"message": "HELLO WORLD!", "number": 11, "length": 12})
        self.assertEqual(shout.job_result.status, JobResultStatusChoices.STATUS_SUCCESS)
        self.assertLessEqual(step_runs(run)["greet"].finished, shout.started)

    def test_fan_out_fan_in_join_all(self):
        workflow = build_workflow(
            {
                "root": {"job": "Echo", "inputs": {"message": "x"}},
                "a": {"job": "Echo", "inputs": {"message": "a{{ steps.root.result.message }}"}},
                "b": {"job": "Echo", "inputs": {"message": "b{{ steps.root.result.message }}"}},
                "c": {"job": "Echo", "inputs": {"message": "c{{ steps.root.result.message }}"}},
                "join": {
                    "job": "Echo",
                    "inputs": {
                        "message": "{{ steps.a.result.message }}+{{ steps.b.result.message }}"
                        "+{{ steps.c.result.message }}"
                    },
                },
            },
            [("root", "a"), ("root", "b"), ("root", "c"), ("a", "join"), ("b", "join"), ("c", "join")],
        )
        run = wait_for_run(start(workflow, self.admin))
        self.assertEqual(run.status, R.SUCCEEDED, run_summary(run))
        join = step_runs(run)["join"]
        self.assertEqual(join.result["message"], "ax+bx+cx")
        self.assertEqual(run.step_runs.filter(step_name="join").count(), 1)
        for parent in ("a", "b", "c"):
            self.assertLessEqual(step_runs(run)[parent].finished, join.started)

    def test_join_any_starts_on_first_parent(self):
        workflow = build_workflow(
            {
                "slow": {"job": "Sleep", "inputs": {"seconds": 4}},
                "fast": "Noop",
                "after_first": {"job": "Echo", "join_mode": JoinModeChoices.ANY, "inputs": {"message": "first"}},
            },
            [("slow", "after_first"), ("fast", "after_first")],
        )
        run = wait_for_run(start(workflow, self.admin))
        self.assertEqual(run.status, R.SUCCEEDED, run_summary(run))
        latest = step_runs(run)
        self.assertLess(latest["after_first"].started, latest["slow"].finished)
        self.assertEqual(run.step_runs.filter(step_name="after_first").count(), 1)

    def test_on_failure_branch_handles_failure(self):
        workflow = build_workflow(
            {
                "risky": {"job": "Fail", "inputs": {"reason": "device unreachable"}},
                "cleanup": {"job": "Echo", "inputs": {"message": "cleanup after {{ steps.risky.status }}"}},
                "next": "Noop",
            },
            [("risky", "cleanup", EdgeTriggerChoices.ON_FAILURE), ("risky", "next", EdgeTriggerChoices.ON_SUCCESS)],
        )
        run = wait_for_run(start(workflow, self.admin))
        latest = step_runs(run)
        self.assertEqual(latest["risky"].status, S.FAILED)
        self.assertIn("device unreachable", latest["risky"].error)
        self.assertEqual(latest["cleanup"].status, S.SUCCEEDED)
        self.assertEqual(latest["cleanup"].result["message"], "cleanup after failed")
        self.assertEqual(latest["next"].status, S.SKIPPED)
        self.assertIsNone(latest["next"].job_result)
        self.assertEqual(run.status, R.SUCCEEDED, "a failure handled by an on-failure edge does not fail the run")

    def test_unhandled_failure_fails_run(self):
        workflow = build_workflow({"risky": "Fail", "next": "Noop"}, [("risky", "next")])
        run = wait_for_run(start(workflow, self.admin))
        self.assertEqual(run.status, R.FAILED)
        self.assertIn("risky", run.error)
        self.assertEqual(step_runs(run)["next"].status, S.SKIPPED)

    def test_condition_branch(self):
        workflow = build_workflow(
            {
                "measure": {"job": "Echo", "inputs": {"number": "{{ inputs.load }}"}},
                "scale_up": "Noop",
                "idle": "Noop",
            },
            [
                ("measure", "scale_up", EdgeTriggerChoices.CONDITION, "steps.measure.result.number > 80"),
                ("measure", "idle", EdgeTriggerChoices.CONDITION, "steps.measure.result.number <= 80"),
            ],
        )
        run = wait_for_run(start(workflow, self.admin, {"load": 95}))
        latest = step_runs(run)
        self.assertEqual(run.status, R.SUCCEEDED, run_summary(run))
        self.assertEqual(latest["scale_up"].status, S.SUCCEEDED)
        self.assertEqual(latest["idle"].status, S.SKIPPED)

    def test_retry_then_success(self):
        key = uuid.uuid4().hex
        workflow = build_workflow(
            {"flaky": {"job": "Flaky", "inputs": {"key": key, "failures": 2}, "max_retries": 3, "retry_backoff": 1}}
        )
        run = wait_for_run(start(workflow, self.admin))
        self.assertEqual(run.status, R.SUCCEEDED, run_summary(run))
        attempts = list(run.step_runs.order_by("attempt").values_list("attempt", "status"))
        self.assertEqual(attempts, [(1, S.FAILED), (2, S.FAILED), (3, S.SUCCEEDED)])
        self.assertEqual(step_runs(run)["flaky"].result, {"attempt": 3})
        second, third = run.step_runs.filter(attempt__in=[2, 3]).order_by("attempt")
        first = run.step_runs.get(attempt=1)
        self.assertGreaterEqual((second.started - first.finished).total_seconds(), 0.9, "backoff of 1 s")
        self.assertGreaterEqual((third.started - second.finished).total_seconds(), 1.9, "backoff doubled")

    def test_retries_exhausted_fails(self):
        workflow = build_workflow({"always_fails": {"job": "Fail", "max_retries": 1}})
        run = wait_for_run(start(workflow, self.admin))
        self.assertEqual(run.status, R.FAILED)
        self.assertEqual(run.step_runs.count(), 2)

    def test_timeout(self):
        workflow = build_workflow({"stuck": {"job": "Sleep", "inputs": {"seconds": 60}, "timeout": 2}})
        run = wait_for_run(start(workflow, self.admin), timeout=60)
        stuck = step_runs(run)["stuck"]
        self.assertEqual(stuck.status, S.TIMED_OUT, run_summary(run))
        self.assertIn("timeout of 2s", stuck.error)
        self.assertEqual(run.status, R.FAILED)
        wait_for(
            lambda: JobResult.objects.get(pk=stuck.job_result_id).status in JobResultStatusChoices.READY_STATES,
            timeout=30,
            message="the timed-out JobResult is canceled",
        )

    def test_cancel_mid_run(self):
        workflow = build_workflow(
            {"long": {"job": "Sleep", "inputs": {"seconds": 60}}, "after": "Noop"}, [("long", "after")]
        )
        run = start(workflow, self.admin)
        wait_for(
            lambda: WorkflowStepRun.objects.filter(
                run=run, job_result__status=JobResultStatusChoices.STATUS_STARTED
            ).exists(),
            message="the long step started on the worker",
        )
        cancel_run(run, self.admin)
        run.refresh_from_db()
        self.assertEqual(run.status, R.CANCELED)
        long_step = step_runs(run)["long"]
        self.assertEqual(long_step.status, S.CANCELED)
        wait_for(
            lambda: JobResult.objects.get(pk=long_step.job_result_id).status == JobResultStatusChoices.STATUS_REVOKED,
            timeout=30,
            message="the JobResult is revoked through Nautobot's cancel",
        )
        self.assertFalse(run.step_runs.filter(step_name="after").exists())
        with self.assertRaises(LaunchRefused):
            cancel_run(run, self.admin)

    def test_rerun_from_failed_reuses_results(self):
        key = uuid.uuid4().hex
        workflow = build_workflow(
            {
                "collect": {"job": "Echo", "inputs": {"message": "facts"}},
                "push": {"job": "Flaky", "inputs": {"key": key, "failures": 1}},
                "verify": {"job": "Echo", "inputs": {"message": "{{ steps.collect.result.message }} ok"}},
            },
            [("collect", "push"), ("push", "verify")],
        )
        first = wait_for_run(start(workflow, self.admin))
        self.assertEqual(first.status, R.FAILED, run_summary(first))
        second = wait_for_run(rerun_from_failed(first, self.admin, "api"))
        self.assertEqual(second.status, R.SUCCEEDED, run_summary(second))
        self.assertEqual(second.rerun_of, first)
        latest = step_runs(second)
        self.assertEqual(latest["collect"].reused_from, step_runs(first)["collect"])
        self.assertIsNone(latest["collect"].job_result)
        self.assertEqual(latest["verify"].result["message"], "facts ok")
        self.assertEqual(JobResult.objects.filter(job_model__job_class_name="Echo").count(), 2, "collect ran once")

    def test_nested_workflow(self):
        child = build_workflow({"inner": {"job": "Echo", "inputs": {"message": "inner {{ inputs.name }}"}}})
        parent = build_workflow(
            {
                "sub": {"job": child, "inputs": {"name": "{{ inputs.site }}"}},
                "report": {"job": "Echo", "inputs": {"message": "{{ steps.sub.result.inner.message }} done"}},
            },
            [("sub", "report")],
        )
        run = wait_for_run(start(parent, self.admin, {"site": "AMS"}))
        self.assertEqual(run.status, R.SUCCEEDED, run_summary(run))
        sub = step_runs(run)["sub"]
        child_run = sub.child_runs.get()
        self.assertEqual(child_run.status, R.SUCCEEDED)
        self.assertEqual(child_run.origin, "workflow")
        self.assertEqual(child_run.inputs, {"name": "AMS"})
        self.assertEqual(step_runs(run)["report"].result["message"], "inner AMS done")

    def test_dry_run_passes_flag_and_skips_unsupported(self):
        workflow = build_workflow(
            {"aware": {"job": "DryRunAware", "inputs": {"note": "n"}}, "plain": "Noop"}, [("aware", "plain", "always")]
        )
        run = wait_for_run(start(workflow, self.admin, dryrun=True))
        latest = step_runs(run)
        self.assertEqual(latest["aware"].result, {"dryrun": True, "note": "n"})
        self.assertEqual(latest["plain"].status, S.SKIPPED)
        self.assertIn("does not support dry run", latest["plain"].error)
        self.assertEqual(run.status, R.SUCCEEDED, run_summary(run))

    def test_dry_run_refused_when_workflow_says_so(self):
        workflow = build_workflow({"plain": "Noop"}, dryrun_mode=DryRunModeChoices.REFUSE)
        with self.assertRaises(LaunchRefused) as refused:
            start(workflow, self.admin, dryrun=True)
        self.assertIn("No-op", str(refused.exception))
        self.assertFalse(JobResult.objects.exists())

    def test_invalid_rendered_inputs_fail_step_cleanly(self):
        workflow = build_workflow(
            {
                "first": {"job": "Echo", "inputs": {"message": "{{ steps.nowhere.result }}"}},
                "typed": {"job": "Echo", "inputs": {"number": "not a number"}},
            }
        )
        run = wait_for_run(start(workflow, self.admin))
        latest = step_runs(run)
        self.assertEqual(run.status, R.FAILED)
        self.assertEqual(latest["first"].status, S.FAILED)
        self.assertIn("template message", latest["first"].error)
        self.assertIn("nowhere", latest["first"].error)
        self.assertIsNone(latest["first"].job_result)
        self.assertEqual(latest["typed"].status, S.FAILED)
        self.assertIn("number", latest["typed"].error)
        self.assertFalse(JobResult.objects.exists(), "no Job ran with invalid inputs")


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker", "second_celery_worker")
class FanInRaceTest(TransactionTestCase):
    """50 parallel no-op steps into one join, two worker processes, 20 times: the join starts exactly once."""

    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.admin = create_superuser()

    def test_join_starts_exactly_once(self):
        steps = {f"p{index:02d}": "Noop" for index in range(50)}
        steps["join"] = "Noop"
        workflow = build_workflow(steps, [(name, "join") for name in steps if name != "join"])
        runs = [start(workflow, self.admin) for _ in range(20)]
        for run in runs:
            wait_for_run(run, timeout=300)
            self.assertEqual(run.status, R.SUCCEEDED, run_summary(run))
        joins = WorkflowStepRun.objects.filter(run__in=runs, step_name="join").values("run").annotate(n=Count("pk"))
        self.assertEqual(sorted(row["n"] for row in joins), [1] * 20)
        self.assertEqual(
            JobResult.objects.filter(jobflow_step_runs__step_name="join").count(), 20, "one join Job per run"
        )
        workers = set(JobResult.objects.values_list("worker", flat=True))
        self.assertGreaterEqual(len(workers), 2, f"both workers took part: {workers}")


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker", "second_celery_worker")
class FanInRaceRepeatedTest(TransactionTestCase):
    """The fan-in race 100 times: 10 parallel no-op steps into one join per run, on two worker processes.

    Width 10 is over twice the four pool processes of the two workers, so every run keeps all four busy and its
    last parents finish at the same moment in different processes (the race); a wider fan-in would only add Jobs
    that finish while the join is still waiting, and time (1,100 Jobs here against 1,020 in the 50-wide test).
    """

    RUNS = 100
    WIDTH = 10

    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.admin = create_superuser()

    def test_join_starts_exactly_once_in_100_runs(self):
        steps = {f"p{index:02d}": "Noop" for index in range(self.WIDTH)}
        steps["join"] = "Noop"
        workflow = build_workflow(steps, [(name, "join") for name in steps if name != "join"])
        runs = [start(workflow, self.admin) for _ in range(self.RUNS)]
        for run in runs:
            wait_for_run(run, timeout=300)
            self.assertEqual(run.status, R.SUCCEEDED, run_summary(run))
        joins = WorkflowStepRun.objects.filter(run__in=runs, step_name="join").values("run").annotate(n=Count("pk"))
        self.assertEqual(sorted(row["n"] for row in joins), [1] * self.RUNS)
        self.assertEqual(
            JobResult.objects.filter(jobflow_step_runs__step_name="join").count(), self.RUNS, "one join Job per run"
        )
        join_started_after_parents = WorkflowStepRun.objects.filter(run__in=runs, step_name="join").values_list(
            "run_id", "started"
        )
        for run_id, join_started in join_started_after_parents:
            last_parent = max(
                WorkflowStepRun.objects.filter(run_id=run_id)
                .exclude(step_name="join")
                .values_list("finished", flat=True)
            )
            self.assertLessEqual(last_parent, join_started, f"run {run_id}: the join waited for every parent")
        workers = set(JobResult.objects.values_list("worker", flat=True))
        self.assertGreaterEqual(len(workers), 2, f"both workers took part: {workers}")
