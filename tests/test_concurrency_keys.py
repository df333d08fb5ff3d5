"""Concurrency keys through the real worker: attempts with the same key never overlap, across runs and items, start
in arrival order, and a key held by an attempt whose worker was SIGKILLed is freed by the reconciler."""

import pytest
from nautobot.apps.testing import TransactionTestCase
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import JobResult

from nautobot_jobflow.choices import StepRunStatusChoices as STEP
from nautobot_jobflow.choices import WorkflowRunStatusChoices as RUN
from nautobot_jobflow.engine.reconcile_runs import reconcile
from nautobot_jobflow.models import ConcurrencySlot, WorkflowStepRun
from tests.fixtures import create_superuser, refresh_jobs, wait_for
from tests.fixtures_engine import build_workflow, run_summary, start, step_runs, wait_for_run
from tests.fixtures_faults import fault_queue, wait_until_started
from tests.worker import WorkerProcess


def interval(step_run):
    job_result = JobResult.objects.get(pk=step_run.job_result_id)
    return job_result.date_started, job_result.date_done


def overlaps(first, second):
    return first[0] < second[1] and second[0] < first[1]


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class ConcurrencyKeyTest(TransactionTestCase):
    """The worker has two processes, so without a key two attempts would run at once."""

    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.admin = create_superuser()
        self.workflow = build_workflow(
            {
                "change": {
                    "job": "Sleep",
                    "inputs": {"seconds": 2},
                    "concurrency_key": "device-{{ inputs.device }}",
                }
            }
        )

    def test_runs_sharing_a_key_never_overlap_and_start_in_arrival_order(self):
        runs = [start(self.workflow, self.admin, {"device": "r1"}) for _ in range(3)]
        other = start(self.workflow, self.admin, {"device": "r2"})
        runs = [wait_for_run(run, timeout=120) for run in runs]
        other = wait_for_run(other, timeout=120)
        for run in [*runs, other]:
            self.assertEqual(run.status, RUN.SUCCEEDED, run_summary(run))
        intervals = [interval(step_runs(run)["change"]) for run in runs]
        for index, first in enumerate(intervals):
            for second in intervals[index + 1 :]:
                self.assertFalse(overlaps(first, second), f"same key ran at once: {intervals}")
        self.assertEqual(sorted(intervals), intervals, "started in the order they arrived")
        self.assertTrue(
            any(overlaps(interval(step_runs(other)["change"]), first) for first in intervals),
            "a different key is not held back",
        )
        waited = [step_runs(run)["change"].waiting_since for run in runs]
        self.assertIsNone(waited[0])
        self.assertTrue(all(waited[1:]), "the later ones waited for the key")
        self.assertEqual(ConcurrencySlot.objects.count(), 0, "every slot is freed")

    def test_for_each_items_sharing_a_key_never_overlap(self):
        workflow = build_workflow(
            {
                "each": {
                    "job": "Sleep",
                    "inputs": {"seconds": 1},
                    "for_each": "{{ inputs.devices }}",
                    "concurrency_key": "device-{{ item }}",
                }
            }
        )
        run = wait_for_run(start(workflow, self.admin, {"devices": ["a", "a", "b"]}), timeout=120)
        self.assertEqual(run.status, RUN.SUCCEEDED, run_summary(run))
        items = list(run.step_runs.filter(item_index__isnull=False).order_by("item_index"))
        self.assertFalse(overlaps(interval(items[0]), interval(items[1])))
        self.assertEqual(ConcurrencySlot.objects.count(), 0)


@pytest.mark.worker
class ConcurrencyKeyReapedTest(TransactionTestCase):
    """The holder's worker is SIGKILLed: the reconciler reaps the attempt, frees its key, and the waiter runs."""

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

    def test_a_key_held_by_a_killed_workers_attempt_is_freed_by_the_reconciler(self):
        key = "device-{{ inputs.device }}"
        holder_flow = build_workflow(
            {"hold": {"job": "Sleep", "inputs": {"seconds": 120}, "job_queue": self.queue, "concurrency_key": key}}
        )
        waiter_flow = build_workflow(
            {"wait": {"job": "Sleep", "inputs": {"seconds": 1}, "job_queue": self.queue, "concurrency_key": key}}
        )
        worker = self.start_worker("jobflow-keys-a")
        holder = start(holder_flow, self.admin, {"device": "r9"})
        wait_until_started(holder, ["hold"])
        waiter = start(waiter_flow, self.admin, {"device": "r9"})
        wait_for(lambda: WorkflowStepRun.objects.filter(run=waiter, status=STEP.WAITING).exists())
        self.assertEqual(ConcurrencySlot.objects.get().holder.run_id, holder.pk)
        worker.kill()
        self.start_worker("jobflow-keys-b")
        wait_for(lambda: reconcile(stale_after=1).reaped == 1, timeout=60, message="the reconciler reaps the holder")
        holder = wait_for_run(holder)
        self.assertEqual(holder.status, RUN.FAILED)
        self.assertIn("reaped", step_runs(holder)["hold"].error)
        waiter = wait_for_run(waiter, timeout=90)
        self.assertEqual(waiter.status, RUN.SUCCEEDED, run_summary(waiter))
        self.assertEqual(step_runs(waiter)["wait"].job_result.status, JobResultStatusChoices.STATUS_SUCCESS)
        self.assertEqual(ConcurrencySlot.objects.count(), 0)
