"""Prometheus metrics of nautobot-jobflow, served by Nautobot's ``/metrics`` endpoint (the app's ``metrics`` hook).

Every function in ``metrics`` yields metric families from one aggregate query (GROUP BY in PostgreSQL, one row per
label set) or from the hook queue's Redis: a scrape costs a fixed number of queries whatever the number of runs,
steps or firings, and no Python work per row. docs/admin/events-and-metrics.md describes every metric.
"""

import json
import logging
from datetime import UTC, datetime, timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, IntegerField, Max, Q, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import JobResult
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

from nautobot_jobflow.choices import LaunchRequestStatusChoices, StepRunStatusChoices
from nautobot_jobflow.hooks import queue
from nautobot_jobflow.jobs.workflows import ReconcileWorkflowRuns
from nautobot_jobflow.models import HookFiring, LaunchRequest, WorkflowRun, WorkflowStepRun

logger = logging.getLogger(__name__)

PREFIX = "nautobot_jobflow"
# Upper bounds (seconds) of the step duration histogram's buckets; +Inf is added.
STEP_DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600)
# Step attempts that ran: their duration is finished - started (skipped and canceled steps are left out).
TIMED_STEP_STATUSES = (StepRunStatusChoices.SUCCEEDED, StepRunStatusChoices.FAILED, StepRunStatusChoices.TIMED_OUT)
# Step statuses that wait for something outside the run → the metric's ``waiting_for`` label.
WAITING_FOR = {
    StepRunStatusChoices.AWAITING_APPROVAL: "approval",
    StepRunStatusChoices.AWAITING_INPUT: "input",
    StepRunStatusChoices.WAITING: "concurrency_key",
}
# What the reconciler's JobResult counts as repairs (its result keys).
REPAIRS = ("reaped", "resent", "hook_windows_fired")


def metric_workflow_runs():
    """Runs by workflow (its name when the run started) and status."""
    family = GaugeMetricFamily(
        f"{PREFIX}_workflow_runs", "Workflow runs recorded, by workflow and status.", labels=["workflow", "status"]
    )
    rows = WorkflowRun.objects.order_by().values_list("workflow_name", "status").annotate(count=Count("pk"))
    for workflow_name, status, count in rows:
        family.add_metric([workflow_name, status], count)
    yield family


def metric_step_durations():
    """A histogram of how long step attempts ran, by workflow and final status; the buckets are counted in SQL."""
    family = HistogramMetricFamily(
        f"{PREFIX}_step_duration_seconds",
        "How long finished step attempts ran (started to finished), by workflow and status.",
        labels=["workflow", "status"],
    )
    buckets = {
        f"le_{index}": Count("pk", filter=Q(duration__lte=timedelta(seconds=bound)))
        for index, bound in enumerate(STEP_DURATION_BUCKETS)
    }
    rows = (
        WorkflowStepRun.objects.filter(
            status__in=TIMED_STEP_STATUSES, reused_from__isnull=True, started__isnull=False, finished__isnull=False
        )
        .alias(duration=ExpressionWrapper(F("finished") - F("started"), output_field=DurationField()))
        .order_by()
        .values("run__workflow_name", "status")
        .annotate(count=Count("pk"), total=Sum("duration"), **buckets)
    )
    for row in rows:
        cumulative = [(str(float(bound)), row[f"le_{index}"]) for index, bound in enumerate(STEP_DURATION_BUCKETS)]
        total = row["total"].total_seconds() if row["total"] is not None else 0.0
        family.add_metric(
            [row["run__workflow_name"], row["status"]], [*cumulative, ("+Inf", row["count"])], sum_value=total
        )
    yield family


def metric_steps_waiting():
    """Step attempts waiting: for approval, or for a concurrency key (input steps will add ``waiting_for="input"``)."""
    family = GaugeMetricFamily(
        f"{PREFIX}_steps_waiting", "Step attempts waiting, by what they wait for.", labels=["waiting_for"]
    )
    counts = dict(
        WorkflowStepRun.objects.filter(status__in=WAITING_FOR)
        .order_by()
        .values_list("status")
        .annotate(count=Count("pk"))
    )
    for status, waiting_for in WAITING_FOR.items():
        family.add_metric([waiting_for], counts.get(status, 0))
    yield family


