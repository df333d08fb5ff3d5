"""Input step definitions: bad ones are refused with a field error in the model, the step form, REST and YAML."""

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse
from nautobot.apps.testing import APITestCase, TestCase

from nautobot_jobflow.choices import StepKindChoices
from nautobot_jobflow.models import Workflow, WorkflowStep
from nautobot_jobflow.models.snapshots import build_definition
from nautobot_jobflow.models.workflow_yaml import export_workflow, import_workflow
from tests.fixtures import create_superuser, get_test_job, refresh_jobs
from tests.fixtures_engine import build_workflow

BAD_SCHEMA = {"type": "no-such-type"}

YAML = """
name: {name}
steps:
  - name: prepare
    job: jobflow_test_jobs.Echo
    inputs: {{message: r1}}
  - name: approve
    kind: input
    prompt: "Deploy to {{{{ steps.prepare.result.message }}}}?"
    answer_schema: {schema}
    responders: {group}
    min_responders: 2
    requester_may_answer: true
    timeout: 600
edges:
  - {{from: prepare, to: approve}}
"""


class InputStepDefinitionTest(TestCase):
    """Model-level validation (the form, the API and YAML import all call it) and what a run's snapshot keeps."""

    @classmethod
    def setUpTestData(cls):
        refresh_jobs()
        cls.group = Group.objects.create(name="def-approvers")

    def step(self, **fields):
        workflow = build_workflow({})
        fields = {"kind": StepKindChoices.INPUT, "prompt": "Go?", "responder_group": self.group, **fields}
        return WorkflowStep(workflow=workflow, name="approve", **fields)

    def assert_field_error(self, step, field, text):
        with self.assertRaises(ValidationError) as raised:
            step.full_clean()
        self.assertIn(field, raised.exception.message_dict, raised.exception.message_dict)
        self.assertIn(text, " ".join(raised.exception.message_dict[field]))

    def test_answer_schema_must_be_json_schema_of_an_object(self):
        self.assert_field_error(self.step(answer_schema=BAD_SCHEMA), "answer_schema", "Invalid JSON Schema")
        self.assert_field_error(self.step(answer_schema={"type": "string"}), "answer_schema", "type must be 'object'")
        self.assert_field_error(self.step(answer_schema=["x"]), "answer_schema", "must be a JSON object")
        self.step(answer_schema={"type": "object", "properties": {"go": {"type": "boolean"}}}).full_clean()
        self.step(answer_schema={}).full_clean()  # empty: any JSON object

    def test_input_step_runs_nothing_and_needs_a_prompt_and_responders(self):
        self.assert_field_error(self.step(job=get_test_job("Echo")), "job", "runs no Job")
        self.assert_field_error(self.step(subworkflow=build_workflow({})), "subworkflow", "runs no nested workflow")
        self.assert_field_error(self.step(input_templates={"message": "x"}), "input_templates", "no input templates")
        self.assert_field_error(self.step(prompt=""), "prompt", "needs a prompt")
        self.assert_field_error(self.step(prompt="{{ inputs.x "), "prompt", "syntax error")
        self.assert_field_error(self.step(responder_group=None), "responder_group", "group whose members may answer")
        self.assert_field_error(self.step(min_responders=0), "min_responders", "greater than or equal to 1")
        self.assert_field_error(self.step(for_each="{{ inputs.hosts }}"), "for_each", "an input step runs no Job")
        self.assert_field_error(self.step(concurrency_key="k"), "concurrency_key", "an input step runs no Job")

    def test_job_step_has_no_input_fields(self):
        step = self.step(kind=StepKindChoices.JOB, job=get_test_job("Echo"))
        self.assert_field_error(step, "prompt", "Only an input step")
        self.assertEqual(step.kind, StepKindChoices.JOB)

    def test_kind_of_job_and_nested_steps_follows_their_target(self):
        child = build_workflow({"a": "Noop"})
        parent = build_workflow({"job": "Noop", "nested": {"job": child}})
        kinds = dict(parent.steps.values_list("name", "kind"))
        self.assertEqual(kinds, {"job": StepKindChoices.JOB, "nested": StepKindChoices.WORKFLOW})

    def test_snapshot_keeps_the_input_fields(self):
        workflow = build_workflow(
            {"approve": {"kind": "input", "prompt": "Go?", "responder_group": self.group, "min_responders": 2}}
        )
        spec = build_definition(workflow)["steps"]["approve"]
        self.assertEqual(spec["kind"], "input")
        self.assertEqual((spec["job"], spec["subworkflow"]), (None, None))
        self.assertEqual((spec["responder_group"], spec["responder_group_name"]), (self.group.pk, "def-approvers"))
        self.assertEqual((spec["prompt"], spec["min_responders"], spec["requester_may_answer"]), ("Go?", 2, False))

    def test_yaml_round_trip_and_refusals(self):
        text = YAML.format(
            name="yaml-input", schema="{type: object, properties: {go: {type: boolean}}}", group=self.group
        )
        workflow = import_workflow(text)
        step = workflow.steps.get(name="approve")
        self.assertEqual(
            (step.kind, step.prompt, step.responder_group, step.min_responders, step.requester_may_answer),
            (StepKindChoices.INPUT, "Deploy to {{ steps.prepare.result.message }}?", self.group, 2, True),
        )
        self.assertEqual((step.timeout, step.answer_schema["properties"]), (600, {"go": {"type": "boolean"}}))
        exported = export_workflow(workflow)
        self.assertIn("kind: input", exported)
        self.assertIn(f"responders: {self.group.name}", exported)
        again = import_workflow(exported)
        self.assertEqual(build_definition(again)["steps"], build_definition(workflow)["steps"])

        for schema, group, message in (
            ("{type: no-such-type}", self.group, "step 'approve': answer_schema: Invalid JSON Schema"),
            ("{}", "nobody", "step 'approve': responders: no group named 'nobody'"),
        ):
            with self.assertRaises(ValidationError) as raised:
                import_workflow(YAML.format(name="yaml-bad", schema=schema, group=group))
            self.assertIn(message, " ".join(raised.exception.messages))
        self.assertFalse(Workflow.objects.filter(name="yaml-bad").exists(), "a refused import changes nothing")


