"""Pressing a workflow button: the launch (origin button), 403 and 404, the pre-filled run form, approval policies,
and a press through the real worker to a succeeded run."""

import json
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse
from nautobot.apps.testing import TestCase, TransactionTestCase
from nautobot.dcim.models import Device
from nautobot.extras.models import Job

from nautobot_jobflow.choices import (
    LaunchOriginChoices,
    LaunchRequestStatusChoices,
    PolicyTargetChoices,
    WorkflowRunStatusChoices,
)
from nautobot_jobflow.models import LaunchRequest, Workflow, WorkflowButton, WorkflowRun
from tests.fixtures import refresh_jobs
from tests.fixtures_approvals import make_definition, make_group, make_policy, make_user
from tests.fixtures_buttons import button_form, create_button, create_device, press_data, press_url
from tests.fixtures_engine import build_workflow, run_summary, step_runs, wait_for_run
from tests.fixtures_workflows import grant

SCHEMA = {
    "type": "object",
    "properties": {"device_name": {"type": "string"}, "ticket": {"type": "string"}},
    "required": ["device_name"],
}


def echo_workflow(name, **fields):
    """One Echo step that says the ``device_name`` input."""
    return build_workflow(
        {"say": {"job": "Echo", "inputs": {"message": "{{ inputs.device_name }}"}}},
        name=name,
        input_schema=SCHEMA,
        **fields,
    )


