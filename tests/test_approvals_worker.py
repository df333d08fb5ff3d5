"""Approval policies through the real worker: the bypass matrix, the double-approval race, step gates, preview."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import close_old_connections, connection
from django.urls import reverse
from django.utils import timezone
from nautobot.apps.testing import TransactionTestCase
from nautobot.dcim.models import Device
from nautobot.extras.choices import JobExecutionType, JobResultStatusChoices
from nautobot.extras.models import Job, JobResult, ScheduledJob
from nautobot.users.models import Token

from nautobot_jobflow.approvals.decisions import ApprovalRefused, decide, expire_due
from nautobot_jobflow.approvals.preview import preview_for
from nautobot_jobflow.choices import (
    LaunchOriginChoices,
    LaunchRequestStatusChoices,
    PolicyTargetChoices,
    StepRunStatusChoices,
    WorkflowRunStatusChoices,
)
from nautobot_jobflow.launching.job_kwargs import prepare_job_kwargs
from nautobot_jobflow.models import LaunchRequest
from nautobot_jobflow.service import launch
from tests import fixtures_buttons, fixtures_dcim
from tests.fixtures import get_test_job, refresh_jobs, wait_for, wait_for_job_result
from tests.fixtures_approvals import dispatch_like_beat, make_definition, make_group, make_policy, make_user
from tests.fixtures_engine import build_workflow, step_runs, wait_for_run
from tests.fixtures_workflows import grant

REQUEST_STATUS = LaunchRequestStatusChoices


def real_runs(job):
    """JobResults of ``job`` that are not approval previews."""
    previews = LaunchRequest.objects.exclude(preview_job_result=None).values_list("preview_job_result", flat=True)
    return JobResult.objects.filter(job_model=job).exclude(pk__in=list(previews))


def app_job(class_name):
    """A Job row of the app itself."""
    return Job.objects.get(module_name__startswith="nautobot_jobflow.jobs", job_class_name=class_name)


class ApprovalWorkerBase(TransactionTestCase):
    """Users and a 2-of-3 stage; the requester is in the approver group too (to try self-approval)."""

    def setUp(self):
        super().setUp()
        ContentType.objects.clear_cache()  # a flush between transactional tests gives content types new ids
        refresh_jobs()
        self.echo = get_test_job("Echo")
        self.requester = make_user(f"req-{uuid.uuid4().hex[:4]}")
        self.a1, self.a2 = make_user("ap1"), make_user("ap2")
        self.outsider = make_user("outsider", superuser=True)
        self.group = make_group(f"grp-{uuid.uuid4().hex[:4]}", self.a1, self.a2, self.requester)
        self.definition = make_definition((self.group, 2))

    def wait_request(self, **filters):
        """The launch request an asynchronous entry point creates."""
        return wait_for(
            lambda: LaunchRequest.objects.filter(**filters).order_by("-created").first(),
            timeout=60,
            message=f"launch request {filters}",
        )


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class ApprovalBypassMatrixTest(ApprovalWorkerBase):
    """Every entry point, times every way a request can fail to be validly approved: nothing runs. A valid approval
    (the control row) runs exactly once. Each cell is a real launch, checked by counting JobResults."""

    SCENARIOS = ("deny", "expire", "self_approve", "outsider", "quorum_not_reached", "valid")

    # ------------------------------------------------------------------ entry points: each returns (request, job)
    def _workflow(self):
        workflow = build_workflow({"a": "Echo"}, name=f"wf-{uuid.uuid4().hex[:6]}")
        make_policy(self.definition, workflows=[workflow], applies_to=PolicyTargetChoices.WORKFLOWS)
        return workflow

    def enter_ui_run(self):
        workflow = self._workflow()
        self.client.force_login(self.requester)
        response = self.client.post(reverse("plugins:nautobot_jobflow:workflow_run", kwargs={"pk": workflow.pk}), {})
        form = response.context["form"] if response.status_code == 200 else None
        self.assertEqual(response.status_code, 302, form.errors if form else "")
        request = LaunchRequest.objects.get(workflow=workflow)
        self.assertEqual(request.origin, LaunchOriginChoices.UI)
        self.assertRedirects(response, request.get_absolute_url(), fetch_redirect_response=False)
        return request, self.echo

    def enter_rest_run(self):
        workflow = self._workflow()
        token = Token.objects.create(user=self.requester)
        self.client.logout()  # the token alone authenticates
        response = self.client.post(
            reverse("plugins-api:nautobot_jobflow-api:workflow-run", kwargs={"pk": workflow.pk}),
            {},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {token.key}",
        )
        self.assertEqual(response.status_code, 202, response.content)
        request = LaunchRequest.objects.get(pk=response.json()["request"])
        self.assertEqual(request.origin, LaunchOriginChoices.API)
        return request, self.echo

    def enter_schedule(self):
        """Core's scheduler runs the "Run Workflow" Job for a ScheduledJob; the workflow launch is held."""
        workflow = self._workflow()
        run_workflow = app_job("RunWorkflow")
        job_kwargs = prepare_job_kwargs(run_workflow, {"workflow": str(workflow.pk)})
        schedule = ScheduledJob.create_schedule(
            run_workflow,
            self.requester,
            name=f"nightly {workflow}",
            start_time=timezone.now() + timedelta(hours=1),
            interval=JobExecutionType.TYPE_HOURLY,
            **job_kwargs,
        )
        scheduler_result = dispatch_like_beat(schedule)
        wait_for_job_result(scheduler_result)
        logs = list(scheduler_result.job_log_entries.values_list("message", flat=True))
        self.assertEqual(
            scheduler_result.status, JobResultStatusChoices.STATUS_SUCCESS, (scheduler_result.traceback, logs)
        )
        request = self.wait_request(workflow=workflow)
        self.assertEqual(request.origin, LaunchOriginChoices.SCHEDULE, logs)
        return request, self.echo

    def enter_button(self):
        """Core's job button runs our button receiver; a policy on the report (origin button) holds it."""
        report = app_job("InterfaceUtilizationReport")
        make_policy(self.definition, jobs=[report], applies_to=PolicyTargetChoices.JOBS, origins=["button"])
        location = fixtures_dcim.create_location_tree(f"B{uuid.uuid4().hex[:3]}")["site_a"]
        button_result = JobResult.enqueue_job(
            app_job("InterfaceUtilizationButton"),
            self.requester,
            job_kwargs={"object_pk": str(location.pk), "object_model_name": "dcim.location"},
        )
        wait_for_job_result(button_result)
        request = self.wait_request(job=report)
        self.assertEqual(request.origin, LaunchOriginChoices.BUTTON)
        self.assertIn("held for approval", " ".join(button_result.job_log_entries.values_list("message", flat=True)))
        return request, report

    def enter_workflow_button(self):
        """A workflow button pressed on a device page; a policy on the workflow (origin button) holds the launch."""
        workflow = build_workflow({"a": "Echo"}, name=f"wf-{uuid.uuid4().hex[:6]}")
        make_policy(self.definition, workflows=[workflow], applies_to=PolicyTargetChoices.WORKFLOWS, origins=["button"])
        device = fixtures_buttons.create_device("bp")
        button = fixtures_buttons.create_button(workflow)
        grant(self.requester, Device, ["view"], name=f"view devices {uuid.uuid4().hex[:6]}")
        self.client.force_login(self.requester)
        response = self.client.post(fixtures_buttons.press_url(button), fixtures_buttons.press_data(device))
        request = LaunchRequest.objects.get(workflow=workflow)
        self.assertEqual(request.origin, LaunchOriginChoices.BUTTON)
        self.assertRedirects(response, request.get_absolute_url(), fetch_redirect_response=False)
        return request, self.echo

    def enter_workflow_step(self):
        workflow = build_workflow({"a": "Echo"}, name=f"wf-{uuid.uuid4().hex[:6]}")
        make_policy(self.definition, jobs=[self.echo], applies_to=PolicyTargetChoices.JOBS, origins=["workflow"])
        run = launch(workflow, {}, self.requester, LaunchOriginChoices.API).run
        self.assertIsNotNone(run, "the workflow itself is not covered; its step is")
        request = self.wait_request(workflow_run=run, step_run__isnull=False)
        run.refresh_from_db()
        self.assertEqual(run.status, WorkflowRunStatusChoices.AWAITING_APPROVAL)
        self.assertEqual(request.step_run.status, StepRunStatusChoices.AWAITING_APPROVAL)
        return request, self.echo

    def enter_hook(self):
        """A device change fires a hook rule whose Job a policy (origin hook) covers: the firing awaits approval."""
        from nautobot_jobflow.choices import HookFiringStatusChoices
        from nautobot_jobflow.hooks import queue
        from tests.fixtures_hooks import create_rule, create_test_devices, update_device, wait_for_firings

        queue.connection().delete(queue.EVENTS_KEY)
        make_policy(self.definition, jobs=[self.echo], applies_to=PolicyTargetChoices.JOBS, origins=["hook"])
        rule = create_rule("Echo", conditions=[{"path": "serial", "op": "changed"}])
        (device,) = create_test_devices(1, prefix="bp")
        update_device(device, self.requester, serial=f"s-{uuid.uuid4().hex[:6]}")
        (firing,) = wait_for_firings(rule, 1)
        self.assertEqual(firing.status, HookFiringStatusChoices.AWAITING_APPROVAL, firing.reason)
        self.assertIsNone(firing.job_result)
        request = self.wait_request(job=self.echo, origin=LaunchOriginChoices.HOOK)
        self.assertEqual(request.user, self.requester, "hook runs go as the user who made the change")
        return request, self.echo

    # ------------------------------------------------------------------ scenarios
    def apply(self, scenario, request):
        if scenario == "deny":
            decide(request, self.a1, "approve")
            decide(request, self.a2, "deny", "no")
            self._refused(request, self.a1)
        elif scenario == "expire":
            LaunchRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
            self.assertGreaterEqual(expire_due(), 1)
            self._refused(request, self.a1)
            self._refused(request, self.a2)
        elif scenario == "self_approve":
            self._refused(request, self.requester)
            decide(request, self.a1, "approve")  # with the requester's refused, quorum is one short
        elif scenario == "outsider":
            self._refused(request, self.outsider)
            decide(request, self.a1, "approve")
        elif scenario == "quorum_not_reached":
            decide(request, self.a1, "approve")
        elif scenario == "valid":
            decide(request, self.a1, "approve")
            decide(request, self.a2, "approve")

    def _refused(self, request, user):
        with self.assertRaises(ApprovalRefused):
            decide(LaunchRequest.objects.get(pk=request.pk), user, "approve")

    def check_row(self, entry):
        for scenario in self.SCENARIOS:
            with self.subTest(entry=entry, scenario=scenario):
                request, job = getattr(self, f"enter_{entry}")()
                before = real_runs(job).count()
                self.assertEqual(request.status, REQUEST_STATUS.PENDING)
                self.apply(scenario, request)
                request.refresh_from_db()
                if scenario == "valid":
                    self.assertEqual(request.status, REQUEST_STATUS.LAUNCHED, request.message)
                    wait_for(lambda job=job, before=before: real_runs(job).count() > before, timeout=60,
                             message=f"{entry}: the approved launch starts")  # fmt: skip
                    launched = real_runs(job)
                    self.assertEqual(launched.count(), before + 1, f"{entry}: exactly one run")
                    wait_for_job_result(launched.order_by("-date_created").first())
                else:
                    self.assertNotEqual(request.status, REQUEST_STATUS.LAUNCHED)
                    self.assertEqual(real_runs(job).count(), before, f"{entry}/{scenario}: nothing may run")
                    if request.workflow_run_id and not request.step_run_id:
                        self.assertFalse(request.workflow_run.step_runs.exists())

    def test_ui_run(self):
        self.check_row("ui_run")

    def test_rest_run(self):
        self.check_row("rest_run")

    def test_schedule_through_run_workflow(self):
        self.check_row("schedule")

    def test_job_button(self):
        self.check_row("button")

    def test_workflow_button(self):
        self.check_row("workflow_button")

    def test_workflow_step(self):
        self.check_row("workflow_step")

    def test_hook_rule(self):
        self.check_row("hook")


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class ApprovalRaceAndStepTest(ApprovalWorkerBase):
    """Concurrent final approvals start one run; a gated step pauses its run; the preview runs for real."""

    def test_concurrent_final_approvals_start_exactly_one_run(self):
        make_policy(make_definition((self.group, 1)), jobs=[self.echo], applies_to=PolicyTargetChoices.JOBS)
        for attempt in range(10):
            request = launch(self.echo, {"message": f"race {attempt}"}, self.requester, "api").request
            barrier = threading.Barrier(2)
            errors = []

            def approve(user, request_pk=request.pk, barrier=barrier, errors=errors):
                try:
                    barrier.wait(timeout=10)
                    decide(LaunchRequest.objects.get(pk=request_pk), user, "approve")
                except ApprovalRefused:
                    pass  # the other approver's decision closed the stage first: a clean refusal
                except Exception as error:
                    errors.append(error)
                finally:
                    close_old_connections()
                    connection.close()

            threads = [threading.Thread(target=approve, args=(user,)) for user in (self.a1, self.a2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            self.assertEqual(errors, [])
            request.refresh_from_db()
            self.assertEqual(request.status, REQUEST_STATUS.LAUNCHED, f"attempt {attempt}: {request.message}")
            launched = real_runs(self.echo).filter(pk=request.job_result_id)
            self.assertEqual(launched.count(), 1)
        self.assertEqual(real_runs(self.echo).count(), 10, "one run per request, never two")

    def test_gated_step_pauses_then_continues_or_fails_by_edges(self):
        make_policy(self.definition, jobs=[self.echo], applies_to=PolicyTargetChoices.JOBS, origins=["workflow"])
        workflow = build_workflow(
            {"first": "Noop", "gated": {"job": "Echo", "inputs": {"message": "{{ inputs.word }}"}},
             "after": "Noop", "on_denied": "Noop"},
            [("first", "gated"), ("gated", "after"), ("gated", "on_denied", "on-failure")],
        )  # fmt: skip
        for decision in ("approve", "deny"):
            run = launch(workflow, {"word": decision}, self.requester, "ui").run
            request = self.wait_request(workflow_run=run, step_run__isnull=False)
            self.assertEqual(request.step_run.step_name, "gated")
            self.assertEqual(request.inputs.get("message"), decision, "the approver sees the rendered inputs")
            run.refresh_from_db()
            self.assertEqual(run.status, WorkflowRunStatusChoices.AWAITING_APPROVAL)
            decide(request, self.a1, decision)
            if decision == "approve":
                decide(request, self.a2, "approve")
            wait_for_run(run)
            latest = step_runs(run)
            if decision == "approve":
                self.assertEqual(run.status, WorkflowRunStatusChoices.SUCCEEDED, run.error)
                self.assertEqual(latest["gated"].result["message"], "approve")
                self.assertEqual(latest["on_denied"].status, StepRunStatusChoices.SKIPPED)
            else:
                self.assertEqual(latest["gated"].status, StepRunStatusChoices.FAILED)
                self.assertIn("Denied by ap1", latest["gated"].error)
                self.assertEqual(latest["on_denied"].status, StepRunStatusChoices.SUCCEEDED)
                self.assertEqual(latest["after"].status, StepRunStatusChoices.SKIPPED)
                self.assertEqual(run.status, WorkflowRunStatusChoices.SUCCEEDED, "the on-failure edge handled it")

    def test_preview_runs_and_its_logs_are_shown_then_approval_runs_for_real(self):
        dryrun_job = get_test_job("DryRunAware")
        make_policy(self.definition, jobs=[dryrun_job], applies_to=PolicyTargetChoices.JOBS, require_preview=True)
        request = launch(dryrun_job, {}, self.requester, "api").request
        preview = wait_for_job_result(request.preview_job_result)
        self.assertEqual(preview.status, JobResultStatusChoices.STATUS_SUCCESS)
        preview_lines = list(preview.job_log_entries.values_list("message", flat=True))
        self.assertIn("dry run: True", preview_lines)
        self.client.force_login(self.a1)
        page = self.client.get(request.get_absolute_url()).content.decode()
        self.assertIn(preview_lines[0], page)
        decide(LaunchRequest.objects.get(pk=request.pk), self.a1, "approve")
        decide(LaunchRequest.objects.get(pk=request.pk), self.a2, "approve")
        request.refresh_from_db()
        approved = request.events.filter(kind="approved")
        self.assertEqual(set(approved.values_list("preview_job_result", flat=True)), {preview.pk})
        real = wait_for_job_result(request.job_result)
        self.assertEqual(real.status, JobResultStatusChoices.STATUS_SUCCESS)
        self.assertIn("dry run: False", list(real.job_log_entries.values_list("message", flat=True)))

    def test_preview_of_a_workflow_shows_the_lines_of_its_nested_workflow(self):
        inner = build_workflow({"change": "DryRunAware"}, name=f"inner-{uuid.uuid4().hex[:4]}")
        middle = build_workflow({"audit": inner}, name=f"middle-{uuid.uuid4().hex[:4]}")
        outer = build_workflow({"prepare": "DryRunAware", "maintenance": middle}, [("prepare", "maintenance")])
        make_policy(self.definition, workflows=[outer], applies_to=PolicyTargetChoices.WORKFLOWS, require_preview=True)
        request = launch(outer, {}, self.requester, "api").request
        preview_run = wait_for_run(request.preview_run)
        self.assertEqual(preview_run.status, WorkflowRunStatusChoices.SUCCEEDED, preview_run.error)

        lines = preview_for(LaunchRequest.objects.get(pk=request.pk)).lines
        self.assertIn(("prepare", "info", "dry run: True"), lines)
        self.assertIn(("maintenance / audit / change", "info", "dry run: True"), lines, "two levels down")
        self.client.force_login(self.a1)
        page = self.client.get(request.get_absolute_url()).content.decode()
        self.assertIn("maintenance / audit / change", page)


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class CoreJobPathsTest(ApprovalWorkerBase):
    """Core's own Job run (REST and UI) cannot start a Job a policy covers; other Jobs and origins still run."""

    def api(self, user, url, body=None):
        self.client.logout()
        token = Token.objects.create(user=user)
        return self.client.post(
            url, body or {}, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token.key}"
        )

    def test_core_rest_job_run_is_refused_with_the_way_to_request_it(self):
        make_policy(self.definition, jobs=[self.echo], applies_to=PolicyTargetChoices.JOBS)
        url = reverse("extras-api:job-run", kwargs={"pk": self.echo.pk})
        response = self.api(self.outsider, url, {"data": {"message": "x"}})
        self.assertEqual(response.status_code, 403, response.content)
        self.assertIn("needs approval under policy", response.json()["detail"])
        self.assertIn("/plugins/jobflow/launch-requests/request-run/", response.json()["detail"])
        self.assertFalse(JobResult.objects.filter(job_model=self.echo).exists())

    def test_core_ui_job_run_is_refused(self):
        make_policy(self.definition, jobs=[self.echo], applies_to=PolicyTargetChoices.JOBS, origins=["ui"])
        self.client.force_login(self.outsider)
        response = self.client.post(
            reverse("extras:job_run", kwargs={"pk": self.echo.pk}),
            {"message": "x", "_schedule_type": "immediately", "_job_queue": str(self.echo.default_job_queue.pk)},
        )
        self.assertEqual(response.status_code, 403)
        self.assertFalse(JobResult.objects.filter(job_model=self.echo).exists())

    def test_uncovered_origin_and_app_jobs_still_run_through_core(self):
        make_policy(self.definition, jobs=[self.echo], applies_to=PolicyTargetChoices.JOBS, origins=["ui"])
        url = reverse("extras-api:job-run", kwargs={"pk": self.echo.pk})
        response = self.api(self.outsider, url, {"data": {"message": "x"}})
        self.assertEqual(response.status_code, 201, response.content)
        make_policy(make_definition((self.group, 1)), weight=500)  # every Job, every origin
        from nautobot.extras.models import Job

        reconcile = Job.objects.get(job_class_name="ReconcileWorkflowRuns")
        response = self.api(
            self.outsider, reverse("extras-api:job-run", kwargs={"pk": reconcile.pk}), {"data": {"stale_after": 60}}
        )
        self.assertEqual(response.status_code, 201, "Jobflow's own system Jobs are exempt")
