"""Privilege escalation and object-permission scoping (issue #7, "Bad input and security").

Part 1, the escalation matrix: a user U who may not run Job X (``run`` on ``extras.job`` constrained to the other
Jobs) cannot get X run through any entry point. Every row counts X's JobResults (they stay 0) and checks what U
sees: an HTTP status and message, a form error, or a failed JobResult with its log line. Synchronous paths are plain
TestCases; asynchronous ones (schedules, job buttons, steps started by the engine, approvals that start a run) go
through the real Celery worker.

Part 2, scoping: a user whose ObjectPermissions on the app's models are constrained sees and acts on only their
objects, in every UI list (the HTMX table request), UI detail page and its tables, REST list and detail, GraphQL
query and POST action.

Part 3: API and UI lists of approval policies and launch requests cost the same number of queries for 5 and 50 rows.
"""

import uuid
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from nautobot.apps.testing import APITestCase, TestCase, TransactionTestCase
from nautobot.extras.choices import JobExecutionType, JobResultStatusChoices
from nautobot.extras.models import Job, JobButton, ScheduledJob
from nautobot.users.models import ObjectPermission, Token

from nautobot_jobflow.choices import (
    LaunchRequestStatusChoices,
    PolicyTargetChoices,
    StepRunStatusChoices,
    WorkflowRunStatusChoices,
)
from nautobot_jobflow.launching.job_kwargs import prepare_job_kwargs
from nautobot_jobflow.models import (
    ApprovalEvent,
    ApprovalPolicy,
    HookFiring,
    HookRule,
    HookWindow,
    LaunchRequest,
    Workflow,
    WorkflowEdge,
    WorkflowRun,
    WorkflowStep,
    WorkflowStepRun,
)
from nautobot_jobflow.service import launch
from tests import fixtures_dcim
from tests.fixtures import get_test_job, refresh_jobs, wait_for, wait_for_job_result
from tests.fixtures_approvals import dispatch_like_beat, make_definition, make_group, make_policy, make_user
from tests.fixtures_engine import run_summary, step_runs, wait_for_run
from tests.fixtures_privilege import (
    SLEEP,
    forbidden_job,
    forbidden_text,
    nest,
    one_approver_policy,
    results_of,
    revoke_run,
    scoped_user,
    scoped_world,
    user_without,
    workflow_with,
)
from tests.fixtures_workflows import create_run
from tests.test_utilization_buttons import button_for, button_form

REQUEST_STATUS = LaunchRequestStatusChoices
HTMX = {"HTTP_HX_REQUEST": "true"}


def ui(name, **kwargs):
    return reverse(f"plugins:nautobot_jobflow:{name}", kwargs=kwargs or None)


def api(name, **kwargs):
    return reverse(f"plugins-api:nautobot_jobflow-api:{name}", kwargs=kwargs or None)


def app_job(class_name):
    """A Job row of the app itself."""
    return Job.objects.get(module_name__startswith="nautobot_jobflow.jobs", job_class_name=class_name)


def log_lines(job_result):
    return list(job_result.job_log_entries.values_list("message", flat=True))


# ============================================================================================ 1. escalation matrix
class EscalationBase:
    """U may run every Job but X; X is the No-op test Job; R is another user who may run everything."""

    def setUp(self):
        super().setUp()
        self.x = forbidden_job()
        self.u = user_without(self.x, f"u-{uuid.uuid4().hex[:4]}")
        self.r = make_user(f"r-{uuid.uuid4().hex[:4]}")
        self.u_token = Token.objects.create(user=self.u)
        self.denied = forbidden_text(self.u, self.x)
        self.client.logout()  # the base class signs in its own user; U's token (or session) is used instead

    def post_api(self, target, data=None, token=None):
        return self.client.post(
            target,
            data or {},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {(token or self.u_token).key}",
        )

    def assert_x_never_ran(self, row):
        self.assertEqual(results_of(self.x).count(), 0, f"{row}: Job X must not run")