class WorkflowButtonPressTest(TestCase):
    """The POST a button's form sends, without a worker (the run is created; its steps are not awaited)."""

    @classmethod
    def setUpTestData(cls):
        cls.device = create_device("press")
        cls.workflow = echo_workflow("btn-press-wf")
        cls.button = create_button(cls.workflow, input_template={"device_name": "{{ object.name }}"})

    def setUp(self):
        super().setUp()
        self.add_permissions("dcim.view_device", "nautobot_jobflow.view_workflowrun")

    def press(self, button=None, data=None):
        return self.client.post(press_url(button or self.button), press_data(self.device) if data is None else data)

    def test_press_starts_a_run_with_origin_button(self):
        grant(self.user, Job, ["run"])
        self.add_permissions("extras.view_job")
        browser = Client(enforce_csrf_checks=True)  # the page's form carries a CSRF token that the press accepts
        browser.force_login(self.user)
        action, inputs = button_form(browser.get(self.device.get_absolute_url()), self.button)
        self.assertEqual(action, press_url(self.button))
        self.assertEqual(inputs["object_id"], str(self.device.pk))
        self.assertEqual(browser.post(action, {**inputs, "csrfmiddlewaretoken": "forged"}).status_code, 403)
        self.assertFalse(WorkflowRun.objects.exists())
        response = browser.post(action, inputs)
        run = WorkflowRun.objects.get(workflow=self.workflow)
        self.assertRedirects(response, run.get_absolute_url(), fetch_redirect_response=False)
        self.assertEqual(run.origin, LaunchOriginChoices.BUTTON)
        self.assertEqual(run.user, self.user)
        self.assertEqual(run.inputs, {"device_name": self.device.name})
        self.assertIn(
            f"Started {run} for {self.device}.", [str(message) for message in response.wsgi_request._messages]
        )

    def test_403_without_run_permission_and_nothing_starts(self):
        response = self.press()
        self.assertEqual(response.status_code, 403)
        grant(self.user, Job, ["run"], constraints={"job_class_name": "Noop"})
        self.assertEqual(self.press().status_code, 403)
        missing = create_button(self.workflow, input_template={})  # would open the run form: still 403 first
        self.assertEqual(self.press(missing).status_code, 403)
        self.assertFalse(WorkflowRun.objects.exists())

    def test_404_for_other_types_invisible_objects_and_disabled_buttons(self):
        grant(self.user, Job, ["run"])
        self.add_permissions("dcim.view_location")
        self.assertEqual(self.press(data=press_data(self.device.location)).status_code, 404, "not the button's type")
        self.assertEqual(self.press(data={"object_type": "dcim.device", "object_id": "nope"}).status_code, 404)
        self.assertEqual(self.press(data={}).status_code, 404)
        hidden = create_device("hidden")
        self.remove_permissions("dcim.view_device")
        self.add_permissions("dcim.view_device", constraints={"pk": str(self.device.pk)})
        self.assertEqual(self.press(data=press_data(hidden)).status_code, 404, "a device the user may not view")
        WorkflowButton.objects.filter(pk=self.button.pk).update(enabled=False)
        self.assertEqual(self.press().status_code, 404)
        self.assertEqual(self.client.get(press_url(self.button)).status_code, 405)
        self.assertFalse(WorkflowRun.objects.exists())

    def test_missing_required_inputs_open_the_run_form_prefilled(self):
        grant(self.user, Job, ["run"])
        self.add_permissions("nautobot_jobflow.view_workflow")
        schema = {**SCHEMA, "required": ["device_name", "ticket"]}
        workflow = echo_workflow("btn-needs-ticket", default_inputs={})
        Workflow.objects.filter(pk=workflow.pk).update(input_schema=schema)
        button = create_button(workflow, input_template={"device_name": "{{ object.name }}"})
        response = self.press(button)
        run_form = reverse("plugins:nautobot_jobflow:workflow_run", kwargs={"pk": workflow.pk})
        self.assertEqual(response.status_code, 302)
        target = urlparse(response["Location"])
        self.assertEqual(target.path, run_form)
        self.assertEqual(json.loads(parse_qs(target.query)["inputs"][0]), {"device_name": self.device.name})
        self.assertFalse(WorkflowRun.objects.exists())
        form = self.client.get(response["Location"]).context["form"]
        self.assertEqual(form["input_device_name"].value(), self.device.name)
        self.assertTrue(form.fields["input_ticket"].required)
        self.assertEqual(self.client.get(f"{run_form}?inputs=not-json").status_code, 200)

    def test_template_and_launch_problems_go_back_to_the_page(self):
        grant(self.user, Job, ["run"])
        broken = create_button(self.workflow, input_template={"device_name": "{{ object.no_such_field }}"})
        response = self.press(broken)
        self.assertRedirects(response, self.device.get_absolute_url(), fetch_redirect_response=False)
        text = " ".join(str(message) for message in response.wsgi_request._messages)
        self.assertIn("could not be made", text)
        Workflow.objects.filter(pk=self.workflow.pk).update(enabled=False)
        response = self.press()
        self.assertRedirects(response, self.device.get_absolute_url(), fetch_redirect_response=False)
        self.assertIn("is disabled", " ".join(str(message) for message in response.wsgi_request._messages))
        self.assertFalse(WorkflowRun.objects.exists())

    def test_an_approval_policy_holds_the_press(self):
        grant(self.user, Job, ["run"])
        approvers = make_group("btn-approvers", make_user("btn-approver"))
        policy = make_policy(
            make_definition((approvers, 1)),
            workflows=[self.workflow],
            applies_to=PolicyTargetChoices.WORKFLOWS,
            origins=[LaunchOriginChoices.BUTTON],
        )
        response = self.press()
        request = LaunchRequest.objects.get(workflow=self.workflow)
        self.assertRedirects(response, request.get_absolute_url(), fetch_redirect_response=False)
        self.assertEqual(
            (request.origin, request.policy, request.status), ("button", policy, LaunchRequestStatusChoices.PENDING)
        )
        self.assertEqual(request.inputs, {"device_name": self.device.name})
        self.assertEqual(WorkflowRun.objects.get(is_preview=False).status, WorkflowRunStatusChoices.AWAITING_APPROVAL)


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class WorkflowButtonWorkerTest(TransactionTestCase):
    """A press on a device page, through the real worker, to a succeeded run that used the device's name."""

    def setUp(self):
        super().setUp()
        ContentType.objects.clear_cache()  # a flush between transactional tests gives content types new ids
        refresh_jobs()

    def test_press_runs_to_success(self):
        device = create_device("worker")
        workflow = echo_workflow("btn-worker-wf")
        button = create_button(workflow, input_template={"device_name": "{{ object.name }}"}, confirmation=False)
        user = make_user("btn-presser")  # may run every Job
        grant(user, Device, ["view"])
        self.client.force_login(user)
        action, inputs = button_form(self.client.get(device.get_absolute_url()), button)
        response = self.client.post(action, inputs)
        run = WorkflowRun.objects.get(workflow=workflow)
        self.assertRedirects(response, run.get_absolute_url(), fetch_redirect_response=False)
        wait_for_run(run)
        self.assertEqual(run.status, WorkflowRunStatusChoices.SUCCEEDED, run_summary(run))
        self.assertEqual(run.origin, LaunchOriginChoices.BUTTON)
        self.assertEqual(step_runs(run)["say"].result["message"], device.name)
        self.assertEqual(self.client.get(run.get_absolute_url()).status_code, 200)
