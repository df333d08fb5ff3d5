"""Hook rules end to end: real changes (REST requests, change contexts, Jobs on a real Celery worker), real runs."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from nautobot.apps.testing import TransactionTestCase
from nautobot.dcim.models import Device
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import JobResult

from nautobot_jobflow.choices import HookEventSourceChoices, HookFiringStatusChoices, WorkflowRunStatusChoices
from nautobot_jobflow.choices import LaunchOriginChoices as Origin
from nautobot_jobflow.hooks import queue
from nautobot_jobflow.models import HookFiring, HookWindow
from nautobot_jobflow.service import launch
from tests.fixtures import create_superuser, get_test_job, job_results_for, refresh_jobs, wait_for, wait_for_job_result
from tests.fixtures_engine import build_workflow, step_runs, wait_for_run
from tests.fixtures_hooks import (
    change,
    create_rule,
    create_test_devices,
    firings,
    update_device,
    wait_for_firings,
)
from tests.fixtures_workflows import grant
from tests.worker import wait_until_workers_idle

FIRING_STATUS = HookFiringStatusChoices


def wait_until_settled(timeout=60):
    """No queued events and no open windows: every hook has done what it will do."""
    wait_for(
        lambda: queue.pending() == 0 and not HookWindow.objects.filter(status="open").exists(),
        timeout=timeout,
        message="hook queue empty and windows closed",
    )


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class HookRuleWorkerTest(TransactionTestCase):
    """Each test changes objects as a person would and waits for the worker."""

    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.admin = create_superuser()
        queue.connection().delete(queue.EVENTS_KEY, queue.PROCESSING_KEY)  # events of an earlier test's objects

    def test_update_fires_with_rendered_inputs(self):
        (device,) = create_test_devices(1)
        rule = create_rule(
            "Echo",
            conditions=[{"path": "serial", "op": "changed"}],
            input_template={"message": "{{ object.name }} {{ change.before.serial }}->{{ object.serial }}"},
        )
        update_device(device, self.admin, comments="not the serial")  # condition false: nothing
        update_device(device, self.admin, serial="A1")
        (firing,) = wait_for_firings(rule, 1)
        self.assertEqual(firing.status, FIRING_STATUS.FIRED, firing.reason)
        self.assertEqual((firing.action, firing.changed_object_id, firing.user), ("update", device.pk, self.admin))
        job_result = wait_for_job_result(firing.job_result)
        self.assertEqual(job_result.result["message"], f"{device.name} ->A1")
        self.assertEqual(job_result.user, self.admin)
        wait_until_settled()
        self.assertEqual(len(firings(rule)), 1)

    def test_create_and_delete(self):
        rule = create_rule(
            "Echo",
            actions=("create", "delete"),
            conditions=[{"path": "name", "op": "regex", "value": "^hk-"}],
            input_template={"message": "{{ change.action }} {{ object.name }} {{ object.status.name }}"},
        )
        (template,) = create_test_devices(1, prefix="other")

        def create():
            device = Device(name="hk-new", device_type=template.device_type, role=template.role,
                            location=template.location, status=template.status)  # fmt: skip
            device.validated_save()
            return device

        device = change(self.admin, create)
        change(self.admin, lambda: Device.objects.get(pk=device.pk).delete())
        created, deleted = wait_for_firings(rule, 2)
        messages = {wait_for_job_result(f.job_result).result["message"] for f in (created, deleted)}
        self.assertEqual(messages, {"create hk-new Active", "delete hk-new Active"})

    def test_debounce_ten_rapid_updates_one_run(self):
        (device,) = create_test_devices(1)
        rule = create_rule(
            "Echo",
            debounce_seconds=4,
            input_template={"message": "{{ change.before.serial }}->{{ object.serial }}"},
        )
        for index in range(10):
            update_device(device, self.admin, serial=f"S{index}")
        (firing,) = wait_for_firings(rule, 1)
        wait_until_settled()
        self.assertEqual(len(firings(rule)), 1, "one run for ten updates")
        self.assertEqual(firing.status, FIRING_STATUS.FIRED, firing.reason)
        self.assertEqual(firing.window.event_count, 10)
        self.assertEqual(wait_for_job_result(firing.job_result).result["message"], "->S9")
        self.client.force_login(self.admin)
        url = reverse("plugins-api:nautobot_jobflow-api:hookfiring-detail", kwargs={"pk": firing.pk})
        self.assertEqual(self.client.get(f"{url}?depth=1").json()["window"]["event_count"], 10)
        window = self.client.get(self.client.get(url).json()["window"]["url"]).json()  # the window's own endpoint
        (event,) = window["events"]  # its changes: one per object, the first change's before, the latest after
        self.assertEqual((window["event_count"], event["object_id"]), (10, str(device.pk)))
        self.assertEqual((event["before"]["serial"], event["after"]["serial"], event["action"]), ("", "S9", "update"))
        self.assertEqual(job_results_for(get_test_job("Echo")).count(), 1)

    def test_batch_rest_bulk_edit_of_100_devices_one_run(self):
        devices = create_test_devices(100)
        rule = create_rule(
            "CollectObjects",
            batch=True,
            debounce_seconds=3,
            conditions=[{"path": "asset_tag", "op": "changed"}],
            input_template={"objects": "{{ object_ids }}", "label": "{{ objects | length }} devices"},
        )
        self.client.force_login(self.admin)
        response = self.client.patch(
            reverse("dcim-api:device-list"),
            [{"id": str(device.pk), "asset_tag": f"AT-{index}"} for index, device in enumerate(devices)],
            content_type="application/json",
        )
        self.assertEqual(response.status_code, 200, response.content[:500])
        (firing,) = wait_for_firings(rule, 1)
        wait_until_settled()
        self.assertEqual(len(firings(rule)), 1)
        self.assertEqual((firing.status, firing.object_count), (FIRING_STATUS.FIRED, 100), firing.reason)
        result = wait_for_job_result(firing.job_result).result
        self.assertEqual(result["count"], 100)
        self.assertEqual(set(result["objects"]), {str(device.pk) for device in devices})
        self.assertEqual(result["label"], "100 devices")

    def test_object_filter(self):
        inside, outside = create_test_devices(1), create_test_devices(1)
        rule = create_rule("Echo", object_filter={"location": [str(inside[0].location.pk)]})
        update_device(inside[0], self.admin, serial="in")
        update_device(outside[0], self.admin, serial="out")
        (firing,) = wait_for_firings(rule, 1)
        wait_until_settled()
        self.assertEqual(len(firings(rule)), 1)
        self.assertEqual(firing.changed_object_id, inside[0].pk)

    def test_completion_of_failing_job_starts_workflow(self):
        workflow = build_workflow({"ticket": {"job": "Echo", "inputs": {"message": "{{ inputs.note }}"}}})
        rule = create_rule(
            workflow,
            content_types=(),
            actions=(),
            event_source=HookEventSourceChoices.JOB_COMPLETION,
            completion_statuses=["failed"],
            input_template={"note": "ticket: {{ completion.job }} {{ completion.status }}"},
        )
        rule.completion_jobs.set([get_test_job("Fail")])
        unwatched = launch(get_test_job("Noop"), {}, self.admin, Origin.API).job_result
        failed = launch(get_test_job("Fail"), {"reason": "backup broke"}, self.admin, Origin.API).job_result
        (firing,) = wait_for_firings(rule, 1)
        self.assertEqual(wait_for_job_result(failed).status, JobResultStatusChoices.STATUS_FAILURE)
        self.assertEqual((firing.status, firing.source_job_result_id), (FIRING_STATUS.FIRED, failed.pk), firing.reason)
        run = wait_for_run(firing.workflow_run)
        self.assertEqual(run.status, WorkflowRunStatusChoices.SUCCEEDED)
        self.assertEqual(run.origin, Origin.HOOK)
        self.assertEqual(step_runs(run)["ticket"].result["message"], "ticket: Fail failed")
        # Completion rules are dispatched by the worker when a JobResult's final save commits: once both JobResults
        # (and the workflow run the firing started) are final, every firing they could cause has been decided.
        self.assertEqual(wait_for_job_result(unwatched).status, JobResultStatusChoices.STATUS_SUCCESS)
        self.assertEqual(len(firings(rule)), 1, "fires once per run, and not for other Jobs")

    def test_user_who_may_not_run_the_target_triggers_no_run(self):
        (device,) = create_test_devices(1)
        editor = get_user_model().objects.create_user(username="editor")
        grant(editor, Device, ["view", "change"])
        rule = create_rule("Echo", owner=self.admin)
        update_device(device, editor, serial="by-editor")
        (firing,) = wait_for_firings(rule, 1)
        self.assertEqual(firing.status, FIRING_STATUS.SKIPPED)
        self.assertIn("may not run", firing.reason)
        self.assertIsNone(firing.job_result)
        self.assertEqual(job_results_for(get_test_job("Echo")).count(), 0)

    def test_loop_protection_job_editing_the_same_object(self):
        (device,) = create_test_devices(1)
        rule = create_rule("TouchDevice", input_template={"device_id": "{{ object.id }}"})
        update_device(device, self.admin, serial="start")
        fired, skipped = wait_for_firings(rule, 2)
        self.assertEqual(fired.status, FIRING_STATUS.FIRED, fired.reason)
        self.assertEqual(skipped.status, FIRING_STATUS.SKIPPED)
        self.assertIn("Loop protection", skipped.reason)
        self.assertEqual(skipped.depth, 1)
        wait_until_settled()
        self.assertEqual(job_results_for(get_test_job("TouchDevice")).count(), 1)
        self.assertEqual(Device.objects.get(pk=device.pk).comments, "touched")

    def test_allow_one_level_fires_exactly_once_more(self):
        (device,) = create_test_devices(1)
        rule = create_rule("TouchDevice", allow_one_level=True, input_template={"device_id": "{{ object.id }}"})
        update_device(device, self.admin, serial="start")
        first, second, stopped = wait_for_firings(rule, 3)
        self.assertEqual(
            [first.status, second.status, stopped.status],
            [FIRING_STATUS.FIRED, FIRING_STATUS.FIRED, FIRING_STATUS.SKIPPED],
        )
        self.assertEqual([first.depth, second.depth, stopped.depth], [0, 1, 2])
        wait_until_settled()
        for job_result in job_results_for(get_test_job("TouchDevice")):
            wait_for_job_result(job_result)
        self.assertEqual(job_results_for(get_test_job("TouchDevice")).count(), 2)
        self.assertEqual(Device.objects.get(pk=device.pk).comments, "touched touched")

    def test_loop_protection_through_a_workflow(self):
        (device,) = create_test_devices(1)
        workflow = build_workflow({"touch": {"job": "TouchDevice", "inputs": {"device_id": "{{ inputs.device }}"}}})
        rule = create_rule(workflow, input_template={"device": "{{ object.id }}"})
        update_device(device, self.admin, serial="start")
        fired, skipped = wait_for_firings(rule, 2)
        self.assertEqual((fired.status, skipped.status), (FIRING_STATUS.FIRED, FIRING_STATUS.SKIPPED))
        self.assertEqual(wait_for_run(fired.workflow_run).status, WorkflowRunStatusChoices.SUCCEEDED)
        self.assertEqual(Device.objects.get(pk=device.pk).comments, "touched")


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class HookWindowRecoveryTest(TransactionTestCase):
    """Windows live in the database: a window whose fire task was lost (worker gone) is fired by the sweep.

    The session worker runs the drain the reconciler reschedules and the Job a fired window starts; each test lets
    them end before its flush.
    """

    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.admin = create_superuser()

    def tearDown(self):
        wait_until_workers_idle()
        super().tearDown()

    def test_overdue_window_is_fired_by_any_process(self):
        from datetime import timedelta

        from nautobot_jobflow.hooks.dispatch import drain
        from nautobot_jobflow.hooks.windows import sweep_overdue

        queue.connection().delete(queue.EVENTS_KEY, queue.PROCESSING_KEY, queue.DRAIN_FLAG_KEY)
        (device,) = create_test_devices(1)
        rule = create_rule("Echo", debounce_seconds=600, input_template={"message": "{{ object.serial }}"})
        # Hold the drain flag while the change is queued, so no drain is scheduled on the session's worker: that
        # drain would also sweep overdue windows, and could fire this one before the sweep under test.
        self.assertIsNotNone(queue.claim_drain())
        update_device(device, self.admin, serial="late")
        queue.connection().delete(queue.DRAIN_FLAG_KEY)
        self.assertGreaterEqual(drain(), 1, "this process drains the queued change")
        window = HookWindow.objects.get(rule=rule, status="open")
        self.assertEqual(sweep_overdue(), 0, "not due yet")
        HookWindow.objects.filter(pk=window.pk).update(fires_at=window.fires_at - timedelta(seconds=700))
        self.assertEqual(sweep_overdue(), 1)
        (firing,) = HookFiring.objects.filter(rule=rule)
        self.assertEqual((firing.status, firing.inputs), (FIRING_STATUS.FIRED, {"message": "late"}))
        self.assertEqual(JobResult.objects.filter(pk=firing.job_result_id).count(), 1)
        self.assertEqual(sweep_overdue(), 0, "fires once")

    def test_lost_drain_is_rescheduled_by_the_reconciler(self):
        from nautobot_jobflow.hooks.recover_stuck import recover_stuck_hooks

        redis = queue.connection()
        redis.delete(queue.EVENTS_KEY, queue.DRAIN_FLAG_KEY)
        self.assertEqual(recover_stuck_hooks(), (0, False), "nothing waits: nothing to do")
        redis.rpush(queue.EVENTS_KEY, queue.encode("nautobot.update.dcim.site", '{"context": {}}', None))
        self.assertEqual(recover_stuck_hooks(), (0, True), "events wait and no drain holds the flag")
        self.assertEqual(recover_stuck_hooks(), (0, False), "a drain is scheduled now")
        wait_for(lambda: queue.pending() == 0, message="the session worker drains the waiting event")