class EscalationSyncTest(EscalationBase, TestCase):
    """Entry points that refuse in the request itself (launch() checks every Job, nested ones included)."""

    def assert_ui_run_refused(self, workflow, row):
        self.client.force_login(self.u)
        response = self.client.post(ui("workflow_run", pk=workflow.pk), {})
        self.assertEqual(response.status_code, 200, f"{row}: the form comes back with the error")
        self.assertIn(self.denied, response.context["form"].non_field_errors())
        self.assertIn(escape(self.denied), response.content.decode())
        self.assertFalse(WorkflowRun.objects.filter(workflow=workflow).exists(), row)
        self.assert_x_never_ran(row)

    def assert_rest_run_refused(self, workflow, row):
        response = self.post_api(api("workflow-run", pk=workflow.pk), {"inputs": {}})
        self.assertEqual(response.status_code, 403, f"{row}: {response.content}")
        self.assertEqual(response.json()["detail"], self.denied)
        self.assertFalse(WorkflowRun.objects.filter(workflow=workflow).exists(), row)
        self.assert_x_never_ran(row)

    def test_workflow_containing_x_ui_run_page(self):
        self.assert_ui_run_refused(workflow_with(["Echo", "Noop"]), "workflow/UI")

    def test_workflow_containing_x_rest_run(self):
        self.assert_rest_run_refused(workflow_with(["Echo", "Noop"]), "workflow/REST")

    def test_workflow_containing_x_dry_run(self):
        response = self.post_api(api("workflow-run", pk=workflow_with(["DryRunAware", "Noop"]).pk), {"dryrun": True})
        self.assertEqual(response.status_code, 403, response.content)
        self.assertEqual(response.json()["detail"], self.denied)
        self.assert_x_never_ran("workflow/REST dry run")

    def test_nested_workflow_ui_and_rest(self):
        child = workflow_with(["Echo", "Noop"], name=f"child-{uuid.uuid4().hex[:4]}")
        parent = nest(f"parent-{uuid.uuid4().hex[:4]}", child)
        self.assert_ui_run_refused(parent, "nested/UI")
        self.assert_rest_run_refused(parent, "nested/REST")

    def test_twice_nested_workflow(self):
        grandchild = workflow_with(["Noop"], name=f"grandchild-{uuid.uuid4().hex[:4]}")
        child = nest(f"child-{uuid.uuid4().hex[:4]}", grandchild)
        parent = nest(f"parent-{uuid.uuid4().hex[:4]}", child, before=("Echo", "DryRunAware"))
        self.assert_rest_run_refused(parent, "nested twice/REST")

    def test_control_u_runs_a_workflow_without_x(self):
        """The control row: U is not refused for everything, only for X."""
        workflow = workflow_with(["Echo"])
        response = self.post_api(api("workflow-run", pk=workflow.pk), {"inputs": {}})
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(WorkflowRun.objects.get(workflow=workflow).user, self.u)

    def assert_rest_rerun_refused(self, jobs):
        """R's failed run of a workflow of ``jobs`` (s1 succeeded, s2 failed); U's REST rerun of it is refused."""
        theirs = create_run(
            workflow_with(jobs),
            status=WorkflowRunStatusChoices.FAILED,
            user=self.r,
            step_statuses={"s1": StepRunStatusChoices.SUCCEEDED, "s2": StepRunStatusChoices.FAILED},
        )
        response = self.post_api(api("workflowrun-rerun", pk=theirs.pk))
        self.assertEqual(response.status_code, 403, response.content)
        self.assertEqual(response.json()["detail"], self.denied)
        return theirs

    def test_rerun_of_someone_elses_failed_run_rest_and_ui(self):
        theirs = self.assert_rest_rerun_refused(["Echo", "Noop"])
        self.client.force_login(self.u)
        response = self.client.post(ui("workflowrun_rerun", pk=theirs.pk), follow=True)
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.denied, [str(message) for message in response.context["messages"]])
        self.assertEqual(WorkflowRun.objects.filter(rerun_of=theirs).count(), 0)
        self.assert_x_never_ran("rerun")

    def test_rerun_that_would_keep_xs_result_still_needs_x(self):
        """X succeeded in R's run and would not run again, but the rerun is a launch of X's workflow: refused."""
        self.assert_rest_rerun_refused(["Noop", "Echo"])
        self.assert_x_never_ran("rerun keeping X")

    def test_job_button_for_run_workflow_cannot_exist(self):
        """Core limits a job button's Job to job-button receivers: "Run Workflow" cannot be put behind a button."""
        button = JobButton(name="run a workflow", text="Run", job=app_job("RunWorkflow"))
        with self.assertRaises(ValidationError) as raised:
            button.validated_save()
        self.assertIn("job", raised.exception.message_dict)
        self.assertFalse(JobButton.objects.filter(name="run a workflow").exists())

    def test_own_launch_under_a_policy_is_refused_before_a_request_exists(self):
        """U cannot park X in an approval request for someone else to approve: the Job check comes first."""
        workflow = workflow_with(["Echo", "Noop"])
        one_approver_policy(self.r, workflows=[workflow], applies_to=PolicyTargetChoices.WORKFLOWS)
        one_approver_policy(self.r, jobs=[self.x], applies_to=PolicyTargetChoices.JOBS)
        self.assert_rest_run_refused(workflow, "policy/workflow")
        with self.assertRaisesMessage(Exception, self.denied):
            launch(self.x, {}, self.u, "api")
        self.assertFalse(LaunchRequest.objects.exists())
        self.assert_x_never_ran("policy/job")

    def test_requester_who_lost_run_permission_fails_cleanly_at_approval(self):
        """R launches (held); R then loses run permission on X; the approval fails the request with the reason."""
        approver = make_user(f"a-{uuid.uuid4().hex[:4]}")
        approver_token = Token.objects.create(user=approver)
        requester = make_user(f"req-{uuid.uuid4().hex[:4]}")
        workflow = workflow_with(["Echo", "Noop"])
        one_approver_policy(approver, workflows=[workflow], applies_to=PolicyTargetChoices.WORKFLOWS)
        one_approver_policy(approver, jobs=[self.x], applies_to=PolicyTargetChoices.JOBS)
        held_run = launch(workflow, {}, requester, "api")
        held_job = launch(self.x, {}, requester, "api")
        self.assertTrue(held_run.approval_required and held_job.approval_required)
        # Narrow the requester's run permission to every Job but X (an administrator's edit).
        revoke_run(requester, self.x)
        expected = f"Approved, but could not start: {forbidden_text(requester, self.x)}"
        for outcome in (held_run, held_job):
            response = self.post_api(api("launchrequest-approve", pk=outcome.request.pk), token=approver_token)
            self.assertEqual(response.status_code, 200, response.content)
            body = response.json()
            self.assertEqual(body["status"], REQUEST_STATUS.FAILED, body)
            self.assertEqual(body["message"], expected)
            outcome.request.refresh_from_db()
            self.assertEqual(list(outcome.request.events.values_list("kind", flat=True))[-1], "failed")
        held_run.run.refresh_from_db()
        self.assertEqual(held_run.run.status, WorkflowRunStatusChoices.CANCELED)
        self.assertEqual(held_run.run.error, f"Not run: {expected}")
        self.assertFalse(held_run.run.step_runs.exists())
        self.assert_x_never_ran("approval after permission loss")


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class EscalationWorkerTest(EscalationBase, TransactionTestCase):
    """Entry points that run on the worker: schedules, core's Job run form, job buttons, engine steps, approvals."""

    def setUp(self):
        ContentType.objects.clear_cache()  # a flush between transactional tests gives content types new ids
        refresh_jobs()
        super().setUp()

    def assert_failed_with(self, job_result, line, row):
        wait_for_job_result(job_result)
        lines = log_lines(job_result)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_FAILURE, f"{row}: {lines}")
        self.assertTrue(any(line in entry for entry in lines), f"{row}: {line!r} not in {lines}")

    def test_schedule_of_run_workflow_owned_by_u(self):
        workflow = workflow_with(["Echo", "Noop"])
        run_workflow = app_job("RunWorkflow")
        schedule = ScheduledJob.create_schedule(
            run_workflow,
            self.u,
            name=f"nightly {workflow}",
            start_time=timezone.now() + timedelta(hours=1),
            interval=JobExecutionType.TYPE_HOURLY,
            **prepare_job_kwargs(run_workflow, {"workflow": str(workflow.pk)}),
        )
        scheduler_result = dispatch_like_beat(schedule)
        self.assert_failed_with(scheduler_result, f"Workflow '{workflow}' was not started: {self.denied}", "schedule")
        self.assertEqual(scheduler_result.user, self.u)
        self.assertFalse(WorkflowRun.objects.filter(workflow=workflow).exists())
        self.assert_x_never_ran("schedule")

    def test_core_job_run_form_of_run_workflow(self):
        """What a job button or a Jobs-page run of "Run Workflow" would do: core's run endpoint, as U."""
        workflow = workflow_with(["Echo", "Noop"])
        run_workflow = app_job("RunWorkflow")
        self.client.force_login(self.u)
        response = self.client.post(
            reverse("extras:job_run", kwargs={"pk": run_workflow.pk}),
            {"workflow": str(workflow.pk), "inputs": "{}", "_schedule_type": "immediately"},
        )
        self.assertEqual(response.status_code, 302, getattr(response.context, "get", lambda _: None)("job_form"))
        job_result = wait_for(lambda: results_of(run_workflow).first(), message="the Run Workflow JobResult")
        self.assert_failed_with(job_result, f"Workflow '{workflow}' was not started: {self.denied}", "job run form")
        self.assertFalse(WorkflowRun.objects.filter(workflow=workflow).exists())
        self.assert_x_never_ran("job run form")

    def test_interface_utilization_button_without_run_permission_on_the_report(self):
        """U may run the button's receiver but not the report it runs in-process: the button refuses."""
        report = app_job("InterfaceUtilizationReport")
        receiver = app_job("InterfaceUtilizationButton")
        u = user_without(report, f"ub-{uuid.uuid4().hex[:4]}")
        location = fixtures_dcim.create_location_tree(f"B{uuid.uuid4().hex[:3]}")["site_a"]
        view_locations = ObjectPermission.objects.create(name=f"view locations {u.username}", actions=["view"])
        view_locations.object_types.add(ContentType.objects.get_for_model(location))
        view_locations.users.add(u)
        self.client.force_login(u)
        # Press the button as the UI does: post the form rendered on the Location's page.
        action, inputs = button_form(self.client.get(location.get_absolute_url()), button_for(type(location)))
        self.assertEqual(action, reverse("extras:job_run", kwargs={"pk": receiver.pk}))
        response = self.client.post(action, inputs)
        self.assertEqual(response.status_code, 302)
        button_result = wait_for(lambda: results_of(receiver).first(), message="the button's JobResult")
        self.assert_failed_with(button_result, forbidden_text(u, report), "button")
        self.assertNotIn("totals", button_result.result or {}, "no report in the button's result")
        self.assertFalse(button_result.files.exists(), "no report file")
        self.assertEqual(results_of(report).count(), 0, "button: the report must not run")

    def test_nested_workflow_changed_after_launch_to_contain_x(self):
        """The child is checked again when the engine starts it: its step fails, X never runs."""
        child = workflow_with(["Echo"], name=f"child-{uuid.uuid4().hex[:4]}")
        parent = nest(f"parent-{uuid.uuid4().hex[:4]}", child, before=(SLEEP,))
        run = launch(parent, {}, self.u, "api").run
        WorkflowStep.objects.create(workflow=child, name="sneaked", job=self.x)
        wait_for_run(run)
        nested = step_runs(run)["nested"]
        self.assertEqual(nested.status, StepRunStatusChoices.FAILED, run_summary(run))
        self.assertEqual(nested.error, f"Step 'nested': {self.denied}")
        self.assertEqual(run.status, WorkflowRunStatusChoices.FAILED)
        self.assert_x_never_ran("nested, changed after launch")

    def test_step_after_run_permission_revoked_mid_run(self):
        """The engine checks each Job when it starts the step, as the run's user."""
        requester = make_user(f"req-{uuid.uuid4().hex[:4]}")
        workflow = workflow_with([SLEEP, "Noop"])
        run = launch(workflow, {}, requester, "api").run
        revoke_run(requester, self.x)
        wait_for_run(run)
        self.assertEqual(step_runs(run)["s2"].status, StepRunStatusChoices.FAILED, run_summary(run))
        self.assertEqual(step_runs(run)["s2"].error, f"Step 's2': {forbidden_text(requester, self.x)}")
        self.assert_x_never_ran("revoked mid-run")

    def test_u_approving_someone_elses_request_does_not_run_x_as_u(self):
        """U is the approver of R's request: the approval starts R's run, as R; nothing ever runs as U."""
        workflow = workflow_with(["Echo", "Noop"])
        one_approver_policy(self.u, workflows=[workflow], applies_to=PolicyTargetChoices.WORKFLOWS)
        one_approver_policy(self.u, jobs=[self.x], applies_to=PolicyTargetChoices.JOBS, origins=["api"])
        held_run = launch(workflow, {}, self.r, "api")
        held_job = launch(self.x, {}, self.r, "api")
        for outcome in (held_run, held_job):
            response = self.post_api(api("launchrequest-approve", pk=outcome.request.pk))
            self.assertEqual(response.status_code, 200, response.content)
            self.assertEqual(response.json()["status"], REQUEST_STATUS.LAUNCHED, response.json())
        run = wait_for_run(held_run.run)
        self.assertEqual((run.status, run.user), (WorkflowRunStatusChoices.SUCCEEDED, self.r), run.error)
        job_result = wait_for_job_result(LaunchRequest.objects.get(pk=held_job.request.pk).job_result)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS)
        self.assertEqual(results_of(self.x).count(), 2, "one X from the workflow, one from the Job request")
        self.assertEqual(set(results_of(self.x).values_list("user", flat=True)), {self.r.pk})
        self.assertEqual(results_of(self.x, user=self.u).count(), 0, "approval: X never runs as U")

    def test_hook_rule(self):
        """Row "hook rule": U's change fires rules (made by R, who may run X) targeting X and a workflow with X.

        Hook runs go as the user who made the change, so both firings are skipped with the reason; X never runs.
        """
        from nautobot_jobflow.choices import HookFiringStatusChoices
        from nautobot_jobflow.hooks import queue
        from tests.fixtures_hooks import create_rule, create_test_devices, update_device, wait_for_firings

        queue.connection().delete(queue.EVENTS_KEY)
        direct = create_rule("Noop", conditions=[{"path": "serial", "op": "changed"}], owner=self.r)
        through_workflow = create_rule(
            workflow_with(["Echo", "Noop"]), conditions=[{"path": "serial", "op": "changed"}], owner=self.r
        )
        (device,) = create_test_devices(1, prefix="esc")
        update_device(device, self.u, serial=f"s-{uuid.uuid4().hex[:6]}")
        for rule in (direct, through_workflow):
            (firing,) = wait_for_firings(rule, 1)
            self.assertEqual(firing.status, HookFiringStatusChoices.SKIPPED, firing.reason)
            self.assertEqual(firing.user, self.u)
            self.assertIn(self.denied, firing.reason)
            self.assertIsNone(firing.job_result)
            self.assertIsNone(firing.workflow_run)
        self.assert_x_never_ran("hook rule")


