"""The app's metrics as a Prometheus scraper reads them: an HTTP GET of Nautobot's /metrics, parsed as text.

The dev and test configuration enables Nautobot's endpoint (``NAUTOBOT_METRICS_ENABLED=True`` in development/dev.env,
unauthenticated as in Nautobot's default).
"""

import json
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from nautobot.apps.testing import TestCase
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import Job, JobResult
from prometheus_client.parser import text_string_to_metric_families

from nautobot_jobflow.choices import (
    HookFiringStatusChoices,
    LaunchOriginChoices,
    LaunchRequestStatusChoices,
    StepRunStatusChoices,
    WorkflowRunStatusChoices,
)
from nautobot_jobflow.hooks import queue
from nautobot_jobflow.models import HookFiring, LaunchRequest, WorkflowRun, WorkflowStepRun
from tests.fixtures import refresh_jobs
from tests.fixtures_hooks import clear_hook_queue, create_rule
from tests.fixtures_workflows import create_workflow

RUN = WorkflowRunStatusChoices
STEP = StepRunStatusChoices
# One aggregate query per family (runs, step durations, waiting steps, launch requests, firings, reconciler).
APP_QUERIES = 6
# Nautobot's single-process /metrics view collects the app metrics twice per scrape: it registers a new collector
# each time, and prometheus_client's registry calls collect() to learn its names before refusing the duplicate.
# (With PROMETHEUS_MULTIPROC_DIR the view builds a registry that does not, and the metrics run once.)
PASSES_PER_SCRAPE = 2
APP_TABLES = ('"nautobot_jobflow_', '"extras_jobresult"')


def samples(families, name):
    """{frozenset(labels): value} of one metric family's samples named ``name`` (a family's own or a suffixed one)."""
    found = {}
    for family in families:
        for sample in family.samples:
            if sample.name == name:
                found[frozenset(sample.labels.items())] = sample.value
    return found


def labels(**values):
    return frozenset(values.items())


