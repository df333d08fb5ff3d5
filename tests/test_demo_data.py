"""A new user's first minute: `invoke demo-data` on an empty database, then every example workflow runs to the
outcome its description states through the real worker, the hook rules fire, the held run is approved by the demo
approver and runs, the input step is answered by the demo approver over REST, the workflow buttons on a device's and a
location's page start their workflows for the requester; a second `invoke demo-data` changes nothing (no
ObjectChange, no row count change).

The loader runs the way `invoke demo-data` runs it, as ``python development/demo_data.py`` in a subprocess, pointed
at the test database (as the Celery worker is): ``tests.fixtures_demo.run_demo_data``.
"""

import os

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from nautobot.apps.testing import TransactionTestCase
from nautobot.dcim.models import Device, Location
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.jobs import get_jobs
from nautobot.extras.models import FileProxy, JobResult, ObjectChange, Status
from nautobot.users.models import Token

from nautobot_jobflow.approvals.decisions import ApprovalRefused, decide
from nautobot_jobflow.choices import (
    HookFiringStatusChoices,
    LaunchOriginChoices,
    LaunchRequestStatusChoices,
    StepRunStatusChoices,
    WorkflowRunStatusChoices,
)
from nautobot_jobflow.hooks import queue
from nautobot_jobflow.models import (
    ApprovalPolicy,
    HookFiring,
    HookRule,
    HookWindow,
    LaunchRequest,
    Workflow,
    WorkflowButton,
    WorkflowRun,
)
from nautobot_jobflow.service import launch
from nautobot_jobflow.views.home import DEMO_TAG_NAME
from tests.fixtures import wait_for, wait_for_job_result
from tests.fixtures_buttons import button_form, press_url, shown_buttons
from tests.fixtures_demo import demo_workflows
from tests.fixtures_demo import run_demo_data as load_demo
from tests.fixtures_engine import run_summary, step_runs, wait_for_run
from tests.fixtures_hooks import clear_hook_queue, update_device

STEP = StepRunStatusChoices
RUN = WorkflowRunStatusChoices
# `invoke demo-data` builds 300 devices; the test builds fewer (the same code) to keep the suite's time in check.
DEVICES = 42


def run_demo_data():
    """`invoke demo-data` against the test database; returns its output."""
    return load_demo(DEVICES)


def row_counts():
    """Rows of every model, by label."""
    return {model._meta.label: model.objects.count() for model in apps.get_models() if model._meta.managed}


