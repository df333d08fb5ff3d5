"""PostgreSQL drops a worker's connections while its step runs: the step ends definitely, the run is consistent."""

import time

import pytest
from django.db import connection
from nautobot.apps.testing import TransactionTestCase
from nautobot.extras.choices import JobResultStatusChoices

from nautobot_jobflow.choices import EdgeTriggerChoices
from nautobot_jobflow.choices import StepRunStatusChoices as S
from nautobot_jobflow.choices import WorkflowRunStatusChoices as R
from nautobot_jobflow.engine.reconcile_runs import reconcile
from tests.fixtures import create_superuser, refresh_jobs
from tests.fixtures_engine import build_workflow, run_summary, start, step_runs, wait_for_run
from tests.fixtures_faults import fault_queue, wait_until_started
from tests.worker import WorkerProcess

APPLICATION_NAME = "jobflow-fault-db"


def terminate_connections(application_name):
    """pg_terminate_backend() every connection to the test database that libpq named ``application_name``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s AND datname = %s",
            [application_name, connection.settings_dict["NAME"]],
        )
        return len(cursor.fetchall())


@pytest.mark.worker
class DatabaseConnectionDroppedTest(TransactionTestCase):
    """A worker of its own queue whose database connections (named by PGAPPNAME) the test terminates mid-step."""

    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.admin = create_superuser()
        self.queue = fault_queue()
        self.worker = WorkerProcess("jobflow-fault-db", queues=[self.queue.name], env={"PGAPPNAME": APPLICATION_NAME})
        self.worker.start()
        self.addCleanup(self.worker.stop)

    def test_connections_terminated_mid_step(self):
        workflow = build_workflow(
            {
                "long": {"job": "Sleep", "inputs": {"seconds": 3}, "job_queue": self.queue},
                "cleanup": {
                    "job": "Echo",
                    "inputs": {"message": "cleanup after {{ steps.long.status }}"},
                    "job_queue": self.queue,
                },
                "next": {"job": "Noop", "job_queue": self.queue},
            },
            [("long", "cleanup", EdgeTriggerChoices.ALWAYS), ("long", "next")],
        )
        run = start(workflow, self.admin)
        wait_until_started(run, ["long"])
        self.assertGreater(terminate_connections(APPLICATION_NAME), 0, "the worker holds connections to terminate")

        # The Job ends; Nautobot's worker cannot write its result on the dead connection and fails the task, then
        # closes the connection and opens a new one: the failure reaches the database and the engine.
        run = wait_for_run(run, timeout=60)
        latest = step_runs(run)
        long_step = latest["long"]
        self.assertEqual(long_step.status, S.FAILED, run_summary(run))
        self.assertEqual(long_step.job_result.status, JobResultStatusChoices.STATUS_FAILURE)
        self.assertIn("Job failed outside its code", long_step.error)
        self.assertIn("InterfaceError", long_step.error, "the error names the lost connection")
        # The run is consistent: the failure took the on-failure path on the same (reconnected) worker.
        self.assertEqual(latest["cleanup"].status, S.SUCCEEDED)
        self.assertEqual(latest["cleanup"].result["message"], "cleanup after failed")
        self.assertEqual(latest["next"].status, S.SKIPPED)
        self.assertEqual(run.status, R.SUCCEEDED, "the failure was handled by the always edge")
        self.assertEqual(run.step_runs.count(), 3, "one attempt per step")
        # Nothing is left for the reconciler.
        time.sleep(1)
        done = reconcile(stale_after=0)
        self.assertEqual((done.advanced, done.reaped, done.resent), (0, 0, 0))
