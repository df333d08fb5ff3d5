"""A hook storm through the real Celery worker: 5,000 object changes in about a minute with debounce on.

The number of runs equals the number of (rule, object, window) groups; no change is lost, none counted twice. Two
writers (this process and a second one) change half the objects each, at the same time, as fast as Nautobot's
change logging lets them (about 12 ms of CPU per change on this kind of machine, nearly all of it core's: object
serialization and job-hook lookups); the time taken is printed, not asserted.
"""

import time
from collections import Counter

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Sum
from nautobot.apps.testing import TransactionTestCase
from nautobot.dcim.models import Manufacturer
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import JobResult, ObjectChange

from nautobot_jobflow.choices import HookFiringStatusChoices
from nautobot_jobflow.hooks import queue
from nautobot_jobflow.models import HookFiring, HookWindow, HookWindowEvent
from tests.fixtures import create_superuser, get_test_job, refresh_jobs, wait_for
from tests.fixtures_hooks import clear_hook_queue, create_rule
from tests.storm_changes import NAME_FORMAT, SecondWriter, description, is_hot, make_changes

OBJECTS = 50
ROUNDS = 100  # every round changes every object once, in one change context: OBJECTS * ROUNDS changes
DEBOUNCE_SECONDS = 15  # the storm lasts longer: several windows per object
HOT_OBJECTS = 10  # the second rule watches these only (object filter)


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
            [Manufacturer(name=NAME_FORMAT.format(index)) for index in range(OBJECTS)]
        )
        watched = manufacturers[:: OBJECTS // HOT_OBJECTS]  # spread over both writers' halves
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

        for round_number in range(ROUNDS):
            for index, manufacturer in enumerate(manufacturers):
                expected[every.pk][str(manufacturer.pk)] += 1
                if is_hot(index, round_number) and str(manufacturer.pk) in watched_ids:
                    expected[hot.pk][str(manufacturer.pk)] += 1

        half = OBJECTS // 2
        other = SecondWriter(self.admin, half, OBJECTS, ROUNDS)  # the second half, from another process
        started = time.monotonic()
        other.go()
        make_changes(self.admin, list(enumerate(manufacturers))[:half], ROUNDS)
        other.wait()
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

        # Both writers made all their changes, and Nautobot logged each one.
        self.assertEqual(
            ObjectChange.objects.filter(
                changed_object_type=ContentType.objects.get_for_model(Manufacturer), action="update"
            ).count(),
            OBJECTS * ROUNDS,
        )
        final = dict(
            Manufacturer.objects.filter(pk__in=[m.pk for m in manufacturers]).values_list("name", "description")
        )
        self.assertEqual(final, {m.name: description(index, ROUNDS - 1) for index, m in enumerate(manufacturers)})

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
