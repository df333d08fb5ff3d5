"""Workflow buttons: validation, generic UI and REST cases, GraphQL, rendering on a device page, query counts."""

import contextlib
import json

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from nautobot.apps.testing import APITestCase, APIViewTestCases, TestCase, ViewTestCases
from nautobot.dcim.models import Device
from nautobot.extras.models import Job, Tag

from nautobot_jobflow.launching.permissions import check_target_runnable, workflow_launch_problems
from nautobot_jobflow.lib.sandbox import TemplateProblem
from nautobot_jobflow.models import WorkflowButton
from tests.fixtures import get_test_job
from tests.fixtures_buttons import create_button, create_device, shown_buttons
from tests.fixtures_engine import build_workflow
from tests.fixtures_workflows import create_workflow, grant

CLOSED_SCHEMA = {
    "type": "object",
    "properties": {"device": {"type": "string"}, "note": {"type": "string"}},
    "additionalProperties": False,
}


class WorkflowButtonModelTest(TestCase):
    """The input template is checked when saved and rendered over the object when pressed."""

    @classmethod
    def setUpTestData(cls):
        cls.workflow = create_workflow("btn-model-wf", input_schema=CLOSED_SCHEMA)
        cls.device = create_device("model")

    def errors(self, template, workflow=None):
        button = WorkflowButton(name="b", workflow=workflow or self.workflow, input_template=template)
        with self.assertRaises(ValidationError) as caught:
            button.full_clean()
        return " ".join(caught.exception.message_dict["input_template"])

    def test_valid_template_saves(self):
        button = create_button(self.workflow, input_template={"device": "{{ object.id }}", "note": "literal"})
        self.assertEqual(button.label, button.name, "no text: the button says its name")
        self.assertEqual(button.button_class_css_class, "secondary")

    def test_refused_templates_name_the_problem(self):
        self.assertIn("syntax error", self.errors({"device": "{{ object.id "}))
        self.assertIn(
            "uses inputs; a workflow button's templates can use object, user", self.errors({"note": "{{ inputs.x }}"})
        )
        self.assertIn("has no input(s) colour; its inputs are device, note", self.errors({"colour": "red"}))
        self.assertIn("JSON object", self.errors(["not", "a", "mapping"]))

    def test_any_input_name_when_the_schema_is_open(self):
        open_workflow = create_workflow("btn-open-wf", input_schema={"type": "object"})
        create_button(open_workflow, input_template={"colour": "{{ object.name }}", "size": "{{ range(3) | list }}"})

    def test_render_inputs_gives_json_values(self):
        button = create_button(
            self.workflow,
            input_template={
                "device": "{{ object.id }}",
                "note": "{{ object.name }} at {{ object.location.name }} by {{ user }}",
            },
        )
        inputs = button.render_inputs(self.device, self.user)
        self.assertEqual(
            inputs,
            {
                "device": str(self.device.pk),
                "note": f"{self.device.name} at {self.device.location.name} by {self.user}",
            },
        )
        open_workflow = create_workflow("btn-open-wf-2", input_schema={"type": "object"})
        button = create_button(
            open_workflow, input_template={"itself": "{{ object }}", "number": 3, "tags": "{{ object.tags.all() }}"}
        )
        self.assertEqual(
            button.render_inputs(self.device, self.user), {"itself": str(self.device.pk), "number": 3, "tags": []}
        )

    def test_a_template_cannot_change_data(self):
        open_workflow = create_workflow("btn-open-wf-3", input_schema={"type": "object"})
        button = create_button(open_workflow, input_template={"x": "{{ object.tags.add('pressed') }}"})
        tags_before = Tag.objects.count()
        with contextlib.suppress(TemplateProblem):  # refused by the sandbox: just as good
            button.render_inputs(self.device, self.user)
        self.assertEqual(Tag.objects.count(), tags_before)
        self.assertFalse(Device.objects.get(pk=self.device.pk).tags.exists())
        button.input_template = {"x": "{{ object.delete() }}"}
        with self.assertRaises(TemplateProblem):
            button.render_inputs(self.device, self.user)
        self.assertTrue(Device.objects.filter(pk=self.device.pk).exists())

    def test_batched_permission_check_agrees_with_the_single_one(self):
        echo, noop = get_test_job("Echo"), get_test_job("Noop")
        child = build_workflow({"inner": "Noop"}, name="btn-child")
        nested = build_workflow({"outer": "Echo", "child": child}, name="btn-nested")
        flat = build_workflow({"only": "Echo"}, name="btn-flat")
        grant(self.user, Job, ["run"], constraints={"pk": str(echo.pk)})
        problems = workflow_launch_problems([nested, flat], self.user)
        self.assertIsNone(problems[flat.pk])
        check_target_runnable(flat, self.user)
        self.assertIn(f"may not run Job '{noop}'", str(problems[nested.pk]))
        with self.assertRaisesMessage(type(problems[nested.pk]), f"may not run Job '{noop}'"):
            check_target_runnable(nested, self.user)


