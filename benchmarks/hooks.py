"""Hook rules: what they cost a REST bulk edit, and how many runs debounce leaves.

- 1,000 devices edited by one ``PATCH /api/dcim/devices/`` (a list), with no rules and with 50 enabled rules (10 of
  which match every edited device: batch mode with a debounce window; 20 watch devices with conditions that never
  hold; 20 watch interfaces and locations). Timed as the request (median of --repeat, alternating), ratio printed
  (target <= 1.2). The request only queues events; a worker evaluates them, so it is timed separately.
- Then a real Celery worker drains the queued events of every timed edit with rules: time to evaluate them, and the
  number of runs started (10 batch rules -> 10 runs, where 10 x 1,000 x repeat matches fired without debounce).
"""

import statistics
import time

from scratch import scratch_database

DESCRIPTION = "REST bulk edit of 1,000 devices with 50 hook rules (10 matching) vs none; runs started with debounce"
DEVICES = 1000
MATCHING, NEVER_MATCHING, OTHER_TYPES = 10, 20, 20
DEBOUNCE_SECONDS = 20
MAX_REPEAT = 3  # each repetition is two bulk edits of 1,000 devices
PUBLISH_SAMPLES = 2000


def _patch(client, devices, round_number):
    from django.urls import reverse

    body = [{"id": str(device.pk), "serial": f"r{round_number}-{index}"} for index, device in enumerate(devices)]
    started = time.perf_counter()
    response = client.patch(reverse("dcim-api:device-list"), body, content_type="application/json")
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"bulk edit failed: {response.status_code} {response.content[:300]!r}")
    return elapsed


def _rules(prefix):
    from tests.fixtures_hooks import create_rule

    for index in range(MATCHING):
        create_rule("Noop", name=f"{prefix}-batch-{index}", batch=True, debounce_seconds=DEBOUNCE_SECONDS,
                    conditions=[{"path": "serial", "op": "changed"}])  # fmt: skip
    for index in range(NEVER_MATCHING):
        create_rule("Noop", name=f"{prefix}-never-{index}",
                    conditions=[{"path": "status", "op": "eq", "value": f"No such status {index}"}])  # fmt: skip
    for index in range(OTHER_TYPES):
        label = "dcim.interface" if index % 2 else "dcim.location"
        create_rule("Noop", name=f"{prefix}-other-{index}", content_types=(label,), actions=("create", "update"))


def run(options):
    """Time both ways in a scratch database; returns the lines to print."""
    with scratch_database("jobflow_benchmark_hooks"):
        return _measure(min(options.repeat, MAX_REPEAT))


def _measure(repeat):
    from django.contrib.auth import get_user_model
    from django.test import Client
    from nautobot.extras.models import JobResult

    from nautobot_jobflow.hooks import queue
    from nautobot_jobflow.models import HookRule, HookWindow
    from tests.fixtures import get_test_job, refresh_jobs
    from tests.fixtures_hooks import create_test_devices
    from tests.worker import WorkerProcess

    refresh_jobs()
    user, _ = get_user_model().objects.get_or_create(username="benchmark", defaults={"is_superuser": True})
    devices = create_test_devices(DEVICES, prefix="bench")
    client = Client()
    client.force_login(user)
    redis = queue.connection()
    redis.delete(queue.EVENTS_KEY, queue.DRAIN_FLAG_KEY)
    redis.set(queue.DRAIN_FLAG_KEY, "held by the benchmark", ex=3600)  # no drain is scheduled while timing
    _rules("bench")
    rules = list(HookRule.objects.all())
    times = {"none": [], "rules": []}
    round_number = 0
    _patch(client, devices, round_number)  # warm-up (with rules, so every process has loaded them)
    redis.delete(queue.EVENTS_KEY)
    for _ in range(repeat):
        HookRule.objects.filter(pk__in=[rule.pk for rule in rules]).update(enabled=False)
        _bump()
        round_number += 1
        times["none"].append(_patch(client, devices, round_number))
        HookRule.objects.filter(pk__in=[rule.pk for rule in rules]).update(enabled=True)
        _bump()
        round_number += 1
        times["rules"].append(_patch(client, devices, round_number))
    queued = redis.llen(queue.EVENTS_KEY)
    median = {key: statistics.median(values) for key, values in times.items()}
    ratio = median["rules"] / median["none"]
    per_event = _publish_cost(devices[0], rules, redis)

    redis.delete(queue.DRAIN_FLAG_KEY)
    noop = get_test_job("Noop")
    worker = WorkerProcess(name="jobflow-bench-hooks", concurrency=2)
    worker.start()
    try:
        started = time.perf_counter()
        queue.reschedule_if_stuck()
        _wait(lambda: redis.llen(queue.EVENTS_KEY) == 0 and not redis.exists(queue.DRAIN_FLAG_KEY), "queue drained")
        drained = time.perf_counter() - started
        windows = HookWindow.objects.count()
        _wait(
            lambda: not HookWindow.objects.filter(status="open").exists(), "windows fired", timeout=DEBOUNCE_SECONDS * 6
        )
        runs = JobResult.objects.filter(job_model=noop).count()
    finally:
        worker.stop()
    matches = MATCHING * DEVICES * repeat
    return [
        f"median of {repeat} bulk edits of {DEVICES} devices (PATCH /api/dcim/devices/), alternating",
        f"no rules {median['none']:.2f}s, 50 rules {median['rules']:.2f}s, ratio {ratio:.2f} (target <= 1.2)",
        f"what the app adds to each published change: {per_event['none'] * 1e6:.0f} us without rules, "
        f"{per_event['rules'] * 1e6:.0f} us with the 50 rules (device edit in this run: "
        f"{median['none'] / DEVICES * 1e3:.1f} ms per device)",
        f"queued events {queued}; one worker (2 processes) evaluated them against 50 rules in {drained:.1f}s "
        f"({queued / drained:.0f} events/s)",
        f"debounce {DEBOUNCE_SECONDS}s, batch mode: {matches} (rule, device) matches -> {windows} windows -> "
        f"{runs} runs started",
    ]


def _publish_cost(device, rules, redis):
    """Seconds per call of Nautobot's publish_event for one device change, with the 50 rules and without."""
    from django.contrib.contenttypes.models import ContentType
    from nautobot.core.events import publish_event
    from nautobot.extras.models import ObjectChange

    from nautobot_jobflow.hooks import queue
    from nautobot_jobflow.models import HookRule

    object_change = ObjectChange.objects.filter(
        changed_object_type=ContentType.objects.get_for_model(device), changed_object_id=device.pk
    ).latest("time")
    payload = object_change.get_snapshots()
    payload["context"] = {"request_id": str(object_change.request_id), "user_name": "benchmark"}
    costs = {}
    for label, enabled in (("none", False), ("rules", True)):
        HookRule.objects.filter(pk__in=[rule.pk for rule in rules]).update(enabled=enabled)
        _bump()
        publish_event(topic="nautobot.update.dcim.device", payload=payload)  # reload the rule cache once
        started = time.perf_counter()
        for _ in range(PUBLISH_SAMPLES):
            publish_event(topic="nautobot.update.dcim.device", payload=payload)
        costs[label] = (time.perf_counter() - started) / PUBLISH_SAMPLES
    redis.ltrim(queue.EVENTS_KEY, 0, -(PUBLISH_SAMPLES + 2))  # drop the 1 + PUBLISH_SAMPLES samples again
    return costs


def _bump():
    from nautobot_jobflow.hooks.registry import bump_generation

    bump_generation()


def _wait(predicate, message, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{message}: not within {timeout}s")
