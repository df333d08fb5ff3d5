"""For-each overhead against the same Jobs enqueued directly, on a real Celery worker with two processes.

- 500 no-op items with concurrency 50 vs the same 500 Jobs enqueued directly in waves of 50 (each wave waited for);
- the engine's peak memory (tracemalloc, in process) while it expands and advances a 1,000-item for-each.

Prints times (median of --repeat, at most 3) and the ratio. Runs against a scratch database cloned from the template.
"""

import os
import statistics
import time
import tracemalloc

from scratch import scratch_database

DESCRIPTION = "for-each of 500 no-op items (concurrency 50) vs 500 Jobs enqueued directly in waves of 50"
ITEMS = 500
CONCURRENCY = 50
MEMORY_ITEMS = 1000
MAX_REPEAT = 3
POLL = 0.05


def _wait_job_results(pks, timeout=900):
    from nautobot.extras.choices import JobResultStatusChoices
    from nautobot.extras.models import JobResult

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if JobResult.objects.filter(pk__in=pks, status__in=JobResultStatusChoices.READY_STATES).count() == len(pks):
            return
        time.sleep(POLL)
    raise RuntimeError("direct jobs did not finish in time")


def _direct_waves(job, user):
    from nautobot.extras.models import JobResult

    started = time.perf_counter()
    for _ in range(ITEMS // CONCURRENCY):
        _wait_job_results([JobResult.enqueue_job(job, user, job_kwargs={}).pk for _ in range(CONCURRENCY)])
    return time.perf_counter() - started


def _for_each(workflow, user):
    from nautobot_jobflow.choices import WorkflowRunStatusChoices
    from nautobot_jobflow.service import launch

    started = time.perf_counter()
    run = launch(workflow, {"hosts": list(range(ITEMS))}, user, "api").run
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        run.refresh_from_db(fields=["status"])
        if run.status in WorkflowRunStatusChoices.FINAL:
            if run.status != WorkflowRunStatusChoices.SUCCEEDED:
                raise RuntimeError(f"benchmark run ended {run.status}: {run.error}")
            return time.perf_counter() - started
        time.sleep(POLL)
    raise RuntimeError("for-each run did not finish in time")


def _peak_memory(user):
    """Peak memory of the engine in this process: the 1,000-item expansion and the advances that start items."""
    from nautobot.extras.choices import JobResultStatusChoices
    from nautobot.extras.models import JobResult

    from nautobot_jobflow.engine.control import start_workflow
    from nautobot_jobflow.engine.runner import advance
    from tests.fixtures_engine import build_workflow

    workflow = build_workflow({"each": {"job": "Noop", "for_each": "{{ inputs.hosts }}", "concurrency": 100}})
    hosts = [f"host-{index:04d}" for index in range(MEMORY_ITEMS)]
    run = start_workflow(workflow, {"hosts": hosts}, user, "api", False).run
    tracemalloc.start()
    advance(run.pk)  # expands the items, starts the first 100 (no worker consumes them: nothing is committed here)
    for _ in range(5):  # items finishing and the next ones starting
        running = run.step_runs.filter(item_index__isnull=False, status="running").values_list(
            "job_result_id", flat=True
        )
        JobResult.objects.filter(pk__in=list(running)[:20]).update(status=JobResultStatusChoices.STATUS_SUCCESS)
        advance(run.pk)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def run(options):
    """Time both ways in a scratch database; returns the lines to print."""
    with scratch_database("jobflow_benchmark_for_each"):
        return _measure(min(options.repeat, MAX_REPEAT))


def _measure(repeat):
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from nautobot.extras.models import JobResult

    from tests.fixtures import get_test_job, refresh_jobs
    from tests.fixtures_engine import build_workflow
    from tests.worker import WorkerProcess

    load_before = _load()
    refresh_jobs()
    user, _ = get_user_model().objects.get_or_create(username="benchmark", defaults={"is_superuser": True})
    noop = get_test_job("Noop")
    workflow = build_workflow(
        {"each": {"job": "Noop", "for_each": "{{ inputs.hosts }}", "concurrency": CONCURRENCY}}, name="bench-for-each"
    )
    worker = WorkerProcess(name="jobflow-bench-foreach", concurrency=2)
    worker.start()
    try:
        _wait_job_results([JobResult.enqueue_job(noop, user, job_kwargs={}).pk for _ in range(4)])  # warm-up
        direct, engine = [], []
        for _ in range(repeat):
            direct.append(_direct_waves(noop, user))
            engine.append(_for_each(workflow, user))
    finally:
        worker.stop()
    with transaction.atomic():
        peak = _peak_memory(user)
        transaction.set_rollback(True)
    ratio = statistics.median(engine) / statistics.median(direct)
    each = ", ".join(f"{e / d:.2f}" for e, d in zip(engine, direct, strict=True))
    return [
        f"median of {repeat}, one worker with 2 processes (load average before {load_before}, after {_load()})",
        f"{ITEMS} no-op items, concurrency {CONCURRENCY}: direct waves {statistics.median(direct):.2f}s, "
        f"for-each {statistics.median(engine):.2f}s, ratio {ratio:.2f} (target <= 1.3; each repetition: {each})",
        f"engine peak memory for a {MEMORY_ITEMS}-item for-each (expansion + 5 advances, tracemalloc): "
        f"{peak / 1024 / 1024:.1f} MiB",
    ]


def _load():
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "unknown"