class WorkflowButtonViewTest(ViewTestCases.PrimaryObjectViewTestCase):
    model = WorkflowButton
    # Generic checks that only apply inside Nautobot core (or to tree models / example_app): not collected here.
    test_list_view_app_banner = None
    test_table_with_indentation_is_removed_on_filter_or_sort = None
    test_model_properties_as_table_columns_are_not_orderable = None
    test_filter_form_fields_are_working = None

    @classmethod
    def setUpTestData(cls):
        workflow = create_workflow("btn-ui-wf")
        for index in range(3):
            create_button(workflow, name=f"ui-button-{index}")
        device = ContentType.objects.get_for_model(Device).pk
        cls.form_data = {
            "name": "ui-new",
            "content_types": [device],
            "workflow": workflow.pk,
            "input_template": json.dumps({"message": "{{ object.name }}"}),
            "text": "Check it",
            "button_class": "primary",
            "group_name": "",
            "weight": 50,
            "confirmation": True,
            "enabled": True,
        }
        cls.update_data = {**cls.form_data, "name": "ui-renamed", "group_name": "Checks"}
        cls.bulk_edit_data = {"group_name": "Bulk", "weight": 10}


class WorkflowButtonAPITest(APIViewTestCases.APIViewTestCase):
    model = WorkflowButton
    choices_fields = ["button_class"]

    @classmethod
    def setUpTestData(cls):
        workflow = create_workflow("btn-api-wf")
        closed = create_workflow("btn-api-closed", input_schema=CLOSED_SCHEMA)
        for index in range(3):
            create_button(workflow, name=f"api-button-{index}")
        cls.create_data = [
            {"name": "api-new-1", "content_types": ["dcim.device"], "workflow": workflow.pk},
            {
                "name": "api-new-2",
                "content_types": ["dcim.device", "dcim.location"],
                "workflow": closed.pk,
                "input_template": {"device": "{{ object.id }}"},
                "group_name": "Checks",
                "confirmation": False,
            },
            {
                "name": "api-new-3",
                "content_types": ["dcim.location"],
                "workflow": workflow.pk,
                "button_class": "danger",
            },
        ]
        cls.bulk_update_data = {"weight": 7}

    # CSV import is Nautobot's system Job; the input template (a JSON object) does not round-trip through a CSV cell.
    test_recreate_object_csv = None


class WorkflowButtonAPIValidationTest(APITestCase):
    list_url = "/api/plugins/jobflow/workflow-buttons/"

    def test_bad_template_and_no_object_types_are_400s_on_the_field(self):
        self.add_permissions("nautobot_jobflow.add_workflowbutton", "nautobot_jobflow.view_workflow")
        workflow = create_workflow("btn-api-bad", input_schema=CLOSED_SCHEMA)
        body = {
            "name": "bad",
            "content_types": ["dcim.device"],
            "workflow": str(workflow.pk),
            "input_template": {"nope": "{{ object.id }}"},
        }
        response = self.client.post(self.list_url, body, format="json", **self.header)
        self.assertHttpStatus(response, 400)
        self.assertIn("has no input(s) nope", str(response.json()["input_template"]))
        without_types = {key: value for key, value in body.items() if key not in ("content_types", "input_template")}
        for missing in (without_types, {**without_types, "content_types": []}):
            response = self.client.post(self.list_url, missing, format="json", **self.header)
            self.assertHttpStatus(response, 400)
            self.assertIn("at least one object type", str(response.json()["content_types"]))
        self.assertFalse(WorkflowButton.objects.exists())

    def test_graphql(self):
        self.user.is_superuser = True
        self.user.save()
        create_button(create_workflow("btn-gql-wf"), name="gql-button", group_name="G")
        query = '{ workflow_buttons(name: "gql-button") { name group_name workflow { name } content_types { model } } }'
        body = self.client.post("/api/graphql/", {"query": query}, format="json", **self.header).json()
        self.assertNotIn("errors", body, body)
        self.assertEqual(
            body["data"]["workflow_buttons"],
            [
                {
                    "name": "gql-button",
                    "group_name": "G",
                    "workflow": {"name": "btn-gql-wf"},
                    "content_types": [{"model": "device"}],
                }
            ],
        )


