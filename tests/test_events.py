"""Events on Nautobot's event broker, read as a subscriber reads them: Redis pub/sub behind core's RedisEventBroker.

Runs go through the real worker, so most events are published by the worker process; approvals are decided through
core's response model, hooks fire from real changes. Payload fields are those docs/admin/events-and-metrics.md lists.
"""

import json
import uuid
from datetime import datetime, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from nautobot.apps.testing import TestCase, TransactionTestCase
from nautobot.core.events import EventBroker, deregister_event_broker, register_event_broker
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import JobResult

from nautobot_jobflow.approvals.decisions import cancel_request, decide, expire_due
from nautobot_jobflow.choices import HookFiringStatusChoices, PolicyTargetChoices
from nautobot_jobflow.engine.runner import advance
from nautobot_jobflow.hooks.registry import REGISTRY
from nautobot_jobflow.models import LaunchRequest, WorkflowRun
from nautobot_jobflow.service import launch
from tests.fixtures import create_superuser, get_test_job, refresh_jobs, wait_for
from tests.fixtures_approvals import make_definition, make_group, make_policy, make_user
from tests.fixtures_engine import build_workflow, start, step_runs, wait_for_run
from tests.fixtures_events import EventSubscriber
from tests.fixtures_hooks import clear_hook_queue, create_rule, create_test_devices, update_device, wait_for_firings

STARTED = "nautobot.jobflow.workflow_run.started"
COMPLETED = "nautobot.jobflow.workflow_run.completed"
STEP_FAILED = "nautobot.jobflow.step_run.failed"
HELD = "nautobot.jobflow.launch_request.held"
APPROVED = "nautobot.jobflow.launch_request.approved"
DENIED = "nautobot.jobflow.launch_request.denied"
CANCELED = "nautobot.jobflow.launch_request.canceled"
EXPIRED = "nautobot.jobflow.launch_request.expired"
FIRED = "nautobot.jobflow.hook_rule.fired"
RUN_FIELDS = {
    "run_id", "workflow_id", "workflow_name", "status", "user_name", "origin", "dryrun", "is_preview",
    "parent_step_run_id", "rerun_of_id", "created", "started", "finished", "url",
}  # fmt: skip
STEP_FIELDS = {
    "step_run_id", "run_id", "workflow_name", "step_name", "attempt", "item_index", "status", "job_result_id",
    "started", "finished", "url",
}  # fmt: skip
REQUEST_FIELDS = {
    "request_id", "status", "policy_id", "policy_name", "target_type", "target_name", "job_id", "workflow_id",
    "workflow_run_id", "step_run_id", "job_result_id", "origin", "dryrun", "user_name", "created", "expires_at",
    "decided", "url",
}  # fmt: skip
FIRING_FIELDS = {
    "firing_id", "rule_id", "rule_name", "status", "action", "object_type", "object_id", "object_repr",
    "object_count", "request_id", "source_job_result_id", "source_workflow_run_id", "window_id", "depth",
    "user_name", "job_result_id", "workflow_run_id", "created", "url",
}  # fmt: skip


