"""A worker killed with SIGKILL while a workflow step runs: the reconciler ends the step, the run ends definitely."""

import time

import pytest
from nautobot.apps.testing import TransactionTestCase
from nautobot.extras.choices import JobCancelTypeChoices, JobResultStatusChoices

from nautobot_jobflow.choices import StepRunStatusChoices as S
from nautobot_jobflow.choices import WorkflowRunStatusChoices as R
from nautobot_jobflow.engine.reconcile_runs import reconcile
from tests.fixtures import create_superuser, refresh_jobs
from tests.fixtures_engine import build_workflow, run_summary, start, step_runs, wait_for_run
from tests.fixtures_faults import fault_queue, wait_until_started
from tests.worker import WorkerProcess


@pytest.mark.worker
class WorkerKilledTest(TransactionTestCase):
    """The steps run on a worker of their own queue, which the test kills; then it runs the reconciler."""

    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.admin = create_superuser()
        self.queue = fault_queue()

    def start_worker(self, name):
        worker = WorkerProcess(name, concurrency=2, queues=[self.queue.name])
        worker.start()
        self.addCleanup(worker.stop)
        return worker

    def test_sigkill_mid_step_fails_the_step_or_retries_it(self):
        worker = self.start_worker("jobflow-fault-doomed")
        workflow = build_workflow(
            {
                "no_retry": {"job": "Sleep", "inputs": {"seconds": 60}, "job_queue": self.queue},
                "with_retry": {"job": "Sleep", "inputs": {"seconds": 3}, "max_retries": 1, "job_queue": self.queue},
                "after": {"job": "Noop", "job_queue": self.queue},
            },
            [("with_retry", "after")],
        )
        run = start(workflow, self.admin)
        wait_until_started(run, ["no_retry", "with_retry"])
        worker.kill()

        # Nothing in the worker survived to report the end of the Jobs: the run looks busy forever.
        time.sleep(1)
        latest = step_runs(run)
        for name in ("no_retry", "with_retry"):
            self.assertEqual(latest[name].status, S.RUNNING)
            self.assertEqual(latest[name].job_result.status, JobResultStatusChoices.STATUS_STARTED)

        # The scheduled reconciler (every minute, stale_after=60) leaves steps younger than a minute alone...
        self.assertEqual(reconcile(stale_after=60).reaped, 0)
        self.assertEqual(step_runs(run)["no_retry"].status, S.RUNNING)
        # ...and its run a minute later asks the workers, finds no one running them, and reaps them.
        self.assertEqual(reconcile(stale_after=0).reaped, 2)

        latest = step_runs(run)
        self.assertEqual(latest["no_retry"].status, S.FAILED, run_summary(run))
        self.assertIn("no worker was running it", latest["no_retry"].error)
        self.assertEqual(latest["no_retry"].job_result.status, JobResultStatusChoices.STATUS_REVOKED)
        self.assertEqual(latest["no_retry"].job_result.cancel_type, JobCancelTypeChoices.TYPE_REAPED)
        first = run.step_runs.get(step_name="with_retry", attempt=1)
        self.assertEqual(first.status, S.FAILED)
        self.assertEqual(latest["with_retry"].attempt, 2, "the step with a retry left is tried again")
        self.assertEqual(latest["with_retry"].status, S.RUNNING)
        run.refresh_from_db()
        self.assertEqual(run.status, R.RUNNING)

        # A worker is back (restarted by its supervisor): the retry runs there and the run ends.
        self.start_worker("jobflow-fault-revived")
        run = wait_for_run(run, timeout=60)
        latest = step_runs(run)
        self.assertEqual(latest["with_retry"].status, S.SUCCEEDED, run_summary(run))
        self.assertEqual(latest["after"].status, S.SUCCEEDED, run_summary(run))
        self.assertEqual(run.status, R.FAILED, "no_retry failed and nothing handled it")
        self.assertIn("no_retry", run.error)
        self.assertFalse(run.step_runs.filter(status__in=S.ACTIVE).exists(), run_summary(run))