class MetricsEndpointTest(TestCase):
    """GET /metrics with no data, then with many rows: the same queries, and the values the rows imply."""

    @classmethod
    def setUpTestData(cls):
        refresh_jobs()

    def setUp(self):
        super().setUp()
        clear_hook_queue()
        self.addCleanup(clear_hook_queue)

    def scrape(self):
        with CaptureQueriesContext(connection) as captured:
            response = self.client.get("/metrics/")
        self.assertEqual(response.status_code, 200, response.content[:500])
        self.assertTrue(response["Content-Type"].startswith("text/plain"))
        families = list(text_string_to_metric_families(response.content.decode()))
        return families, [query["sql"] for query in captured.captured_queries]

    def assertAppQueries(self, queries):
        """The app's fixed queries, the same statements on every pass."""
        app = [sql for sql in queries if any(table in sql for table in APP_TABLES)]
        self.assertEqual(len(app), APP_QUERIES * PASSES_PER_SCRAPE, "\n".join(queries))
        self.assertEqual(len(set(app)), APP_QUERIES, "\n".join(app))

    def test_empty(self):
        families, queries = self.scrape()
        self.assertAppQueries(queries)
        names = {family.name for family in families}
        for name in (
            "nautobot_jobflow_workflow_runs",
            "nautobot_jobflow_step_duration_seconds",
            "nautobot_jobflow_steps_waiting",
            "nautobot_jobflow_launch_requests",
            "nautobot_jobflow_hook_firings",
            "nautobot_jobflow_hook_queue_depth",
            "nautobot_jobflow_hook_queue_oldest_event_age_seconds",
            "nautobot_jobflow_reconciler_repairs",
            "nautobot_jobflow_reconciler_passes",
            "nautobot_jobflow_reconciler_last_pass_timestamp_seconds",
        ):
            self.assertIn(name, names)
        self.assertEqual(samples(families, "nautobot_jobflow_workflow_runs"), {})
        self.assertEqual(
            samples(families, "nautobot_jobflow_steps_waiting"),
            {labels(waiting_for=kind): 0 for kind in ("approval", "input", "concurrency_key")},
        )
        self.assertEqual(samples(families, "nautobot_jobflow_hook_queue_depth"), {frozenset(): 0})
        self.assertEqual(samples(families, "nautobot_jobflow_hook_queue_oldest_event_age_seconds"), {frozenset(): 0})
        requests = samples(families, "nautobot_jobflow_launch_requests")
        self.assertEqual(requests, {labels(status=status): 0 for status in LaunchRequestStatusChoices.values()})
        self.assertEqual(
            samples(families, "nautobot_jobflow_reconciler_repairs"),
            {labels(repair=kind): 0 for kind in ("reaped", "resent", "hook_windows_fired")},
        )
        self.assertEqual(samples(families, "nautobot_jobflow_reconciler_last_pass_timestamp_seconds"), {frozenset(): 0})

    def test_many_rows_cost_the_same_queries(self):
        _, empty_queries = self.scrape()
        self.create_rows()
        families, queries = self.scrape()
        self.assertEqual(len(queries), len(empty_queries), "\n".join(queries))
        self.assertAppQueries(queries)

        runs = samples(families, "nautobot_jobflow_workflow_runs")
        self.assertEqual(runs[labels(workflow="wf-alpha", status=RUN.SUCCEEDED)], 120)
        self.assertEqual(runs[labels(workflow="wf-alpha", status=RUN.FAILED)], 30)
        self.assertEqual(runs[labels(workflow="wf-beta", status=RUN.RUNNING)], 5)
        self.assertEqual(len(runs), 3)

        buckets = samples(families, "nautobot_jobflow_step_duration_seconds_bucket")
        alpha_succeeded = {le: buckets[labels(workflow="wf-alpha", status=STEP.SUCCEEDED, le=le)] for le in
                           ("1.0", "5.0", "60.0", "300.0", "3600.0", "14400.0", "+Inf")}  # fmt: skip
        # 100 steps of 0.5 s, 50 of 3 s, 20 of 100 s, 10 of 2 h: cumulative counts per upper bound
        self.assertEqual(
            alpha_succeeded,
            {"1.0": 100, "5.0": 150, "60.0": 150, "300.0": 170, "3600.0": 170, "14400.0": 180, "+Inf": 180},
        )
        count = samples(families, "nautobot_jobflow_step_duration_seconds_count")
        total = samples(families, "nautobot_jobflow_step_duration_seconds_sum")
        self.assertEqual(count[labels(workflow="wf-alpha", status=STEP.SUCCEEDED)], 180)
        self.assertAlmostEqual(
            total[labels(workflow="wf-alpha", status=STEP.SUCCEEDED)], 100 * 0.5 + 50 * 3 + 20 * 100 + 10 * 7200
        )
        self.assertEqual(buckets[labels(workflow="wf-alpha", status=STEP.TIMED_OUT, le="+Inf")], 4)
        skipped = [key for key in count if ("status", STEP.SKIPPED) in key or ("status", STEP.RUNNING) in key]
        self.assertEqual(skipped, [], "steps that did not run (or still run) have no duration")

        self.assertEqual(
            samples(families, "nautobot_jobflow_steps_waiting"),
            {labels(waiting_for=kind): n for kind, n in (("approval", 7), ("input", 4), ("concurrency_key", 2))},
        )
        requests = samples(families, "nautobot_jobflow_launch_requests")
        self.assertEqual(requests[labels(status=LaunchRequestStatusChoices.PENDING)], 7)
        self.assertEqual(requests[labels(status=LaunchRequestStatusChoices.EXPIRED)], 3)
        self.assertEqual(requests[labels(status=LaunchRequestStatusChoices.DENIED)], 0)

        firings = samples(families, "nautobot_jobflow_hook_firings")
        self.assertEqual(firings[labels(rule="rule-metrics", status=HookFiringStatusChoices.FIRED)], 40)
        self.assertEqual(firings[labels(rule="rule-metrics", status=HookFiringStatusChoices.SKIPPED)], 2)

        self.assertEqual(samples(families, "nautobot_jobflow_hook_queue_depth"), {frozenset(): 3})
        (age,) = samples(families, "nautobot_jobflow_hook_queue_oldest_event_age_seconds").values()
        self.assertAlmostEqual(age, 120, delta=30)

        self.assertEqual(
            samples(families, "nautobot_jobflow_reconciler_repairs"),
            {labels(repair="reaped"): 6, labels(repair="resent"): 3, labels(repair="hook_windows_fired"): 1},
        )
        self.assertEqual(samples(families, "nautobot_jobflow_reconciler_passes"), {frozenset(): 20})
        (last,) = samples(families, "nautobot_jobflow_reconciler_last_pass_timestamp_seconds").values()
        self.assertAlmostEqual(last, self.last_pass.timestamp(), delta=1)

    # ---------------------------------------------------------------------------------------------- data
    def create_rows(self):
        now = timezone.now()
        alpha, beta = create_workflow("wf-alpha"), create_workflow("wf-beta")
        runs = [self.new_run(alpha, RUN.SUCCEEDED) for _ in range(120)]
        runs += [self.new_run(alpha, RUN.FAILED) for _ in range(30)]
        runs += [self.new_run(beta, RUN.RUNNING) for _ in range(5)]
        WorkflowRun.objects.bulk_create(runs)
        durations = [0.5] * 100 + [3] * 50 + [100] * 20 + [7200] * 10
        steps = [self.new_step(runs[index % 150], f"s{index}", STEP.SUCCEEDED, now, seconds)
                 for index, seconds in enumerate(durations)]  # fmt: skip
        steps += [self.new_step(runs[index], "t", STEP.TIMED_OUT, now, 30) for index in range(4)]
        steps += [self.new_step(runs[index], "k", STEP.SKIPPED, now, 0) for index in range(6)]
        steps += [
            self.new_step(runs[150 + index % 5], f"w{index}", STEP.AWAITING_APPROVAL, now, None) for index in range(7)
        ]
        steps += [self.new_step(runs[150 + index], "r", STEP.RUNNING, now, None) for index in range(5)]
        steps += [self.new_step(runs[150 + index], "c", STEP.WAITING, now, None) for index in range(2)]
        steps += [self.new_step(runs[150 + index], "ask", STEP.AWAITING_INPUT, now, None) for index in range(4)]
        WorkflowStepRun.objects.bulk_create(steps)
        LaunchRequest.objects.bulk_create(
            [self.new_request(LaunchRequestStatusChoices.PENDING) for _ in range(7)]
            + [self.new_request(LaunchRequestStatusChoices.EXPIRED) for _ in range(3)]
        )
        rule = create_rule("Echo", name="rule-metrics")
        HookFiring.objects.bulk_create(
            [HookFiring(rule=rule, status=HookFiringStatusChoices.FIRED) for _ in range(40)]
            + [HookFiring(rule=rule, status=HookFiringStatusChoices.SKIPPED) for _ in range(2)]
        )
        self.create_reconciler_passes(now)
        self.queue_events(now)

    def new_run(self, workflow, status):
        return WorkflowRun(workflow=workflow, workflow_name=workflow.name, status=status, definition={})

    def new_step(self, run, name, status, now, seconds):
        started = now - timedelta(seconds=seconds or 0)
        finished = now if seconds is not None else None
        return WorkflowStepRun(run=run, step_name=name, status=status, started=started, finished=finished)

    def new_request(self, status):
        return LaunchRequest(
            policy_name="p", target_name="t", origin=LaunchOriginChoices.API, user_name="someone", status=status
        )

    def create_reconciler_passes(self, now):
        job = Job.objects.get(module_name="nautobot_jobflow.jobs.workflows", job_class_name="ReconcileWorkflowRuns")
        results = []
        for index in range(20):
            result = {"advanced": 3, "reaped": 0, "resent": 0, "skipped": False, "expired": 0, "hook_windows_fired": 0}
            if index < 3:
                result.update(reaped=2, resent=1)
            if index == 5:
                result["hook_windows_fired"] = 1
            results.append(
                JobResult(
                    name=job.name,
                    job_model=job,
                    task_name=job.class_path,
                    status=JobResultStatusChoices.STATUS_SUCCESS,
                    result=result,
                    date_done=now - timedelta(minutes=20 - index),
                )
            )
        failed = JobResult(name=job.name, job_model=job, task_name=job.class_path, date_done=now,
                           status=JobResultStatusChoices.STATUS_FAILURE, result={"reaped": 100})  # fmt: skip
        JobResult.objects.bulk_create([*results, failed])
        self.last_pass = results[-1].date_done

    def queue_events(self, now):
        """Two events queued and one being evaluated (the oldest, changed two minutes ago), as the drain leaves them."""

        def record(seconds_ago):
            payload = json.dumps({"context": {"timestamp": str(now - timedelta(seconds=seconds_ago))}})
            return queue.encode("nautobot.update.dcim.device", payload, None)

        redis = queue.connection()
        redis.rpush(queue.PROCESSING_KEY, record(120))
        redis.rpush(queue.EVENTS_KEY, record(30), record(5))