class WorkflowButtonRenderTest(TestCase):
    """On a device page: shown with run permission, hidden without, disabled when the workflow cannot start."""

    @classmethod
    def setUpTestData(cls):
        cls.device = create_device("render")
        cls.workflow = create_workflow("btn-render-wf")
        cls.button = create_button(cls.workflow, name="render-button", text="Check device", button_class="success")

    def setUp(self):
        super().setUp()
        self.add_permissions("dcim.view_device", "dcim.view_location")

    def page(self, obj=None):
        response = self.client.get((obj or self.device).get_absolute_url())
        self.assertEqual(response.status_code, 200)
        return response

    def test_shown_with_run_permission(self):
        grant(self.user, Job, ["run"])
        tag = shown_buttons(self.page())[str(self.button.pk)]
        self.assertIn("btn-success", tag)
        self.assertNotIn("disabled", tag)
        content = self.page().content.decode()
        self.assertIn("Check device</button>", content)
        self.assertIn(f'id="jobflow_button_modal_{self.button.pk}"', content, "confirmation dialog")
        self.assertIn(f"Start workflow <strong>'{self.workflow}'</strong>", content)

    def test_hidden_without_run_permission(self):
        self.assertEqual(shown_buttons(self.page()), {})
        grant(self.user, Job, ["run"], constraints={"job_class_name": "Noop"})  # not the workflow's Echo
        self.assertEqual(shown_buttons(self.page()), {})

    def test_only_on_the_buttons_object_types_and_only_enabled(self):
        grant(self.user, Job, ["run"])
        self.assertEqual(shown_buttons(self.page(self.device.location)), {})
        WorkflowButton.objects.filter(pk=self.button.pk).update(enabled=False)
        self.assertEqual(shown_buttons(self.page()), {})

    def test_disabled_when_the_workflow_cannot_start(self):
        grant(self.user, Job, ["run"])
        Job.objects.filter(pk=get_test_job("Echo").pk).update(enabled=False)
        tag = shown_buttons(self.page())[str(self.button.pk)]
        self.assertIn("disabled", tag)
        self.assertIn("is disabled", tag)
        self.assertNotIn(f'id="jobflow_button_form_{self.button.pk}"', self.page().content.decode())

    def test_groups_become_dropdowns_and_no_confirmation_means_a_plain_form(self):
        grant(self.user, Job, ["run"])
        first = create_button(self.workflow, name="g1", group_name="Checks", weight=1, button_class="warning")
        second = create_button(self.workflow, name="g2", group_name="Checks", weight=2, confirmation=False)
        content = self.page().content.decode()
        self.assertEqual(content.count("jobflow-workflow-button-group"), 1)
        self.assertIn('class="btn btn-warning dropdown-toggle"', content)
        shown = shown_buttons(self.page())
        self.assertIn("dropdown-item", shown[str(first.pk)])
        self.assertIn(f'form="jobflow_button_form_{second.pk}"', shown[str(second.pk)])
        self.assertIn(f'<form id="jobflow_button_form_{second.pk}"', content)


class WorkflowButtonQueryCountTest(TestCase):
    """A device page costs the same queries with 1 and with 10 buttons (each its own workflow, nested included)."""

    def test_device_page_with_1_and_10_buttons(self):
        self.add_permissions("dcim.view_device")
        grant(self.user, Job, ["run"], constraints={"module_name": "jobflow_test_jobs"})
        device = create_device("count")
        child = build_workflow({"inner": "Noop"}, name="btn-count-child")

        def add_button(index):
            workflow = build_workflow(
                {"a": "Echo", "b": "Noop", "nested": child}, [("a", "b")], name=f"btn-count-{index}"
            )
            create_button(workflow, name=f"count-{index}", group_name="Group" if index % 2 else "")

        def count():
            with CaptureQueriesContext(connection) as queries:
                response = self.client.get(device.get_absolute_url())
            self.assertEqual(response.status_code, 200)
            return len(queries), len(shown_buttons(response))

        add_button(0)
        count()  # warm-up: caches of content types, permissions, the session
        one = count()
        for index in range(1, 10):
            add_button(index)
        ten = count()
        self.assertEqual((one[1], ten[1]), (1, 10))
        self.assertEqual(ten[0], one[0], "the page's queries grow with its buttons")