class SubscriberMixin:
    """A Redis subscriber for each test, created before anything is published."""

    def subscribe(self):
        subscriber = EventSubscriber()
        self.addCleanup(subscriber.close)
        return subscriber

    def assertTimestamp(self, value):
        self.assertIsInstance(datetime.fromisoformat(value), datetime)


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class RunEventsTest(SubscriberMixin, TransactionTestCase):
    """A run's events, in order, published by the process that made the change (mostly the worker)."""

    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.admin = create_superuser()
        self.events = self.subscribe()

    def test_succeeded_run_started_then_completed(self):
        workflow = build_workflow({"greet": {"job": "Echo", "inputs": {"message": "hi"}}})
        run = wait_for_run(start(workflow, self.admin))
        completed = self.events.wait_for_topic(COMPLETED, run_id=str(run.pk))
        self.assertEqual(self.events.topics(run_id=str(run.pk)), [STARTED, COMPLETED])
        started = self.events.wait_for_topic(STARTED, run_id=str(run.pk))
        self.assertEqual(set(started), RUN_FIELDS)
        self.assertEqual(set(completed), RUN_FIELDS)
        self.assertEqual(
            (started["status"], started["workflow_name"], started["workflow_id"], started["user_name"]),
            ("running", workflow.name, str(workflow.pk), self.admin.username),
        )
        self.assertEqual((started["origin"], started["dryrun"], started["is_preview"]), ("api", False, False))
        self.assertIsNone(started["finished"])
        self.assertEqual(completed["status"], "succeeded")
        self.assertEqual(completed["url"], reverse("plugins:nautobot_jobflow:workflowrun", kwargs={"pk": run.pk}))
        for field in ("created", "started", "finished"):
            self.assertTimestamp(completed[field])
        self.assertEqual(datetime.fromisoformat(completed["finished"]), run.finished)

    def test_failed_step_then_failed_run_and_no_secret_in_any_payload(self):
        secret = f"s3cret-{uuid.uuid4().hex}"
        workflow = build_workflow(
            {"risky": {"job": "Fail", "inputs": {"reason": "token {{ inputs.api_token }} refused"}}, "next": "Noop"},
            [("risky", "next")],
        )
        run = wait_for_run(start(workflow, self.admin, {"api_token": secret}))
        self.assertIn(secret, step_runs(run)["risky"].error, "the error text holds the secret: events must not")
        completed = self.events.wait_for_topic(COMPLETED, run_id=str(run.pk))
        self.assertEqual(self.events.topics(run_id=str(run.pk)), [STARTED, STEP_FAILED, COMPLETED])
        failed = self.events.wait_for_topic(STEP_FAILED, run_id=str(run.pk))
        self.assertEqual(set(failed), STEP_FIELDS)
        risky = step_runs(run)["risky"]
        self.assertEqual(
            (failed["step_run_id"], failed["step_name"], failed["attempt"], failed["item_index"], failed["status"]),
            (str(risky.pk), "risky", 1, None, "failed"),
        )
        self.assertEqual((failed["workflow_name"], failed["job_result_id"]), (workflow.name, str(risky.job_result_id)))
        self.assertEqual(completed["status"], "failed")
        for _, _, raw in self.events.events(run_id=str(run.pk)):
            self.assertNotIn(secret, raw)

    def test_timed_out_step(self):
        workflow = build_workflow({"stuck": {"job": "Sleep", "inputs": {"seconds": 60}, "timeout": 2}})
        run = wait_for_run(start(workflow, self.admin), timeout=60)
        failed = self.events.wait_for_topic(STEP_FAILED, run_id=str(run.pk))
        self.assertEqual((failed["step_name"], failed["status"]), ("stuck", "timed-out"))
        self.assertEqual(self.events.wait_for_topic(COMPLETED, run_id=str(run.pk))["status"], "failed")
        self.assertEqual(self.events.topics(run_id=str(run.pk)), [STARTED, STEP_FAILED, COMPLETED])
        stuck = step_runs(run)["stuck"]
        wait_for(
            lambda: JobResult.objects.get(pk=stuck.job_result_id).status in JobResultStatusChoices.READY_STATES,
            timeout=30,
            message="the timed-out JobResult is canceled (it frees the worker for the next test)",
        )


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class ApprovalEventsTest(SubscriberMixin, TransactionTestCase):
    """Launches held, then approved, denied, canceled or expired; requester and approvers as in test_approvals."""

    def setUp(self):
        super().setUp()
        ContentType.objects.clear_cache()  # a flush between transactional tests gives content types new ids
        refresh_jobs()
        self.echo = get_test_job("Echo")
        self.requester = make_user(f"req-{uuid.uuid4().hex[:4]}")
        self.approver = make_user("approver")
        self.definition = make_definition((make_group(f"grp-{uuid.uuid4().hex[:4]}", self.approver), 1))
        self.events = self.subscribe()

    def held_workflow_launch(self, **policy_fields):
        workflow = build_workflow({"a": "Echo"})
        make_policy(self.definition, workflows=[workflow], applies_to=PolicyTargetChoices.WORKFLOWS, **policy_fields)
        outcome = launch(workflow, {}, self.requester, "api")
        self.assertTrue(outcome.approval_required)
        return workflow, outcome.request, outcome.run

    def test_held_workflow_then_denied(self):
        workflow, request, run = self.held_workflow_launch()
        held = self.events.wait_for_topic(HELD, request_id=str(request.pk))
        self.assertEqual(set(held), REQUEST_FIELDS)
        self.assertEqual(
            (held["status"], held["target_type"], held["target_name"], held["workflow_id"], held["workflow_run_id"]),
            ("pending", "workflow", workflow.name, str(workflow.pk), str(run.pk)),
        )
        self.assertEqual((held["user_name"], held["origin"]), (self.requester.username, "api"))
        self.assertEqual((held["policy_id"], held["policy_name"]), (str(request.policy_id), request.policy_name))
        self.assertIsNone(held["decided"])
        self.assertEqual(held["url"], request.get_absolute_url())
        decide(LaunchRequest.objects.get(pk=request.pk), self.approver, "deny", "not today")
        denied = self.events.wait_for_topic(DENIED, request_id=str(request.pk))
        self.assertEqual(denied["status"], "denied")
        self.assertTimestamp(denied["decided"])
        self.assertEqual(self.events.topics(request_id=str(request.pk)), [HELD, DENIED])
        self.assertNotIn("not today", json.dumps(denied), "the approver's comment stays on the request")
        # The held run never started: it completes canceled, with no started event.
        completed = self.events.wait_for_topic(COMPLETED, run_id=str(run.pk))
        self.assertEqual((completed["status"], completed["started"]), ("canceled", None))
        self.assertEqual(self.events.topics(run_id=str(run.pk)), [COMPLETED])
        # Its preview (a dry run for the approvers) ran, and says so.
        preview = LaunchRequest.objects.get(pk=request.pk).preview_run
        preview_done = self.events.wait_for_topic(COMPLETED, run_id=str(preview.pk))
        self.assertEqual((preview_done["is_preview"], preview_done["dryrun"]), (True, True))

    def test_gated_step_held_then_approved_run_resumes_without_a_second_start(self):
        make_policy(self.definition, jobs=[self.echo], applies_to=PolicyTargetChoices.JOBS, origins=["workflow"])
        workflow = build_workflow({"first": "Noop", "gated": "Echo"}, [("first", "gated")])
        run = launch(workflow, {}, self.requester, "ui").run
        held = self.events.wait_for_topic(HELD, workflow_run_id=str(run.pk))
        request = LaunchRequest.objects.get(pk=held["request_id"])
        self.assertEqual((held["target_type"], held["step_run_id"]), ("step", str(request.step_run_id)))
        self.assertEqual(held["job_id"], str(self.echo.pk))
        decide(request, self.approver, "approve")
        approved = self.events.wait_for_topic(APPROVED, request_id=held["request_id"])
        self.assertEqual(approved["status"], "launched")
        self.assertIsNotNone(approved["job_result_id"])
        self.assertEqual(self.events.wait_for_topic(COMPLETED, run_id=str(run.pk))["status"], "succeeded")
        wait_for_run(run)
        self.assertEqual(self.events.topics(run_id=str(run.pk)), [STARTED, COMPLETED], "awaiting → running: no start")

    def test_canceled_and_expired(self):
        _, request, _ = self.held_workflow_launch()
        cancel_request(LaunchRequest.objects.get(pk=request.pk), self.requester, "changed my mind")
        self.assertEqual(self.events.wait_for_topic(CANCELED, request_id=str(request.pk))["status"], "canceled")

        make_policy(self.definition, jobs=[self.echo], applies_to=PolicyTargetChoices.JOBS, expiry_minutes=5)
        job_request = launch(self.echo, {"message": "later"}, self.requester, "api").request
        held = self.events.wait_for_topic(HELD, request_id=str(job_request.pk))
        self.assertEqual((held["target_type"], held["job_id"]), ("job", str(self.echo.pk)))
        self.assertAlmostEqual(
            (datetime.fromisoformat(held["expires_at"]) - timezone.now()).total_seconds(), 300, delta=60
        )
        LaunchRequest.objects.filter(pk=job_request.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        self.assertEqual(expire_due(), 1)
        expired = self.events.wait_for_topic(EXPIRED, request_id=str(job_request.pk))
        self.assertEqual(expired["status"], "expired")
        self.assertEqual(self.events.topics(request_id=str(job_request.pk)), [HELD, EXPIRED])
        self.assertNotIn("later", json.dumps(held), "the Job's inputs are not in the payload")


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class HookEventsTest(SubscriberMixin, TransactionTestCase):
    """A rule fires on a real change; the drain on the worker publishes the firing."""

    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.admin = create_superuser()
        clear_hook_queue()
        self.events = self.subscribe()

    def test_rule_fired(self):
        (device,) = create_test_devices(1)
        secret = f"s3cret-{uuid.uuid4().hex}"
        rule = create_rule("Echo", input_template={"message": f"{secret} {{{{ object.serial }}}}"})
        update_device(device, self.admin, serial="EV1")
        (firing,) = wait_for_firings(rule, 1)
        fired = self.events.wait_for_topic(FIRED, rule_id=str(rule.pk))
        self.assertEqual(set(fired), FIRING_FIELDS)
        self.assertEqual(
            (fired["firing_id"], fired["rule_name"], fired["status"], fired["action"]),
            (str(firing.pk), rule.name, HookFiringStatusChoices.FIRED, "update"),
        )
        self.assertEqual((fired["object_type"], fired["object_id"]), ("dcim.device", str(device.pk)))
        self.assertEqual((fired["user_name"], fired["job_result_id"]), (self.admin.username, str(firing.job_result_id)))
        self.assertEqual(fired["url"], rule.get_absolute_url())
        self.assertIn(secret, json.dumps(firing.inputs), "the rendered inputs hold the secret: the event must not")
        for _, _, raw in self.events.events(rule_id=str(rule.pk)):
            self.assertNotIn(secret, raw)


class CollectingBroker(EventBroker):
    """An in-process broker: what publish_event hands to brokers."""

    def __init__(self):
        super().__init__(include_topics=["nautobot.jobflow.*"])
        self.published = []

    def publish(self, *, topic, payload):
        self.published.append((topic, json.loads(payload)))


class PublishingCostTest(TestCase):
    """Detecting a transition costs no query, and neither does publishing on the engine's own paths."""

    def setUp(self):
        super().setUp()
        self.broker = CollectingBroker()
        register_event_broker(self.broker)
        self.addCleanup(deregister_event_broker, self.broker)
        self.admin = create_superuser("events-cost")
        self.workflow = build_workflow({"a": "Noop", "b": "Noop"}, [("a", "b")])
        self.run = start(self.workflow, self.admin)  # the launch's advance waits for a commit that never comes

    def advance_then_publish(self):
        """Advance under a query counter, then run what it left for the commit under another; returns both counts."""
        with self.captureOnCommitCallbacks() as callbacks, CaptureQueriesContext(connection) as advancing:
            advance(self.run.pk)
        # publish_event asks every broker for its topics; the app's hook-rule broker loads the enabled rules once
        # per process (later asks cost no query): load them now so the count is the steady state's.
        REGISTRY.current()
        ours = [callback for callback in callbacks if callback.__module__ == "nautobot_jobflow.events"]
        with CaptureQueriesContext(connection) as publishing:
            for callback in ours:  # not the advance's own (sending the next step's Celery task)
                callback()
        return len(advancing), [query["sql"] for query in publishing.captured_queries]

    def test_start_failure_and_completion(self):
        _, queries = self.advance_then_publish()  # starts "a"
        self.assertEqual([topic for topic, _ in self.broker.published], [STARTED])
        self.assertEqual(queries, [], "the run's user was loaded with the run's lock")
        job_result_id = step_runs(self.run)["a"].job_result_id
        JobResult.objects.filter(pk=job_result_id).update(status=JobResultStatusChoices.STATUS_FAILURE)
        _, queries = self.advance_then_publish()
        self.assertEqual([topic for topic, _ in self.broker.published], [STARTED, STEP_FAILED, COMPLETED])
        self.assertEqual(queries, [], "the step's run and the run's user were loaded by the advance")
        self.assertEqual(self.broker.published[1][1]["workflow_name"], self.workflow.name)
        self.assertEqual(self.broker.published[2][1]["user_name"], self.admin.username)

    def test_resaving_a_status_publishes_nothing(self):
        self.advance_then_publish()
        run = WorkflowRun.objects.get(pk=self.run.pk)
        with self.captureOnCommitCallbacks(execute=True):
            run.save()  # running → running
            run.error = "edited"
            run.save(update_fields=["error"])
        self.assertEqual([topic for topic, _ in self.broker.published], [STARTED])
