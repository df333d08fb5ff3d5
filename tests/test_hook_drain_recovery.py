"""The hook event queue is at least once: a batch taken by a drain that dies is evaluated by the next drain.

The drain task of the kill test runs on a Celery worker of its own queue, which the test kills with SIGKILL while
the drain is blocked inside its batch (on a window row the test holds locked), so the moment of death is known.
"""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from nautobot.apps.testing import TransactionTestCase
from nautobot.extras.models import JobResult

from nautobot_jobflow.choices import HookFiringStatusChoices
from nautobot_jobflow.hooks import queue
from nautobot_jobflow.hooks.dispatch import drain
from nautobot_jobflow.hooks.recover_stuck import recover_stuck_hooks
from nautobot_jobflow.models import HookFiring, HookWindow
from nautobot_jobflow.tasks import drain_hook_events
from tests.fixtures import create_superuser, get_test_job, refresh_jobs, wait_for
from tests.fixtures_hooks import clear_hook_queue, create_rule, create_test_devices, update_device
from tests.worker import WorkerProcess

DRAIN_QUEUE = "jobflow-hook-drain-doomed"


def record(number):
    """A queued event no rule watches (evaluating it starts nothing)."""
    return queue.encode("nautobot.update.dcim.nothing", f'{{"context": {{}}, "n": {number}}}', None)


