"""A hook storm through the real Celery worker: 5,000 object changes in under a minute with debounce on.

The number of runs equals the number of (rule, object, window) groups; no change is lost, none counted twice.
"""

import time
from collections import Counter

import pytest
from django.db.models import Count, Sum
from nautobot.apps.testing import TransactionTestCase
from nautobot.dcim.models import Manufacturer
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.context_managers import web_request_context
from nautobot.extras.models import JobResult

from nautobot_jobflow.choices import HookFiringStatusChoices
from nautobot_jobflow.hooks import queue
from nautobot_jobflow.models import HookFiring, HookWindow, HookWindowEvent
from tests.fixtures import create_superuser, get_test_job, refresh_jobs, wait_for
from tests.fixtures_hooks import clear_hook_queue, create_rule

OBJECTS = 50
ROUNDS = 100  # every round changes every object once, in one change context: OBJECTS * ROUNDS changes
DEBOUNCE_SECONDS = 15  # the storm lasts longer: several windows per object
HOT_OBJECTS = 10  # the second rule watches these only (object filter)


def is_hot(index, round_number):
    """Whether the change of object ``index`` in ``round_number`` makes its description end in "hot"."""
    return (index + round_number) % 4 == 0


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class HookStormTest(TransactionTestCase):
    """Manufacturers (a light change-logged model) changed by rounds of change contexts, as a script would."""

    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.admin = create_superuser()
        clear_hook_queue()

    def test_5000_changes_with_debounce(self):
        manufacturers = Manufacturer.objects.bulk_create(
            [Manufacturer(name=f"storm-{index:02d}") for index in range(OBJECTS)]
        )
        watched = manufacturers[:HOT_OBJECTS]
        every = create_rule(
            "Noop", name="storm-every-update", content_types=("dcim.manufacturer",), debounce_seconds=DEBOUNCE_SECONDS
        )
        hot = create_rule(
            "Noop",
            name="storm-hot-half",
            content_types=("dcim.manufacturer",),
            debounce_seconds=DEBOUNCE_SECONDS,
            conditions=[{"path": "description", "op": "regex", "value": "hot$"}],
            object_filter={"name": [m.name for m in watched]},
        )
        expected = {every.pk: Counter(), hot.pk: Counter()}  # rule -> object id -> changes it matched
        watched_ids = {str(m.pk) for m in watched}

        started = time.monotonic()
        for round_number in range(ROUNDS):
            with web_request_context(self.admin):
                for index, manufacturer in enumerate(manufacturers):
                    manufacturer.description = f"r{round_number}-{'hot' if is_hot(index, round_number) else 'cold'}"
                    manufacturer.save()
                    expected[every.pk][str(manufacturer.pk)] += 1
                    if is_hot(index, round_number) and str(manufacturer.pk) in watched_ids:
                        expected[hot.pk][str(manufacturer.pk)] += 1
        changed = time.monotonic()
        wait_for(lambda: queue.pending() == 0, timeout=120, message="event queue drained")
        drained = time.monotonic()
        wait_for(
            lambda: not HookWindow.objects.filter(status="open").exists(),
            timeout=DEBOUNCE_SECONDS + 60,
            message="every window fired",
        )
        noop = get_test_job("Noop")
        wait_for(
            lambda: (
                not JobResult.objects.filter(job_model=noop)
                .exclude(status__in=JobResultStatusChoices.READY_STATES)
                .exists()
            ),
            timeout=120,
            message="every run finished",
        )
        finished = time.monotonic()
        print(
            f"\nhook storm: {OBJECTS * ROUNDS} changes in {changed - started:.1f}s; queue drained "
            f"{drained - changed:.1f}s after the last change; windows fired and runs finished "
            f"{finished - drained:.1f}s later"
        )

        # Every matched change counted in exactly one window of its (rule, object).
        self.assertEqual(sum(expected[every.pk].values()), OBJECTS * ROUNDS)
        self.assertEqual(len(expected[hot.pk]), len(watched))
        for rule in (every, hot):
            counted = Counter()
            for window in HookWindow.objects.filter(rule=rule).prefetch_related("events"):
                (event,) = window.events.all()
                self.assertEqual(window.key, f"object:dcim.manufacturer:{event.object_id}")
                self.assertEqual(event.count, window.event_count)
                counted[event.object_id] += window.event_count
            self.assertEqual(counted, expected[rule.pk], f"changes per object counted by {rule}'s windows")
        self.assertEqual(
            HookWindowEvent.objects.filter(window__rule__in=[every, hot]).aggregate(total=Sum("count"))["total"],
            sum(expected[every.pk].values()) + sum(expected[hot.pk].values()),
        )

        # Every window fired exactly once, with one firing and one run; nothing else started a run.
        windows = HookWindow.objects.filter(rule__in=[every, hot])
        self.assertFalse(windows.exclude(status="fired").exists(), "no open window left")
        per_window = windows.annotate(n=Count("firings")).values_list("n", flat=True)
        self.assertEqual(set(per_window), {1}, "one firing per window")
        firings = HookFiring.objects.filter(rule__in=[every, hot])
        self.assertFalse(firings.filter(window__isnull=True).exists(), "no firing without a window")
        self.assertEqual(set(firings.values_list("status", flat=True)), {HookFiringStatusChoices.FIRED})
        self.assertEqual(firings.filter(job_result__isnull=True).count(), 0)
        self.assertEqual(firings.values("job_result").distinct().count(), firings.count(), "one run per firing")
        runs = JobResult.objects.filter(job_model=noop)
        self.assertEqual(runs.count(), windows.count())
        self.assertEqual(runs.count(), firings.count())
        self.assertEqual(set(runs.values_list("status", flat=True)), {JobResultStatusChoices.STATUS_SUCCESS})
        self.assertGreater(windows.filter(rule=every).count(), OBJECTS, "objects got several windows each")

        redis = queue.connection()
        self.assertEqual((redis.llen(queue.EVENTS_KEY), redis.llen(queue.PROCESSING_KEY)), (0, 0))
        print(f"hook storm: {windows.count()} windows -> {firings.count()} firings -> {runs.count()} runs")