# ============================================================================================ 2. object scoping
SCOPED_MODELS = {
    # key prefix in scoped_world: (model, UI list route or None, REST route base, GraphQL list field or None)
    "workflow": (Workflow, "workflow_list", "workflow", "workflows"),
    "step": (WorkflowStep, "workflowstep_list", "workflowstep", "workflow_steps"),
    "edge": (WorkflowEdge, "workflowedge_list", "workflowedge", "workflow_edges"),
    "run": (WorkflowRun, "workflowrun_list", "workflowrun", "workflow_runs"),
    "steprun": (WorkflowStepRun, None, "workflowsteprun", "workflow_step_runs"),
    "policy": (ApprovalPolicy, "approvalpolicy_list", "approvalpolicy", "approval_policies"),
    "request": (LaunchRequest, "launchrequest_list", "launchrequest", "launch_requests"),
    "event": (ApprovalEvent, None, "approvalevent", None),
    "rule": (HookRule, "hookrule_list", "hookrule", "hook_rules"),
    "firing": (HookFiring, None, "hookfiring", "hook_firings"),  # shown on its rule's page
    "window": (HookWindow, None, "hookwindow", None),
}


@override_settings(EXEMPT_VIEW_PERMISSIONS=[])
class ObjectScopingTest(TestCase):
    """The scoped user S sees only "mine" objects; "theirs" are absent from lists and 404 on detail and actions."""

    @classmethod
    def setUpTestData(cls):
        cls.scoped = scoped_user("scoped")
        cls.other = make_user("other-requester-zq")
        cls.world = scoped_world(cls.scoped, cls.other)
        cls.token = Token.objects.create(user=cls.scoped)

    def setUp(self):
        super().setUp()
        self.client.force_login(self.scoped)

    def api_get(self, target):
        return self.client.get(target, HTTP_AUTHORIZATION=f"Token {self.token.key}")

    def api_post(self, target, data=None):
        return self.client.post(
            target, data or {}, content_type="application/json", HTTP_AUTHORIZATION=f"Token {self.token.key}"
        )

    def test_rest_lists_and_details(self):
        for prefix, (model, _, route, _) in SCOPED_MODELS.items():
            with self.subTest(model=model.__name__):
                response = self.api_get(api(f"{route}-list") + "?limit=1000")
                self.assertEqual(response.status_code, 200)
                ids = {item["id"] for item in response.json()["results"]}
                self.assertEqual(ids, {str(obj.pk) for obj in self.mine(prefix)}, model.__name__)
                for obj in self.mine(prefix):
                    self.assertEqual(self.api_get(api(f"{route}-detail", pk=obj.pk)).status_code, 200)
                for obj in self.theirs(prefix):
                    self.assertEqual(self.api_get(api(f"{route}-detail", pk=obj.pk)).status_code, 404, obj)

    def mine(self, prefix):
        return self.world["visible"][prefix]

    def theirs(self, prefix):
        return self.world["hidden"][prefix]

    def test_ui_lists_and_details(self):
        for prefix, (model, list_route, _, _) in SCOPED_MODELS.items():
            if list_route is None:
                continue
            with self.subTest(model=model.__name__):
                content = self.client.get(ui(list_route) + "?per_page=1000", **HTMX).content.decode()
                for obj in self.mine(prefix):
                    self.assertIn(obj.get_absolute_url(), content)
                    self.assertEqual(self.client.get(obj.get_absolute_url()).status_code, 200)
                for obj in self.theirs(prefix):
                    self.assertNotIn(obj.get_absolute_url(), content)
                    self.assertEqual(self.client.get(obj.get_absolute_url()).status_code, 404, obj)

    def test_detail_page_tables_show_only_permitted_rows(self):
        """A visible object's page must not list related rows the user may not see (its runs, attempts, events)."""
        world = self.world
        page = self.client.get(world["workflow_mine"].get_absolute_url()).content.decode()
        self.assertIn(world["run_mine"].get_absolute_url(), page)
        self.assertNotIn(world["run_other"].get_absolute_url(), page, "another user's run of my workflow")
        page = self.client.get(world["policy_mine"].get_absolute_url()).content.decode()
        self.assertIn(world["request_mine"].get_absolute_url(), page)
        self.assertNotIn(world["request_theirs"].get_absolute_url(), page, "another user's request under my policy")
        page = self.client.get(world["request_mine"].get_absolute_url()).content.decode()
        self.assertIn(escape(world["event_mine"].message), page)
        self.assertNotIn(self.other.username, page, "the audit trail of another user's request")
        page = self.client.get(world["rule_mine"].get_absolute_url()).content.decode()
        self.assertIn(world["firing_mine"].object_repr, page)
        self.assertNotIn(world["firing_other"].object_repr, page, "another user's firing of my rule")

    def test_graphql(self):
        fields = " ".join(f"{field} {{ id }}" for _, (_, _, _, field) in SCOPED_MODELS.items() if field)
        response = self.client.post(
            "/api/graphql/",
            {"query": f"{{ {fields} }}"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {self.token.key}",
        )
        body = response.json()
        self.assertNotIn("errors", body, body)
        for prefix, (model, _, _, field) in SCOPED_MODELS.items():
            if field is None:
                continue
            with self.subTest(model=model.__name__):
                self.assertEqual(
                    {item["id"] for item in body["data"][field]}, {str(obj.pk) for obj in self.mine(prefix)}
                )

    def test_graphql_nested_relations(self):
        """Through a visible object, related objects the user may not see are left out too."""
        world = self.world
        query = (
            f'{{ workflow(id: "{world["workflow_mine"].pk}") {{ runs {{ id }} }} '
            f'launch_request(id: "{world["request_theirs"].pk}") {{ id }} '
            f'workflow_run(id: "{world["run_other"].pk}") {{ id }} }}'
        )
        response = self.client.post(
            "/api/graphql/", {"query": query}, content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {self.token.key}",
        )  # fmt: skip
        body = response.json()
        self.assertEqual({item["id"] for item in body["data"]["workflow"]["runs"]}, {str(world["run_mine"].pk)})
        self.assertIsNone(body["data"]["launch_request"])
        self.assertIsNone(body["data"]["workflow_run"])

    def test_post_actions_on_theirs_are_not_found(self):
        world = self.world
        their_request = world["request_theirs"]
        rest = [
            api("workflow-run", pk=world["workflow_theirs"].pk),
            api("workflowrun-cancel", pk=world["run_theirs"].pk),
            api("workflowrun-rerun", pk=world["run_other"].pk),
            *(api(f"launchrequest-{verb}", pk=their_request.pk) for verb in ("approve", "deny", "comment", "cancel")),
            api("hookrule-test", pk=world["rule_theirs"].pk),
        ]
        for target in rest:
            with self.subTest(rest=target):
                self.assertEqual(self.api_post(target, {"comments": "x"}).status_code, 404)
        pages = [
            ui("workflow_run", pk=world["workflow_theirs"].pk),
            ui("workflowrun_cancel", pk=world["run_theirs"].pk),
            ui("workflowrun_rerun", pk=world["run_other"].pk),
            ui("workflowrun_delete", pk=world["run_other"].pk),
            ui("workflow_edit", pk=world["workflow_theirs"].pk),
            *(ui(f"launchrequest_{verb}", pk=their_request.pk) for verb in ("approve", "deny", "comment", "cancel")),
            ui("hookrule_test", pk=world["rule_theirs"].pk),
            ui("hookrule_edit", pk=world["rule_theirs"].pk),
        ]
        for target in pages:
            with self.subTest(ui=target):
                self.assertEqual(self.client.post(target, {"comments": "x"}).status_code, 404)
        self.assertEqual(WorkflowRun.objects.filter(workflow=world["workflow_theirs"]).count(), 1)
        self.assertEqual(WorkflowRun.objects.filter(rerun_of=world["run_other"]).count(), 0)
        world["run_theirs"].refresh_from_db()
        self.assertEqual(world["run_theirs"].status, WorkflowRunStatusChoices.RUNNING)
        their_request.refresh_from_db()
        self.assertEqual(their_request.status, REQUEST_STATUS.PENDING)
        self.assertEqual(list(their_request.events.values_list("kind", flat=True)), ["requested"])

    def test_post_actions_on_mine_are_reached(self):
        """The control: on the user's own objects the same actions reach the app's own answer (not a 404)."""
        world = self.world
        response = self.api_post(api("workflowrun-rerun", pk=world["run_mine"].pk))
        self.assertEqual(response.status_code, 201, response.content)
        response = self.api_post(api("launchrequest-approve", pk=world["request_mine"].pk))
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["detail"], "The requester may not approve their own request.")
        response = self.api_post(api("launchrequest-cancel", pk=world["request_mine"].pk))
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["status"], REQUEST_STATUS.CANCELED)
        response = self.api_post(api("hookrule-test", pk=world["rule_mine"].pk), {"change": {"action": "update"}})
        self.assertEqual(response.status_code, 400, response.content)
        self.assertIn("change", response.json())