class InputStepFormAndAPITest(APITestCase):
    """The step form and the REST API show the model's field errors."""

    @classmethod
    def setUpTestData(cls):
        refresh_jobs()
        cls.group = Group.objects.create(name="form-approvers")

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()
        self.workflow = build_workflow({})

    def test_step_form_refuses_a_bad_answer_schema(self):
        self.client.force_login(create_superuser("form-admin"))
        data = {
            "workflow": self.workflow.pk,
            "name": "approve",
            "kind": "input",
            "prompt": "Go?",
            "answer_schema": '{"type": "no-such-type"}',
            "responder_group": self.group.pk,
            "min_responders": 1,
            "join_mode": "all",
            "max_retries": 0,
            "retry_backoff": 0,
        }
        response = self.client.post(reverse("plugins:nautobot_jobflow:workflowstep_add"), data)
        self.assertEqual(response.status_code, 200)
        self.assertIn("Invalid JSON Schema", " ".join(response.context["form"].errors["answer_schema"]))
        self.assertFalse(WorkflowStep.objects.filter(workflow=self.workflow).exists())
        response = self.client.post(
            reverse("plugins:nautobot_jobflow:workflowstep_add"), {**data, "answer_schema": '{"type": "object"}'}
        )
        self.assertEqual(response.status_code, 302, response.context["form"].errors if response.context else "")
        self.assertEqual(WorkflowStep.objects.get(workflow=self.workflow).kind, StepKindChoices.INPUT)

    def test_rest_refuses_a_bad_answer_schema(self):
        url = reverse("plugins-api:nautobot_jobflow-api:workflowstep-list")
        body = {
            "workflow": str(self.workflow.pk),
            "name": "approve",
            "kind": "input",
            "prompt": "Go?",
            "answer_schema": BAD_SCHEMA,
            "responder_group": self.group.pk,
        }
        response = self.client.post(url, body, format="json", **self.header)
        self.assertHttpStatus(response, 400)
        self.assertIn("Invalid JSON Schema", " ".join(response.json()["answer_schema"]))
        response = self.client.post(url, {**body, "responder_group": None}, format="json", **self.header)
        self.assertHttpStatus(response, 400)
        self.assertIn("responder_group", response.json())
        response = self.client.post(url, {**body, "answer_schema": {"type": "object"}}, format="json", **self.header)
        self.assertHttpStatus(response, 201)
        self.assertEqual(response.json()["kind"], "input")

    def test_graphql_shows_the_input_fields(self):
        build_workflow({"approve": {"kind": "input", "prompt": "Go?", "responder_group": self.group}}, name="gql-in")
        # auth.Group has no GraphQL type in Nautobot, so the responder group is shown by REST only.
        query = (
            '{ workflow_steps(kind: "input") { name kind prompt min_responders requester_may_answer } '
            "step_input_responses { user_name answer } }"
        )
        response = self.client.post("/api/graphql/", {"query": query}, format="json", **self.header)
        self.assertHttpStatus(response, 200)
        body = response.json()
        self.assertNotIn("errors", body, body)
        self.assertEqual(
            body["data"]["workflow_steps"],
            [{"name": "approve", "kind": "INPUT", "prompt": "Go?", "min_responders": 1, "requester_may_answer": False}],
        )
        self.assertEqual(body["data"]["step_input_responses"], [])
