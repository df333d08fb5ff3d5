"""Redis (the Celery broker) restarted while a workflow runs: the run completes and no step runs twice.

The shared test Redis cannot be restarted (other suites use it), so the test starts a private redis-server and
points a dedicated worker (environment) and this process's Celery app (``celery_broker``) at it.
"""

import os
import time

import pytest
from django.db.models import Count
from nautobot.apps.testing import TransactionTestCase
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import JobResult

from nautobot_jobflow.choices import StepRunStatusChoices as S
from nautobot_jobflow.choices import WorkflowRunStatusChoices as R
from nautobot_jobflow.engine.reconcile_runs import reconcile
from nautobot_jobflow.models import WorkflowStepRun
from tests.fixtures import create_superuser, refresh_jobs, wait_for
from tests.fixtures_engine import build_workflow, run_summary, start, step_runs, wait_for_run
from tests.fixtures_faults import PrivateRedis, celery_broker, wait_until_started
from tests.worker import WorkerProcess


@pytest.mark.worker
class RedisRestartTest(TransactionTestCase):
    """A worker and this process on a private Redis that the test kills and starts again mid-run."""

    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.admin = create_superuser()
        self.redis = PrivateRedis()
        self.redis.start()
        self.addCleanup(self.redis.stop)
        # The broker database this suite uses (nautobot_config.py): the worker started with NAUTOBOT_REDIS_PORT
        # builds its broker URL from it, so this process must send to the same database.
        self.broker_db = int(os.getenv("JOBFLOW_TEST_REDIS_DB", "2"))
        broker = celery_broker(self.redis.url(self.broker_db))
        broker.__enter__()
        self.addCleanup(broker.__exit__, None, None, None)

    def start_worker(self, **env):
        worker = WorkerProcess("jobflow-fault-redis", env=env)
        worker.start()
        self.addCleanup(worker.stop)
        return worker

    def assert_each_step_ran_once(self, run, names):
        per_step = dict(
            JobResult.objects.filter(jobflow_step_runs__run=run)
            .values_list("jobflow_step_runs__step_name")
            .annotate(n=Count("pk"))
        )
        self.assertEqual(per_step, dict.fromkeys(names, 1), "one JobResult per step")
        self.assertEqual(run.step_runs.count(), len(names), "no step needed a second attempt")
        successes = JobResult.objects.filter(jobflow_step_runs__run=run, status=JobResultStatusChoices.STATUS_SUCCESS)
        self.assertEqual(successes.count(), len(names))

    def test_restart_while_a_step_runs(self):
        """Broker and cache on one Redis (as `invoke start` runs it); it restarts, empty, while a step runs."""
        # nautobot_config.py builds the test broker and cache URLs from NAUTOBOT_REDIS_PORT.
        self.start_worker(NAUTOBOT_REDIS_PORT=str(self.redis.port))
        workflow = build_workflow(
            {
                "first": {"job": "Sleep", "inputs": {"seconds": 4}},
                "second": {"job": "Echo", "inputs": {"message": "after {{ steps.first.status }}"}},
                "third": {"job": "Echo", "inputs": {"message": "{{ steps.second.result.message }}!"}},
            },
            [("first", "second"), ("second", "third")],
        )
        run = start(workflow, self.admin)
        wait_until_started(run, ["first"])
        self.redis.kill()
        time.sleep(2)
        self.redis.start()
        # The worker reconnects to the new, empty Redis and sends the next steps there.
        run = wait_for_run(run, timeout=90)
        self.assertEqual(run.status, R.SUCCEEDED, run_summary(run))
        self.assertEqual(step_runs(run)["third"].result["message"], "after succeeded!")
        self.assert_each_step_ran_once(run, ["first", "second", "third"])

    def test_task_lost_while_broker_down_is_sent_again(self):
        """Broker alone on the Redis that goes down: the next step's task cannot be sent and is lost."""
        worker = self.start_worker(JOBFLOW_TEST_BROKER_URL=self.redis.url(self.broker_db))
        workflow = build_workflow(
            {
                "first": {"job": "Sleep", "inputs": {"seconds": 2}},
                "second": {"job": "Echo", "inputs": {"message": "after {{ steps.first.status }}"}},
            },
            [("first", "second")],
        )
        run = start(workflow, self.admin)
        wait_until_started(run, ["first"])
        self.redis.kill()
        wait_for(
            lambda: "Could not advance workflow run" in worker.log_text(),
            timeout=150,
            message="the worker failed to send the second step while Redis was down",
        )
        self.redis.start()
        second = WorkflowStepRun.objects.get(run=run, step_name="second")
        self.assertEqual(second.status, S.RUNNING)
        time.sleep(3)
        second.job_result.refresh_from_db()
        self.assertEqual(second.job_result.status, JobResultStatusChoices.STATUS_PENDING, "nothing sent it again")

        # The reconciler finds the task neither in its queue nor on a worker, and sends the same JobResult again.
        self.assertEqual(reconcile(stale_after=0).resent, 1)
        # Now it waits in its queue, is on the worker or has run: another pass must not send it a second time.
        self.assertEqual(reconcile(stale_after=0).resent, 0)
        run = wait_for_run(run, timeout=150)
        self.assertEqual(run.status, R.SUCCEEDED, run_summary(run))
        self.assertEqual(step_runs(run)["second"].result["message"], "after succeeded")
        self.assert_each_step_ran_once(run, ["first", "second"])