# ============================================================================================ 3. query counts
class ApprovalListQueryCountTest(APITestCase):
    """API and UI (HTMX) lists of approval policies and launch requests: same queries for 5 and for 50 rows."""

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()
        self.client.force_login(self.user)  # the UI list; the API uses the token
        self.echo = get_test_job("Echo")
        self.requester = make_user(f"req-{uuid.uuid4().hex[:4]}")
        group = make_group(f"g-{uuid.uuid4().hex[:4]}", make_user(f"a-{uuid.uuid4().hex[:4]}"))
        self.definition = make_definition((group, 1))
        self.workflow = workflow_with(["Echo"])

    def add_policies(self, count):
        for _ in range(count):
            make_policy(
                self.definition, jobs=[self.echo], workflows=[self.workflow], applies_to=PolicyTargetChoices.ALL
            )

    def add_requests(self, count):
        if not ApprovalPolicy.objects.exists():
            self.add_policies(1)
        for index in range(count):
            target = self.workflow if index % 2 else self.echo
            self.assertTrue(launch(target, {}, self.requester, "api").approval_required)

    def count(self, target, rows, **headers):
        self.client.get(target, **headers)  # warm caches (content types, config)
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(target, **headers)
        self.assertEqual(response.status_code, 200)
        content = response.content.decode()
        self.assertGreaterEqual(content.count(rows), 5, f"{target}: the rows are in the answer")
        return len(queries)

    def assert_flat(self, add, api_route, ui_route, model, depths):
        path = model.objects.model._meta.verbose_name_plural.replace(" ", "-")
        targets = [(api(f"{api_route}-list") + f"?limit=100&depth={depth}", self.header) for depth in depths]
        targets.append((ui(ui_route) + "?per_page=100", HTMX))
        add(5)
        at_5 = [self.count(target, f"/{path}/", **headers) for target, headers in targets]
        add(45)
        self.assertGreaterEqual(model.objects.count(), 50)
        self.assertEqual([self.count(target, f"/{path}/", **headers) for target, headers in targets], at_5)

    def test_approval_policy_lists(self):
        self.assert_flat(self.add_policies, "approvalpolicy", "approvalpolicy_list", ApprovalPolicy, depths=(0, 1))

    def test_launch_request_lists(self):
        # depth=1 nests core's JobSerializer, whose task_queues field costs a query per Job row (core's own
        # JobResult list at depth=1 does the same); depth=0, the default, is asserted.
        self.assert_flat(self.add_requests, "launchrequest", "launchrequest_list", LaunchRequest, depths=(0,))
