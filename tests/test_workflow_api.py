"""REST API of workflows: Nautobot's generic API cases, field-keyed validation, run/cancel/rerun, query counts."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nautobot.apps.testing import APITestCase, APIViewTestCases
from nautobot.extras.models import Job
from nautobot.users.models import Token

from nautobot_jobflow.choices import EdgeTriggerChoices, StepRunStatusChoices, WorkflowRunStatusChoices
from nautobot_jobflow.models import Workflow, WorkflowEdge, WorkflowRun, WorkflowStep, WorkflowStepRun
from tests.fixtures import get_test_job
from tests.fixtures_workflows import create_run, create_runs, create_workflow, grant

API = "plugins-api:nautobot_jobflow-api:{}"


def api_url(name, **kwargs):
    return reverse(API.format(name), kwargs=kwargs or None)


class WorkflowAPITest(APIViewTestCases.APIViewTestCase):
    model = Workflow
    choices_fields = ["dryrun_mode"]

    @classmethod
    def setUpTestData(cls):
        for name in ("api-one", "api-two", "api-three"):
            create_workflow(name)
        cls.create_data = [
            {"name": "api-new-1", "description": "x"},
            {"name": "api-new-2", "enabled": False, "dryrun_mode": "refuse"},
            {
                "name": "api-new-3",
                "input_schema": {"type": "object", "properties": {"host": {"type": "string"}}},
                "default_inputs": {"host": "r1"},
            },
        ]
        cls.bulk_update_data = {"description": "bulk"}


class WorkflowStepAPITest(APIViewTestCases.APIViewTestCase):
    model = WorkflowStep
    choices_fields = ["join_mode", "kind"]
    test_list_objects_exclude_m2m = None  # no many-to-many fields (the generic test would skip)
    test_notes_url_functionality = None  # steps have no notes (the generic test would skip)

    @classmethod
    def setUpTestData(cls):
        cls.workflow = create_workflow("api-steps", steps=("s1", "s2", "s3"), chain=False)
        echo = get_test_job("Echo")
        cls.create_data = [
            {"workflow": cls.workflow.pk, "name": "n1", "job": echo.pk, "input_templates": {"message": "hi"}},
            {"workflow": cls.workflow.pk, "name": "n2", "job": echo.pk, "join_mode": "any", "max_retries": 3},
            {"workflow": cls.workflow.pk, "name": "n3", "job": get_test_job("Noop").pk, "timeout": 30},
        ]
        cls.bulk_update_data = {"max_retries": 2}


class WorkflowEdgeAPITest(APIViewTestCases.APIViewTestCase):
    model = WorkflowEdge
    choices_fields = ["trigger"]
    test_list_objects_exclude_m2m = None  # no many-to-many fields (the generic test would skip)
    test_notes_url_functionality = None  # edges have no notes (the generic test would skip)

    @classmethod
    def setUpTestData(cls):
        workflow = create_workflow("api-edges", steps=("a", "b", "c", "d", "e", "f"), chain=False)
        steps = {step.name: step.pk for step in workflow.steps.all()}
        for source, target in (("a", "b"), ("b", "c"), ("c", "d")):
            WorkflowEdge.objects.create(workflow=workflow, source_id=steps[source], target_id=steps[target])
        cls.create_data = [
            {"workflow": workflow.pk, "source": steps["a"], "target": steps["e"]},
            {"workflow": workflow.pk, "source": steps["e"], "target": steps["f"], "trigger": "on-failure"},
            {
                "workflow": workflow.pk,
                "source": steps["a"],
                "target": steps["f"],
                "trigger": "condition",
                "condition": "steps.a.result.length > 0",
            },
        ]
        cls.bulk_update_data = {"trigger": EdgeTriggerChoices.ALWAYS}


class WorkflowRunAPITest(
    APIViewTestCases.GetObjectViewTestCase,
    APIViewTestCases.ListObjectsViewTestCase,
    APIViewTestCases.DeleteObjectViewTestCase,
):
    model = WorkflowRun
    test_list_objects_exclude_m2m = None  # no many-to-many fields (the generic test would skip)

    @classmethod
    def setUpTestData(cls):
        workflow = create_workflow("api-runs")
        create_runs(workflow, 3)


class WorkflowStepRunAPITest(APIViewTestCases.GetObjectViewTestCase, APIViewTestCases.ListObjectsViewTestCase):
    model = WorkflowStepRun
    test_list_objects_exclude_m2m = None  # no many-to-many fields (the generic test would skip)

    @classmethod
    def setUpTestData(cls):
        create_runs(create_workflow("api-step-runs"), 2)


class DefinitionErrorsThroughAPITest(APITestCase):
    """Bad definitions come back as HTTP 400 with the field named."""

    @classmethod
    def setUpTestData(cls):
        cls.workflow = create_workflow("api-bad", steps=("a", "b", "c"))

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()

    def post_step(self, **fields):
        data = {"workflow": str(self.workflow.pk), "name": "new", "job": str(get_test_job("Echo").pk), **fields}
        response = self.client.post(api_url("workflowstep-list"), data, format="json", **self.header)
        self.assertHttpStatus(response, 400)
        return response.json()

    def post_edge(self, source, target, **fields):
        steps = {step.name: str(step.pk) for step in self.workflow.steps.all()}
        data = {"workflow": str(self.workflow.pk), "source": steps[source], "target": steps[target], **fields}
        response = self.client.post(api_url("workflowedge-list"), data, format="json", **self.header)
        self.assertHttpStatus(response, 400)
        return response.json()

    def test_cycle_is_named(self):
        self.assertIn("a → b → c → a", self.post_edge("c", "a")["target"][0])

    def test_self_loop(self):
        self.assertIn("self-loop", self.post_edge("a", "a")["target"][0])

    def test_bad_condition(self):
        errors = self.post_edge("a", "c", trigger="condition", condition="steps.a.result ==")
        self.assertIn("syntax error", errors["condition"][0])

    def test_duplicate_edge(self):
        self.assertIn("already an edge", self.post_edge("a", "b")["target"][0])

    def test_unknown_job(self):
        self.assertIn("job", self.post_step(job="a3c9a0b4-5a1e-4c50-9f5c-0b1f2b8d7e11"))

    def test_unknown_job_variable(self):
        self.assertIn("no variable 'nonsense'", self.post_step(input_templates={"nonsense": 1})["input_templates"][0])

    def test_template_syntax_error(self):
        errors = self.post_step(input_templates={"message": "{% if %}"})
        self.assertIn("syntax error", errors["input_templates"][0])

    def test_duplicate_step_name(self):
        errors = self.post_step(name="a")
        self.assertIn("already has a step named 'a'", errors["name"][0])
        self.assertNotIn("non_field_errors", errors)

    def test_duplicate_step_name_on_rename(self):
        step = self.workflow.steps.get(name="b")
        response = self.client.patch(
            api_url("workflowstep-detail", pk=step.pk), {"name": "a"}, format="json", **self.header
        )
        self.assertHttpStatus(response, 400)
        self.assertIn("name", response.json())

    def test_sensitive_variable_job(self):
        errors = self.post_step(job=str(get_test_job("Secretive").pk))
        self.assertIn("sensitive variables", errors["job"][0])

    def test_bad_input_schema(self):
        response = self.client.post(
            api_url("workflow-list"),
            {"name": "schema", "input_schema": {"type": "nonsense"}},
            format="json",
            **self.header,
        )
        self.assertHttpStatus(response, 400)
        self.assertIn("input_schema", response.json())


class RunActionsAPITest(APITestCase):
    """POST workflows/{id}/run/, workflow-runs/{id}/cancel/ and /rerun/."""

    @classmethod
    def setUpTestData(cls):
        cls.workflow = create_workflow(
            "api-run-wf",
            steps=("a", "b"),
            input_schema={"type": "object", "required": ["host"], "properties": {"host": {"type": "string"}}},
        )

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()

    def run_workflow(self, body):
        return self.client.post(api_url("workflow-run", pk=self.workflow.pk), body, format="json", **self.header)

    def test_run_creates_a_run(self):
        response = self.run_workflow({"inputs": {"host": "r1"}, "dryrun": True})
        self.assertHttpStatus(response, 201)
        run = WorkflowRun.objects.get()
        self.assertEqual(response.json()["id"], str(run.pk))
        self.assertEqual(response.json()["status"], run.status)
        self.assertEqual(run.inputs, {"host": "r1"})
        self.assertTrue(run.dryrun)
        self.assertEqual(run.origin, "api")

    def test_bad_inputs_name_the_field(self):
        response = self.run_workflow({"inputs": {"host": 5}})
        self.assertHttpStatus(response, 400)
        self.assertIn("host", response.json()["inputs"][0])
        response = self.run_workflow({"inputs": ["not", "an", "object"]})
        self.assertHttpStatus(response, 400)
        self.assertIn("inputs", response.json())
        self.assertFalse(WorkflowRun.objects.exists())

    def test_disabled_workflow(self):
        Workflow.objects.filter(pk=self.workflow.pk).update(enabled=False)
        response = self.run_workflow({"inputs": {"host": "r1"}})
        self.assertHttpStatus(response, 400)
        self.assertIn("disabled", response.json()["workflow"][0])

    def test_user_who_cannot_run_a_job_gets_403(self):
        self.user.is_superuser = False
        self.user.save()
        grant(self.user, Workflow, ["view"])
        grant(self.user, Job, ["view", "run"], constraints={"job_class_name": "Noop"})
        response = self.run_workflow({"inputs": {"host": "r1"}})
        self.assertHttpStatus(response, 403)
        self.assertIn("Echo", response.json()["detail"])
        self.assertFalse(WorkflowRun.objects.exists())

    def test_run_needs_view_permission_on_the_workflow(self):
        self.user.is_superuser = False
        self.user.save()
        grant(self.user, Job, ["view", "run"])
        self.assertHttpStatus(self.run_workflow({"inputs": {"host": "r1"}}), 403)
        grant(self.user, Workflow, ["view"], constraints={"name": "someone-else"})
        self.assertHttpStatus(self.run_workflow({"inputs": {"host": "r1"}}), 404)

    def test_cancel(self):
        run = create_run(self.workflow, status=WorkflowRunStatusChoices.RUNNING, step_statuses={"a": "running"})
        response = self.client.post(api_url("workflowrun-cancel", pk=run.pk), format="json", **self.header)
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.json()["status"], WorkflowRunStatusChoices.CANCELED)
        response = self.client.post(api_url("workflowrun-cancel", pk=run.pk), format="json", **self.header)
        self.assertHttpStatus(response, 400)
        self.assertIn("status", response.json())

    def test_cancel_needs_change_permission(self):
        self.user.is_superuser = False
        self.user.save()
        grant(self.user, WorkflowRun, ["view"])
        run = create_run(self.workflow, status=WorkflowRunStatusChoices.RUNNING)
        response = self.client.post(api_url("workflowrun-cancel", pk=run.pk), format="json", **self.header)
        self.assertHttpStatus(response, 403)
        run.refresh_from_db()
        self.assertEqual(run.status, WorkflowRunStatusChoices.RUNNING)

    def test_rerun(self):
        run = create_run(
            self.workflow,
            status=WorkflowRunStatusChoices.FAILED,
            inputs={"host": "r1"},
            step_statuses={"a": StepRunStatusChoices.SUCCEEDED, "b": StepRunStatusChoices.FAILED},
        )
        response = self.client.post(api_url("workflowrun-rerun", pk=run.pk), format="json", **self.header)
        self.assertHttpStatus(response, 201)
        new_run = WorkflowRun.objects.get(pk=response.json()["id"])
        self.assertEqual(new_run.rerun_of, run)
        self.assertEqual(set(new_run.definition["rerun"]["keep"]), {"a"})
        succeeded = create_run(self.workflow, status=WorkflowRunStatusChoices.SUCCEEDED)
        response = self.client.post(api_url("workflowrun-rerun", pk=succeeded.pk), format="json", **self.header)
        self.assertHttpStatus(response, 400)

    def test_read_only_token_cannot_launch(self):
        token = Token.objects.create(user=self.user, key="1" * 40, write_enabled=False)
        response = self.client.post(
            api_url("workflow-run", pk=self.workflow.pk),
            {"inputs": {"host": "r1"}},
            format="json",
            HTTP_AUTHORIZATION=f"Token {token.key}",
        )
        self.assertHttpStatus(response, 403)

    def test_openapi_schema_documents_the_actions(self):
        response = self.client.get("/api/swagger.json?plugins_only=true", **self.header)
        self.assertHttpStatus(response, 200)
        paths = response.json()["paths"]
        run_path = next(path for path in paths if path.endswith("/workflows/{id}/run/"))
        operation = paths[run_path]["post"]
        self.assertIn("WorkflowLaunch", str(operation["requestBody"]))
        self.assertIn("201", operation["responses"])
        self.assertIn("WorkflowRun", str(operation["responses"]["201"]))
        self.assertTrue(any(path.endswith("/workflow-runs/{id}/cancel/") for path in paths))
        self.assertTrue(any(path.endswith("/workflow-runs/{id}/rerun/") for path in paths))


class APIQueryCountTest(APITestCase):
    """API lists cost the same number of queries for 5 and for 50 rows."""

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()

    def count(self, target):
        self.client.get(target, **self.header)
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(target, **self.header)
        self.assertHttpStatus(response, 200)
        return len(queries)

    def test_run_list(self):
        workflow = create_workflow("api-count", steps=("a", "b"))
        create_runs(workflow, 5, user=self.user)
        at_5 = self.count(api_url("workflowrun-list") + "?limit=100&depth=1")
        create_runs(workflow, 45, user=self.user)
        self.assertEqual(self.count(api_url("workflowrun-list") + "?limit=100&depth=1"), at_5)

    def test_workflow_list(self):
        for index in range(5):
            create_workflow(f"api-count-{index}", steps=("a",))
        at_5 = self.count(api_url("workflow-list") + "?limit=100")
        for index in range(5, 50):
            create_workflow(f"api-count-{index}", steps=("a",))
        self.assertEqual(self.count(api_url("workflow-list") + "?limit=100"), at_5)


class APIObjectPermissionTest(APITestCase):
    """Constrained permissions limit API lists."""

    def test_lists_follow_constraints(self):
        mine, theirs = create_workflow("team-a-api", steps=("a",)), create_workflow("team-b-api", steps=("a",))
        create_run(mine)
        create_run(theirs)
        grant(self.user, Workflow, ["view"], constraints={"name__startswith": "team-a"})
        grant(self.user, WorkflowRun, ["view"], constraints={"workflow__name__startswith": "team-a"})
        names = [item["name"] for item in self.client.get(api_url("workflow-list"), **self.header).json()["results"]]
        self.assertEqual(names, ["team-a-api"])
        runs = self.client.get(api_url("workflowrun-list"), **self.header).json()["results"]
        self.assertEqual([item["workflow_name"] for item in runs], ["team-a-api"])