class DrainFlagTest(TransactionTestCase):
    """The queue's own functions, against the real Redis: who may drain, what a dead or slow drain leaves."""

    def setUp(self):
        super().setUp()
        self.redis = queue.connection()
        clear_hook_queue()
        self.addCleanup(clear_hook_queue)

    def test_one_drain_at_a_time_and_the_batch_is_kept_until_done(self):
        self.redis.rpush(queue.EVENTS_KEY, *[record(n) for n in range(queue.BATCH_SIZE + 20)])
        self.redis.set(queue.DRAIN_FLAG_KEY, queue.SCHEDULED)
        token = queue.claim_drain()
        self.assertIsNotNone(token)
        self.assertIsNone(queue.claim_drain(), "a second drain task ends at once")
        records, attempt = queue.take_batch(token)
        self.assertEqual((len(records), attempt), (queue.BATCH_SIZE, 1))
        self.assertEqual([r["payload"]["n"] for r in records[:3]], [0, 1, 2])
        self.assertEqual(self.redis.llen(queue.PROCESSING_KEY), queue.BATCH_SIZE)
        self.assertEqual(self.redis.llen(queue.EVENTS_KEY), 20)
        self.assertEqual(queue.pending(), queue.BATCH_SIZE + 20)
        self.assertTrue(queue.batch_done(token))
        self.assertTrue(queue.release_or_continue(token), "20 events wait: keep draining")
        records, _ = queue.take_batch(token)
        self.assertEqual([r["payload"]["n"] for r in records], list(range(queue.BATCH_SIZE, queue.BATCH_SIZE + 20)))
        self.assertTrue(queue.batch_done(token))
        self.assertEqual(queue.take_batch(token), ([], 1))
        self.assertFalse(queue.release_or_continue(token))
        self.assertFalse(self.redis.exists(queue.DRAIN_FLAG_KEY), "released: the next event schedules a drain")

    def test_batch_of_a_dead_drain_comes_first_and_a_slow_drain_does_not_delete_it(self):
        self.redis.rpush(queue.EVENTS_KEY, *[record(n) for n in range(5)])
        dead = queue.claim_drain()
        taken, _ = queue.take_batch(dead)
        self.redis.rpush(queue.EVENTS_KEY, record(99))
        self.redis.delete(queue.DRAIN_FLAG_KEY)  # the dead drain's flag expires (its time-to-live, shortened here)
        self.assertEqual(recover_stuck_hooks()[1], True, "a batch waits and no drain holds the flag: schedule one")
        self.redis.delete(queue.DRAIN_FLAG_KEY)  # (that task is not run here)
        successor = queue.claim_drain()
        again, attempt = queue.take_batch(successor)
        self.assertEqual((again, attempt), (taken, 2), "the dead drain's batch first, counted as a second attempt")
        self.assertFalse(queue.batch_done(dead), "the first drain, only slow, lost its flag: it deletes nothing")
        self.assertIsNone(queue.take_batch(dead))
        self.assertEqual(self.redis.llen(queue.PROCESSING_KEY), 5)
        self.assertTrue(queue.batch_done(successor))
        records, attempt = queue.take_batch(successor)
        self.assertEqual(([r["payload"]["n"] for r in records], attempt), ([99], 1))

    def test_a_batch_that_keeps_failing_is_dropped_after_max_attempts(self):
        self.redis.rpush(queue.PROCESSING_KEY, record(1))
        self.redis.set(queue.ATTEMPTS_KEY, queue.MAX_ATTEMPTS)  # drains died with it MAX_ATTEMPTS times
        self.redis.rpush(queue.EVENTS_KEY, record(2))
        with self.assertLogs("nautobot_jobflow.hooks.dispatch", "ERROR") as logs:
            self.assertEqual(drain(), 1, "the poisoned batch is dropped, the next one processed")
        self.assertIn("dropping a batch of 1 events after 3 attempts", logs.output[0])
        self.assertEqual(queue.pending(), 0)
        self.assertFalse(self.redis.exists(queue.DRAIN_FLAG_KEY))


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class DrainKilledMidBatchTest(TransactionTestCase):
    """SIGKILL of the worker that drains: the events it had taken are evaluated by the next drain."""

    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.admin = create_superuser()
        self.redis = queue.connection()
        clear_hook_queue()
        self.addCleanup(clear_hook_queue)

    def test_worker_killed_mid_batch(self):
        # Changes queue their events but schedule no drain: the test sends the one drain to the doomed worker.
        self.redis.set(queue.DRAIN_FLAG_KEY, "held by the test", ex=600)
        devices = create_test_devices(3)
        immediate = create_rule("Noop", name="storm-immediate")
        debounced = create_rule("Noop", name="storm-debounced", debounce_seconds=2)
        for device in devices:
            update_device(device, self.admin, serial="before-the-kill")
        self.assertEqual(self.redis.llen(queue.EVENTS_KEY), 3)
        worker = WorkerProcess("jobflow-hook-drain-doomed", concurrency=1, queues=[DRAIN_QUEUE])
        worker.start()
        self.addCleanup(worker.stop)
        now = timezone.now()
        blocking = HookWindow.objects.create(
            rule=debounced, key=f"object:dcim.device:{devices[0].pk}", opened=now, fires_at=now + timedelta(seconds=2)
        )
        with transaction.atomic():
            HookWindow.objects.select_for_update().get(pk=blocking.pk)  # the drain will wait for this row
            self.redis.set(queue.DRAIN_FLAG_KEY, queue.SCHEDULED, ex=600)
            drain_hook_events.apply_async(queue=DRAIN_QUEUE)
            wait_for(self.drain_waits_for_a_lock, timeout=60, message="the doomed drain blocked in its batch")
            # Immediate rules fired (each in its own committed transaction) before the drain reached the windows.
            self.assertEqual(HookFiring.objects.filter(rule=immediate).count(), 3)
            self.assertEqual(self.redis.llen(queue.PROCESSING_KEY), 3, "the batch waits in the processing list")
            self.assertEqual(self.redis.llen(queue.EVENTS_KEY), 0)
            worker.kill()
        self.assertEqual(self.redis.llen(queue.PROCESSING_KEY), 3, "nothing of the dead drain deleted it")
        self.assertFalse(HookFiring.objects.filter(rule=debounced).exists())

        # Its flag expires (two minutes; cut short here) and the reconciler schedules a drain on the live worker.
        self.redis.delete(queue.DRAIN_FLAG_KEY)
        self.assertEqual(recover_stuck_hooks(), (0, True))
        wait_for(
            lambda: (
                queue.pending() == 0
                and HookFiring.objects.filter(rule=debounced).count() == 3
                and not HookWindow.objects.filter(status="open").exists()
            ),
            timeout=60,
            message="the batch evaluated again and its windows fired",
        )
        self.assertFalse(self.redis.exists(queue.ATTEMPTS_KEY))

        # At least once: the immediate rule fired again for each change of the batch; each window fired once.
        fired = HookFiring.objects.filter(rule=immediate, status=HookFiringStatusChoices.FIRED)
        self.assertEqual(sorted(fired.values_list("changed_object_id", flat=True)), sorted([d.pk for d in devices] * 2))
        windows = HookWindow.objects.filter(rule=debounced)
        self.assertEqual(sorted(windows.values_list("status", "event_count")), [("fired", 1)] * 3)
        self.assertEqual(set(windows.values_list("key", flat=True)), {f"object:dcim.device:{d.pk}" for d in devices})
        for window in windows:
            self.assertEqual([f.status for f in window.firings.all()], [HookFiringStatusChoices.FIRED])
            self.assertEqual(window.changes()[0]["after"]["serial"], "before-the-kill")
        firings = HookFiring.objects.filter(rule__in=[immediate, debounced])
        self.assertEqual(JobResult.objects.filter(job_model=get_test_job("Noop")).count(), firings.count())
        self.assertEqual(firings.count(), 6 + 3)

    @staticmethod
    def drain_waits_for_a_lock():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # statistics views are a snapshot per transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0] > 0
