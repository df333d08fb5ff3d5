"""Workflow engine overhead against the same Jobs enqueued directly, on a real Celery worker.

- 20 sequential no-op steps vs 20 direct enqueues, each waited for before the next;
- 100-way fan-out into one join vs 100 direct enqueues waited for together, then one more.

Prints times (median of --repeat) and ratios. Runs against a scratch database cloned from the template.
"""

import os
import statistics
import time

from scratch import scratch_database

DESCRIPTION = "workflow engine vs the same Jobs enqueued directly (20 sequential steps; 100-way fan-out + join)"
POLL = 0.02
SEQUENTIAL_STEPS = 20
FAN_WIDTH = 100
MAX_REPEAT = 5  # each repetition runs 242 Jobs on the worker (about 30 s); medians of 5 are steadier


def _wait_job_results(job_results, timeout=600):
    from nautobot.extras.choices import JobResultStatusChoices
    from nautobot.extras.models import JobResult

    pks = [job_result.pk for job_result in job_results]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if JobResult.objects.filter(pk__in=pks, status__in=JobResultStatusChoices.READY_STATES).count() == len(pks):
            return
        time.sleep(POLL)
    raise RuntimeError("direct jobs did not finish in time")


def _wait_run(run, timeout=600):
    from nautobot_jobflow.choices import WorkflowRunStatusChoices

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db(fields=["status"])
        if run.status in WorkflowRunStatusChoices.FINAL:
            if run.status != WorkflowRunStatusChoices.SUCCEEDED:
                raise RuntimeError(f"benchmark run ended {run.status}")
            return
        time.sleep(POLL)
    raise RuntimeError("workflow run did not finish in time")


def _direct_sequential(job, user, count):
    from nautobot.extras.models import JobResult

    started = time.perf_counter()
    for _ in range(count):
        _wait_job_results([JobResult.enqueue_job(job, user, job_kwargs={})])
    return time.perf_counter() - started


def _direct_fan(job, user, width):
    from nautobot.extras.models import JobResult

    started = time.perf_counter()
    _wait_job_results([JobResult.enqueue_job(job, user, job_kwargs={}) for _ in range(width)])
    _wait_job_results([JobResult.enqueue_job(job, user, job_kwargs={})])
    return time.perf_counter() - started


def _workflow_time(workflow, user):
    from nautobot_jobflow.service import launch

    started = time.perf_counter()
    run = launch(workflow, {}, user, "api").run
    _wait_run(run)
    return time.perf_counter() - started


def run(options):
    """Time both shapes both ways in a scratch database; returns the lines to print."""
    with scratch_database("jobflow_benchmark_workflows"):
        return _measure(min(options.repeat, MAX_REPEAT))


def _measure(repeat):
    from django.contrib.auth import get_user_model

    from tests.fixtures import get_test_job, refresh_jobs
    from tests.fixtures_engine import build_workflow
    from tests.worker import WorkerProcess

    load_before = _load()
    refresh_jobs()
    user, _ = get_user_model().objects.get_or_create(username="benchmark", defaults={"is_superuser": True})
    noop = get_test_job("Noop")
    length, width = SEQUENTIAL_STEPS, FAN_WIDTH
    chain = build_workflow(
        {f"s{i:02d}": "Noop" for i in range(length)}, [(f"s{i:02d}", f"s{i + 1:02d}") for i in range(length - 1)]
    )
    fan_steps = {f"p{i:03d}": "Noop" for i in range(width)} | {"join": "Noop"}
    fan = build_workflow(fan_steps, [(name, "join") for name in fan_steps if name != "join"])

    worker = WorkerProcess(name="jobflow-bench-a", concurrency=2, purge_broker=True)
    worker.start()
    try:
        _direct_sequential(noop, user, 3)  # warm-up: worker processes import everything once
        results = {"seq_direct": [], "seq_workflow": [], "fan_direct": [], "fan_workflow": []}
        for _ in range(repeat):
            results["seq_direct"].append(_direct_sequential(noop, user, length))
            results["seq_workflow"].append(_workflow_time(chain, user))
            results["fan_direct"].append(_direct_fan(noop, user, width))
            results["fan_workflow"].append(_workflow_time(fan, user))
    finally:
        worker.stop()
    median = {key: statistics.median(values) for key, values in results.items()}
    seq_ratio = median["seq_workflow"] / median["seq_direct"]
    fan_ratio = median["fan_workflow"] / median["fan_direct"]

    def each(shape):
        ratios = [w / d for w, d in zip(results[f"{shape}_workflow"], results[f"{shape}_direct"], strict=True)]
        return ", ".join(f"{ratio:.2f}" for ratio in ratios)

    return [
        f"median of {repeat}, one worker with 2 processes (load average before {load_before}, after {_load()})",
        f"{length} sequential no-op steps: direct {median['seq_direct']:.2f}s, "
        f"workflow {median['seq_workflow']:.2f}s, ratio {seq_ratio:.2f} (target <= 1.15; each repetition: "
        f"{each('seq')})",
        f"{width}-way fan-out + join: direct {median['fan_direct']:.2f}s, "
        f"workflow {median['fan_workflow']:.2f}s, ratio {fan_ratio:.2f} (target <= 1.3; each repetition: "
        f"{each('fan')})",
    ]


def _load():
    """The 1-minute load average: a busy machine slows the worker's side (the engine) more than the waiting side."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "unknown"
