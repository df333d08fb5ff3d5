"""Bad for-each and output definitions are refused with field errors in the model, the form, REST and YAML."""

from django.core.exceptions import ValidationError
from django.urls import reverse
from nautobot.apps.testing import TestCase

from nautobot_jobflow.forms import WorkflowStepForm
from nautobot_jobflow.models import Workflow, WorkflowStep
from nautobot_jobflow.models.workflow_yaml import export_workflow, import_workflow
from tests.fixtures import create_superuser, get_test_job, refresh_jobs

BAD_FOR_EACH = [
    ({"model": "dcim.device", "filter": {"colour": ["red"]}}, "no filter(s) colour"),
    ({"model": "dcim.nothing", "filter": {}}, "Unknown object type 'dcim.nothing'"),
    ({"model": "dcim.device", "where": {}}, "unknown: where"),
    ("r1, r2", "A for-each template yields a list"),
    ("{{ inputs.hosts ", "syntax error"),
    (42, "For each is a template, a list of items, or an object query"),
]


class ForEachDefinitionTest(TestCase):
    @classmethod
    def setUpTestData(cls):
        refresh_jobs()

    def setUp(self):
        super().setUp()
        self.workflow = Workflow.objects.create(name="fe-defs")
        self.echo = get_test_job("Echo")

    def step(self, **fields):
        return WorkflowStep(workflow=self.workflow, name="each", job=self.echo, **fields)

    def assert_field_error(self, step, field, text):
        with self.assertRaises(ValidationError) as raised:
            step.full_clean()
        self.assertIn(field, raised.exception.message_dict, raised.exception.message_dict)
        self.assertIn(text, " ".join(raised.exception.message_dict[field]))

    def test_model_refuses_bad_for_each_values(self):
        for value, text in BAD_FOR_EACH:
            with self.subTest(value=value):
                self.assert_field_error(self.step(for_each=value), "for_each", text)

    def test_valid_for_each_values_are_accepted(self):
        for value in (
            "{{ steps.report.result.devices }}",
            ["r1", "r2"],
            {"model": "dcim.device", "filter": {"status": ["Active"]}},
        ):
            with self.subTest(value=value):
                self.step(for_each=value, concurrency=5, max_failures=1).full_clean()

    def test_concurrency_below_one_and_options_without_for_each(self):
        self.assert_field_error(self.step(for_each=["a"], concurrency=0), "concurrency", "greater than or equal to 1")
        self.assert_field_error(self.step(concurrency=3), "concurrency", "set 'for each'")
        self.assert_field_error(self.step(max_failures=2), "max_failures", "set 'for each'")

    def test_a_concurrency_key_template_error_is_refused(self):
        self.assert_field_error(self.step(concurrency_key="device-{{ item.id "), "concurrency_key", "syntax error")
        self.assert_field_error(self.step(concurrency_key="k", concurrency_limit=0), "concurrency_limit", "greater")
        self.step(concurrency_key="device-{{ item.id }}", concurrency_limit=2).full_clean()

    def test_for_each_on_a_nested_workflow_step_is_refused(self):
        child = Workflow.objects.create(name="fe-child")
        step = WorkflowStep(workflow=self.workflow, name="nested", subworkflow=child, for_each=["a"])
        self.assert_field_error(step, "for_each", "nested-workflow step cannot")

    def test_output_templates_must_parse(self):
        self.workflow.output_templates = {"x": "{{ steps.a.result "}
        with self.assertRaises(ValidationError) as raised:
            self.workflow.full_clean()
        self.assertIn("output_templates", raised.exception.message_dict)
        self.workflow.output_templates = ["not", "a", "mapping"]
        with self.assertRaises(ValidationError) as raised:
            self.workflow.full_clean()
        self.assertIn("JSON object", raised.exception.message_dict["output_templates"][0])

    def test_the_step_form_reports_the_field(self):
        form = WorkflowStepForm(
            data={
                "workflow": self.workflow.pk,
                "name": "each",
                "job": self.echo.pk,
                "for_each": '{"model": "dcim.device", "filter": {"colour": ["red"]}}',
                "concurrency": "0",
                "join_mode": "all",
                "max_retries": 0,
                "retry_backoff": 0,
                "max_failures": 0,
            }
        )
        self.assertFalse(form.is_valid())
        self.assertIn("for_each", form.errors)
        self.assertIn("concurrency", form.errors)

    def test_rest_answers_400_naming_the_field(self):
        admin = create_superuser("fe-defs-admin")
        self.client.force_login(admin)
        url = reverse("plugins-api:nautobot_jobflow-api:workflowstep-list")
        body = {
            "workflow": str(self.workflow.pk),
            "name": "each",
            "job": str(self.echo.pk),
            "for_each": {"model": "dcim.device", "filter": {"colour": ["red"]}},
        }
        response = self.client.post(url, body, content_type="application/json")
        self.assertEqual(response.status_code, 400, response.content)
        self.assertIn("for_each", response.json())
        body.update(for_each=["a"], concurrency=0)
        response = self.client.post(url, body, content_type="application/json")
        self.assertEqual(response.status_code, 400, response.content)
        self.assertIn("concurrency", response.json())

    def test_yaml_round_trip_and_refusal(self):
        text = (
            "name: fe-yaml\noutputs: {count: '{{ steps.each.result | length }}'}\nsteps:\n"
            "  - name: each\n    job: jobflow_test_jobs.Echo\n    inputs: {message: '{{ item }}'}\n"
            "    for_each: '{{ inputs.hosts }}'\n    concurrency: 5\n    max_failures: 1\n"
        )
        workflow = import_workflow(text)
        step = workflow.steps.get(name="each")
        self.assertEqual((step.for_each, step.concurrency, step.max_failures), ("{{ inputs.hosts }}", 5, 1))
        self.assertEqual(workflow.output_templates, {"count": "{{ steps.each.result | length }}"})
        exported = export_workflow(workflow)
        self.assertIn("for_each: '{{ inputs.hosts }}'", exported)
        self.assertIn("outputs:", exported)
        with self.assertRaises(ValidationError) as raised:
            import_workflow(
                text.replace(
                    "for_each: '{{ inputs.hosts }}'", "for_each: {model: dcim.device, filter: {colour: [red]}}"
                )
            )
        self.assertIn("step 'each'", raised.exception.messages[0])
        self.assertIn("for_each", raised.exception.messages[0])