def metric_launch_requests():
    """Launch requests by status (every status, 0 included)."""
    family = GaugeMetricFamily(f"{PREFIX}_launch_requests", "Launch requests by status.", labels=["status"])
    counts = dict(LaunchRequest.objects.order_by().values_list("status").annotate(count=Count("pk")))
    for status in LaunchRequestStatusChoices.values():
        family.add_metric([status], counts.get(status, 0))
    yield family


def metric_hook_firings():
    """Firings by rule and status."""
    family = GaugeMetricFamily(
        f"{PREFIX}_hook_firings", "Hook rule firings recorded, by rule and status.", labels=["rule", "status"]
    )
    rows = HookFiring.objects.order_by().values_list("rule__name", "status").annotate(count=Count("pk"))
    for rule_name, status, count in rows:
        family.add_metric([rule_name, status], count)
    yield family


def metric_hook_queue():
    """Events waiting in the hook rules' queue, and the age of the oldest one (from its change's timestamp)."""
    depth = GaugeMetricFamily(
        f"{PREFIX}_hook_queue_depth", "Change events waiting for hook rule evaluation (queued or being evaluated)."
    )
    age = GaugeMetricFamily(
        f"{PREFIX}_hook_queue_oldest_event_age_seconds",
        "Age of the oldest change event waiting for hook rule evaluation (0 when none waits).",
    )
    try:
        depth.add_metric([], queue.pending())
        oldest = oldest_event_time()
        age.add_metric([], max((timezone.now() - oldest).total_seconds(), 0.0) if oldest else 0.0)
    except Exception:  # Redis away: the other metrics still answer; these two have no sample
        logger.warning("Metrics: cannot read the hook rules' event queue", exc_info=True)
    yield depth
    yield age


def oldest_event_time():
    """The change time of the oldest waiting event, or None.

    The oldest events are the heads of the processing list (a batch being evaluated) and of the queue. Each record's
    payload is Nautobot's change event, whose ``context.timestamp`` is the ObjectChange's time: the queue's format
    needs no field of its own. Two records are read, whatever the queue's length.
    """
    pipeline = queue.connection().pipeline()
    pipeline.lindex(queue.PROCESSING_KEY, 0)
    pipeline.lindex(queue.EVENTS_KEY, 0)
    times = [record_time(raw) for raw in pipeline.execute() if raw is not None]
    times = [value for value in times if value is not None]
    return min(times) if times else None


def record_time(raw):
    """The change time of one queued record, or None when it has none."""
    try:
        stamp = json.loads(raw)["payload"]["context"]["timestamp"]
        value = datetime.fromisoformat(stamp)
    except (ValueError, KeyError, TypeError):
        return None
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


def metric_reconciler():
    """What the reconciler repaired, summed over its JobResults that Nautobot still keeps, and its last pass."""
    repairs = GaugeMetricFamily(
        f"{PREFIX}_reconciler_repairs",
        "Repairs made by the Reconcile Workflow Runs Job, summed over its kept JobResults, by kind.",
        labels=["repair"],
    )
    passes = GaugeMetricFamily(
        f"{PREFIX}_reconciler_passes", "Successful passes of the Reconcile Workflow Runs Job (its kept JobResults)."
    )
    last = GaugeMetricFamily(
        f"{PREFIX}_reconciler_last_pass_timestamp_seconds",
        "When the last successful pass of the Reconcile Workflow Runs Job finished (Unix time; 0: never).",
    )
    totals = (
        JobResult.objects.filter(
            job_model__module_name=ReconcileWorkflowRuns.__module__,
            job_model__job_class_name=ReconcileWorkflowRuns.__name__,
            status=JobResultStatusChoices.STATUS_SUCCESS,
        )
        .order_by()
        .aggregate(
            passes=Count("pk"),
            last=Max("date_done"),
            **{kind: Sum(Cast(KT(f"result__{kind}"), IntegerField())) for kind in REPAIRS},
        )
    )
    for kind in REPAIRS:
        repairs.add_metric([kind], totals[kind] or 0)
    passes.add_metric([], totals["passes"])
    last.add_metric([], totals["last"].timestamp() if totals["last"] else 0)
    yield repairs
    yield passes
    yield last


metrics = [
    metric_workflow_runs,
    metric_step_durations,
    metric_steps_waiting,
    metric_launch_requests,
    metric_hook_firings,
    metric_hook_queue,
    metric_reconciler,
]
