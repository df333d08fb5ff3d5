"""GraphQL: every workflow model is queryable and object permissions limit the results."""

from nautobot.apps.testing import APITestCase

from nautobot_jobflow.choices import StepRunStatusChoices, WorkflowRunStatusChoices
from nautobot_jobflow.models import Workflow, WorkflowRun, WorkflowStepRun
from tests.fixtures_workflows import create_run, create_workflow, grant

GRAPHQL = "/api/graphql/"


class WorkflowGraphQLTest(APITestCase):
    @classmethod
    def setUpTestData(cls):
        cls.mine = create_workflow("team-a-gql", steps=("a", "b"))
        cls.theirs = create_workflow("team-b-gql", steps=("x",))
        cls.my_run = create_run(
            cls.mine,
            status=WorkflowRunStatusChoices.FAILED,
            step_statuses={"a": StepRunStatusChoices.SUCCEEDED, "b": StepRunStatusChoices.FAILED},
        )
        create_run(cls.theirs, step_statuses={"x": StepRunStatusChoices.SUCCEEDED})

    def query(self, text):
        response = self.client.post(GRAPHQL, {"query": text}, format="json", **self.header)
        self.assertHttpStatus(response, 200)
        body = response.json()
        self.assertNotIn("errors", body, body)
        return body["data"]

    def test_workflows_with_steps_and_edges(self):
        self.user.is_superuser = True
        self.user.save()
        data = self.query(
            '{ workflows(name: "team-a-gql") { name enabled steps { name job { name } } '
            "edges { trigger source { name } target { name } } } }"
        )
        (workflow,) = data["workflows"]
        self.assertEqual(sorted(step["name"] for step in workflow["steps"]), ["a", "b"])
        self.assertEqual(workflow["steps"][0]["job"]["name"], "Echo")
        self.assertEqual(
            workflow["edges"], [{"trigger": "ON_SUCCESS", "source": {"name": "a"}, "target": {"name": "b"}}]
        )

    def test_runs_and_step_runs(self):
        self.user.is_superuser = True
        self.user.save()
        data = self.query(
            '{ workflow_runs(status: "failed") { workflow_name status step_runs { step_name status } } '
            'workflow_step_runs(status: "failed") { step_name run { workflow_name } } }'
        )
        (run,) = data["workflow_runs"]
        self.assertEqual(run["workflow_name"], "team-a-gql")
        self.assertEqual(sorted(item["status"] for item in run["step_runs"]), ["FAILED", "SUCCEEDED"])
        self.assertEqual(data["workflow_step_runs"], [{"step_name": "b", "run": {"workflow_name": "team-a-gql"}}])

    def test_steps_edges_and_single_objects(self):
        self.user.is_superuser = True
        self.user.save()
        data = self.query(
            '{ workflow_steps(workflow: "team-a-gql") { name } workflow_edges(workflow: "team-a-gql") { trigger } '
            f'workflow_run(id: "{self.my_run.pk}") {{ created error step_runs {{ attempt job_result {{ id }} }} }} }}'
        )
        self.assertEqual(sorted(step["name"] for step in data["workflow_steps"]), ["a", "b"])
        self.assertEqual(len(data["workflow_edges"]), 1)
        self.assertEqual(len(data["workflow_run"]["step_runs"]), 2)
        self.assertIsNone(data["workflow_run"]["step_runs"][0]["job_result"])

    def test_object_permissions_limit_results(self):
        grant(self.user, Workflow, ["view"], constraints={"name__startswith": "team-a"})
        grant(self.user, WorkflowRun, ["view"], constraints={"workflow__name__startswith": "team-a"})
        grant(self.user, WorkflowStepRun, ["view"], constraints={"run__workflow__name__startswith": "team-a"})
        data = self.query("{ workflows { name } workflow_runs { workflow_name } workflow_step_runs { step_name } }")
        self.assertEqual([item["name"] for item in data["workflows"]], ["team-a-gql"])
        self.assertEqual([item["workflow_name"] for item in data["workflow_runs"]], ["team-a-gql"])
        self.assertEqual(sorted(item["step_name"] for item in data["workflow_step_runs"]), ["a", "b"])