def settled():
    """No active run, no unfinished Job Result, no queued hook event and no open debounce window."""
    return (
        not WorkflowRun.objects.filter(status__in=RUN.ACTIVE).exists()
        and not JobResult.objects.exclude(status__in=JobResultStatusChoices.READY_STATES).exists()
        and queue.pending() == 0
        and not HookWindow.objects.filter(status="open").exists()
    )


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class DemoDataTest(TransactionTestCase):
    """One test: the steps depend on each other, as a new user's clicks do."""

    def setUp(self):
        super().setUp()
        ContentType.objects.clear_cache()  # a flush between transactional tests gives content types new ids
        clear_hook_queue()

    def test_demo_data_runs_every_example_and_loads_idempotently(self):
        self.assertFalse(Device.objects.exists() or Workflow.objects.exists(), "the database is not empty")
        output = run_demo_data()
        self.assertIn("objects created", output)
        get_jobs(reload=True)  # this process launches the demo Jobs too: their classes from JOBS_ROOT
        ContentType.objects.clear_cache()
        users = get_user_model().objects
        requester = users.get(username=os.environ["JOBFLOW_DEMO_REQUESTER"])
        approver = users.get(username=os.environ["JOBFLOW_DEMO_APPROVER"])
        device = Device.objects.get(name=demo_workflows.DEFAULT_DEVICE)
        location = Location.objects.get(name=demo_workflows.DEFAULT_LOCATION)
        specs = demo_workflows.workflows(device, location)
        workflows = {key: Workflow.objects.get(name=spec["name"]) for key, spec in specs.items()}

        self.check_what_the_demo_holds(requester, specs)
        keys = ("fan", "condition", "failure", "for_each", "input", "location")
        runs = {key: self.launch(workflows[key], requester) for key in keys}
        declined = self.launch(workflows["input"], requester)
        held = launch(workflows["maintenance"], {}, requester, LaunchOriginChoices.UI)
        over_threshold = self.launch(workflows["condition"], requester, threshold=100)
        other_device = Device.objects.exclude(pk=device.pk).order_by("name").first()
        pressed_on_device = self.press_button(requester, workflows["fan"], other_device)
        region = location.parent.parent  # the button on a region's page: the report counts every site below it
        pressed_on_region = self.press_button(requester, workflows["location"], region)

        self.check_fan_out_fan_in(wait_for_run(runs["fan"], timeout=180), device)
        self.check_condition(wait_for_run(runs["condition"], timeout=180), threshold=30)
        self.check_condition(wait_for_run(over_threshold, timeout=180), threshold=100)
        self.check_on_failure_with_retry(wait_for_run(runs["failure"], timeout=180))
        self.check_for_each(wait_for_run(runs["for_each"], timeout=300))
        self.check_input_step(runs["input"], requester, approver, device)
        self.check_input_step_declined(declined, approver)
        self.check_location_report(wait_for_run(runs["location"], timeout=180), location)
        self.check_fan_out_fan_in(wait_for_run(pressed_on_device, timeout=180), other_device)
        self.check_location_report(wait_for_run(pressed_on_region, timeout=180), region)
        self.check_held_then_approved(held, requester, approver, device)
        self.check_hook_rules(requester, device, labelled={device.name, other_device.name})

        wait_for(settled, timeout=180, message="every run, Job Result and hook window finished")
        changes, counts = ObjectChange.objects.count(), row_counts()
        output = run_demo_data()
        self.assertIn("demo content: up to date (nothing created or changed)", output)
        self.assertEqual(ObjectChange.objects.count(), changes, "a second invoke demo-data wrote change records")
        after = row_counts()
        self.assertEqual({k: v for k, v in after.items() if counts.get(k) != v}, {}, "row counts changed")

    # ----------------------------------------------------------------------------------------------- helpers
    def launch(self, workflow, user, **inputs):
        outcome = launch(workflow, inputs, user, LaunchOriginChoices.UI)
        self.assertFalse(outcome.approval_required, f"{workflow} should not need approval")
        return outcome.run

    def press_button(self, user, workflow, obj):
        """As ``user``, open ``obj``'s page, find the demo button of ``workflow`` there and post its form."""
        (button,) = WorkflowButton.objects.filter(workflow=workflow)
        self.client.force_login(user)
        page = self.client.get(obj.get_absolute_url())
        self.assertEqual(page.status_code, 200)
        shown = shown_buttons(page)
        self.assertIn(str(button.pk), shown, f"{user} does not see {button} on {obj}'s page")
        self.assertNotIn("disabled", shown[str(button.pk)], f"{button} is disabled on {obj}'s page")
        self.assertContains(page, f">{button.label}</button>")
        action, data = button_form(page, button)
        self.assertEqual(action, press_url(button))
        before = set(WorkflowRun.objects.filter(workflow=workflow).values_list("pk", flat=True))
        response = self.client.post(action, data)
        (run,) = WorkflowRun.objects.filter(workflow=workflow).exclude(pk__in=before)
        self.assertRedirects(response, run.get_absolute_url(), fetch_redirect_response=False)
        self.assertEqual((run.origin, run.user, run.dryrun), (LaunchOriginChoices.BUTTON, user, False))
        return run

    def assert_succeeded(self, run, *step_names):
        self.assertEqual(run.status, RUN.SUCCEEDED, run_summary(run))
        latest = step_runs(run)
        for name in step_names:
            self.assertEqual(latest[name].status, STEP.SUCCEEDED, run_summary(run))
        return latest

    def check_what_the_demo_holds(self, requester, specs):
        """Seven workflows, two rules, two buttons and a policy, tagged; the home page lists them for the requester."""
        tagged = {"tags__name": DEMO_TAG_NAME}
        names = {spec["name"] for spec in specs.values()}
        self.assertEqual(len(names), 7)
        self.assertEqual(set(Workflow.objects.filter(**tagged).values_list("name", flat=True)), names)
        rules = {rule["name"] for rule in demo_workflows.hook_rules()}
        self.assertEqual(set(HookRule.objects.filter(**tagged).values_list("name", flat=True)), rules)
        self.assertEqual(ApprovalPolicy.objects.filter(**tagged).count(), 1)
        buttons = {spec["name"]: spec for spec in demo_workflows.buttons()}
        self.assertEqual(set(WorkflowButton.objects.filter(**tagged).values_list("name", flat=True)), set(buttons))
        for button in WorkflowButton.objects.filter(**tagged):
            spec = buttons[button.name]
            self.assertEqual(button.workflow.name, specs[spec["workflow"]]["name"])
            types = {f"{ct.app_label}.{ct.model}" for ct in button.content_types.all()}
            self.assertEqual(types, set(spec["content_types"]))
        self.client.force_login(requester)
        page = self.client.get(reverse("plugins:nautobot_jobflow:home"))
        self.assertEqual(page.status_code, 200)
        for name in names | rules:
            self.assertContains(page, name)
        for spec in buttons.values():
            self.assertContains(page, spec["text"])
        self.assertContains(page, "on the pages of devices: starts")
        self.assertContains(page, "on the pages of locations: starts")
        self.assertContains(page, "/docs/jobflow/user/getting-started.html")  # the packaged docs (AppDocsView)

    def check_fan_out_fan_in(self, run, device):
        """Four green steps, the backup file on its Job Result, the management interface labelled by this run."""
        latest = self.assert_succeeded(run, "check", "backup", "label", "ticket")
        backup = latest["backup"].job_result
        self.assertTrue(FileProxy.objects.filter(job_result=backup, name=f"{device.name}.cfg").exists())
        self.assertEqual(run.result["device"], device.name)
        self.assertEqual(run.result["backup_file"], f"{device.name}.cfg")
        self.assertRegex(run.result["ticket"], r"^NET-[0-9A-F]{8}$")
        interface = device.interfaces.get(name=latest["label"].result["interface"])
        self.assertTrue(interface.mgmt_only)
        self.assertTrue(interface.description.startswith(f"checked by jobflow run {run.pk}:"), interface.description)
        # The ticket step started after both branches (fan-in).
        ends = max(latest["backup"].finished, latest["label"].finished)
        self.assertGreaterEqual(latest["ticket"].started, ends)

    def check_condition(self, run, threshold):
        """The ticket step ran exactly when the unused share reached the threshold; the run succeeds either way."""
        latest = self.assert_succeeded(run, "check")
        unused_percent = latest["check"].result["unused_percent"]
        opened = unused_percent >= threshold
        self.assertEqual(latest["ticket"].status, STEP.SUCCEEDED if opened else STEP.SKIPPED, run_summary(run))
        self.assertEqual(run.result, {"unused_percent": unused_percent, "ticket_opened": opened})

    def check_on_failure_with_retry(self, run):
        """The push failed twice (its retry included), the on-failure branch opened a ticket, the run succeeded."""
        self.assert_succeeded(run, "check", "ticket")
        pushes = list(run.step_runs.filter(step_name="push").order_by("attempt"))
        self.assertEqual([(p.attempt, p.status) for p in pushes], [(1, STEP.FAILED), (2, STEP.FAILED)])
        self.assertIn("did not answer (simulated)", pushes[-1].error)
        ticket = step_runs(run)["ticket"]
        self.assertEqual(ticket.result["severity"], "high")
        self.assertIn("did not answer", ticket.rendered_inputs["details"])

    def check_for_each(self, run):
        """One backup item per leaf switch of the site, all green, then one ticket counting them."""
        latest = self.assert_succeeded(run, "backup", "ticket")
        devices = Device.objects.filter(
            location__name=demo_workflows.FOR_EACH_SITE, role__name=demo_workflows.FOR_EACH_ROLE
        )
        expected = sorted(devices.values_list("name", flat=True))
        self.assertGreater(len(expected), 1)
        items = run.step_runs.filter(step_name="backup", item_index__isnull=False)
        self.assertEqual(items.count(), len(expected))
        self.assertEqual(set(items.values_list("status", flat=True)), {STEP.SUCCEEDED})
        self.assertEqual(sorted(item["name"] for item in latest["backup"].items), expected)
        self.assertEqual(run.result["backed_up"], len(expected))
        self.assertEqual(sorted(run.result["files"]), [f"{name}.cfg" for name in expected])
        self.assertIn(f"Backed up {len(expected)} ", latest["ticket"].rendered_inputs["summary"])

    def respond(self, user, step_run, answer):
        """POST the REST respond action as ``user`` (token authentication)."""
        path = reverse("plugins-api:nautobot_jobflow-api:workflowsteprun-respond", kwargs={"pk": step_run.pk})
        self.client.logout()  # the token alone authenticates
        token = Token.objects.get_or_create(user=user)[0]
        return self.client.post(
            path, {"answer": answer}, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token.key}"
        )

    def awaiting_confirm(self, run):
        return wait_for(
            lambda: run.step_runs.filter(step_name="confirm", status=STEP.AWAITING_INPUT).first(),
            timeout=180,
            message="the confirm step awaits input",
        )

    def check_input_step_declined(self, run, approver):
        """Answered 'do not push': push and ticket are skipped, the run succeeds, pushed is false."""
        confirm = self.awaiting_confirm(run)
        answered = self.respond(approver, confirm, {"go": False, "change": "CHG7"})
        self.assertEqual(answered.status_code, 200, answered.content)
        run = wait_for_run(run, timeout=180)
        latest = self.assert_succeeded(run, "check", "confirm")
        self.assertEqual((latest["push"].status, latest["ticket"].status), (STEP.SKIPPED, STEP.SKIPPED))
        self.assertEqual(run.result, {"change": "CHG7", "pushed": False, "ticket": ""})

    def check_input_step(self, run, requester, approver, device):
        """The run waits for an answer; the requester may not give it, a bad change ticket is refused, the approver's
        answer (REST respond, as the approver) lets the push and the ticket run: succeeded, four green steps."""
        confirm = self.awaiting_confirm(run)
        run.refresh_from_db()
        self.assertEqual(run.status, RUN.AWAITING_INPUT, run_summary(run))
        self.assertIsNone(confirm.job_result_id)
        prompt = confirm.rendered_inputs["prompt"]
        self.assertTrue(prompt.startswith(f"{device.name}: "), prompt)
        self.assertTrue(prompt.endswith("interfaces active. Push the new configuration?"), prompt)
        self.assertEqual(self.respond(requester, confirm, {"go": True, "change": "CHG1"}).status_code, 403)
        refused = self.respond(approver, confirm, {"go": True, "change": "1234"})
        self.assertEqual(refused.status_code, 400, refused.content)
        self.assertIn("change: '1234' does not match", refused.content.decode())
        self.assertFalse(confirm.input_responses.exists(), "a refused answer was recorded")
        answered = self.respond(approver, confirm, {"go": True, "change": "CHG1234"})
        self.assertEqual(answered.status_code, 200, answered.content)
        self.assertEqual(answered.json()["status"], STEP.SUCCEEDED)
        run = wait_for_run(run, timeout=180)
        latest = self.assert_succeeded(run, "check", "confirm", "push", "ticket")
        self.assertEqual(latest["confirm"].result, {"go": True, "change": "CHG1234"})
        self.assertEqual(latest["push"].result, {"device": device.name, "pushed": True})
        self.assertEqual(latest["ticket"].rendered_inputs["summary"], f"Pushed to {device.name} under CHG1234")
        self.assertEqual(run.result["change"], "CHG1234")
        self.assertIs(run.result["pushed"], True)
        self.assertRegex(run.result["ticket"], r"^NET-[0-9A-F]{8}$")

    def check_location_report(self, run, location):
        """The report counted the devices of the location and below it; its CSV is on its Job Result; one ticket."""
        latest = self.assert_succeeded(run, "report", "ticket")
        devices = Device.objects.filter(location__in=Location.objects.descendants(location, include_self=True))
        self.assertGreater(devices.count(), 0)
        report = latest["report"].result
        self.assertEqual((report["location"], report["device_count"]), (location.name, devices.count()))
        csv_name = f"interface-utilization-{location.name.replace(' ', '-')}.csv"
        self.assertTrue(FileProxy.objects.filter(job_result=latest["report"].job_result, name=csv_name).exists())
        used = report["totals"]["used_percent"]
        self.assertEqual(run.result["devices"], devices.count())
        self.assertEqual(run.result["used_percent"], used)
        summary = latest["ticket"].rendered_inputs["summary"]
        self.assertEqual(
            summary,
            f"Interface utilization at {location.name}: {used} % of {report['totals']['total']} interfaces used",
        )

    def check_held_then_approved(self, outcome, requester, approver, device):
        """The maintenance run waits for the approver (not the requester), then runs its nested workflow."""
        self.assertTrue(outcome.approval_required)
        request, run = outcome.request, outcome.run
        run.refresh_from_db()
        self.assertEqual((request.status, run.status), (LaunchRequestStatusChoices.PENDING, RUN.AWAITING_APPROVAL))
        self.assertEqual(request.policy.name, "Demo: maintenance needs approval")
        self.assertFalse(run.step_runs.exclude(status=STEP.PENDING).exists(), "nothing runs before approval")
        preview = wait_for(lambda: LaunchRequest.objects.get(pk=request.pk).preview_run, message="the preview")
        preview = wait_for_run(preview)
        self.assertEqual((preview.status, preview.dryrun), (RUN.SUCCEEDED, True), run_summary(preview))
        with self.assertRaises(ApprovalRefused):
            decide(request, requester, "approve")
        decide(request, approver, "approve")
        self.assertEqual(request.status, LaunchRequestStatusChoices.LAUNCHED)
        run = wait_for_run(run, timeout=180)
        latest = self.assert_succeeded(run, "audit", "ticket")
        (child,) = latest["audit"].child_runs.all()
        self.assert_succeeded(child, "check", "backup", "label", "ticket")
        self.assertEqual(run.result["device"], device.name)
        self.assertEqual(run.user, requester)

    def check_hook_rules(self, requester, device, labelled):
        """A device set to Planned is checked; the labelled interfaces (of the devices ``labelled`` names) got a
        (debounced) ticket each."""
        planned_rule = HookRule.objects.get(name="Demo: check a device set to Planned")
        update_device(device, requester, status=Status.objects.get(name="Planned"))
        firing = wait_for(lambda: HookFiring.objects.filter(rule=planned_rule).first(), timeout=60, message="firing")
        self.assertEqual(firing.status, HookFiringStatusChoices.FIRED, firing.reason)
        job_result = wait_for_job_result(firing.job_result)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        self.assertEqual((job_result.result["device"], job_result.user), (device.name, requester))

        label_rule = HookRule.objects.get(name="Demo: ticket for interface description changes")
        wait_for(settled, timeout=120, message="the debounce window closed")
        fired = HookFiring.objects.filter(rule=label_rule)
        self.assertGreaterEqual(fired.count(), 1)
        for firing in fired:
            self.assertEqual(firing.status, HookFiringStatusChoices.FIRED, firing.reason)
            job_result = wait_for_job_result(firing.job_result)
            self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
            self.assertIn(job_result.result["summary"].split(" ")[0], labelled, job_result.result)
            self.assertIn("description changed", job_result.result["summary"])
