"""YAML over REST: POST workflows/import/ (create or replace, the UI import's checks) and GET workflows/{id}/export/."""

import yaml
from django.urls import reverse
from nautobot.apps.testing import APITestCase
from nautobot.extras.models import ObjectChange

from nautobot_jobflow.models import Workflow
from tests.fixtures import get_test_job
from tests.fixtures_workflows import add_edge, create_workflow, grant

IMPORT = reverse("plugins-api:nautobot_jobflow-api:workflow-import")


def export_url(workflow):
    return reverse("plugins-api:nautobot_jobflow-api:workflow-export", kwargs={"pk": workflow.pk})


def document(name, **extra):
    steps = [{"name": "a", "job": "jobflow_test_jobs.Echo"}, {"name": "b", "job": "jobflow_test_jobs.Noop"}]
    return {"name": name, "steps": steps, "edges": [{"from": "a", "to": "b"}], **extra}


class WorkflowYAMLAPITest(APITestCase):
    def setUp(self):
        super().setUp()
        get_test_job("Echo")
        get_test_job("Noop")

    def post(self, text, content_type="application/json"):
        body = {"yaml": text} if content_type == "application/json" else text
        return self.client.post(IMPORT, body, content_type=content_type, **self.header)

    def test_export_then_import_round_trip(self):
        grant(self.user, Workflow, ["view", "add"])
        source = create_workflow("Source", steps=("a", "b"), chain=False, description="exported")
        add_edge(source, "a", "b", "condition", "steps.a.result.length > 1")
        response = self.client.get(export_url(source), **self.header)
        self.assertEqual(response.status_code, 200)
        self.assertEqual((response.json()["id"], response.json()["name"]), (str(source.pk), "Source"))
        exported = yaml.safe_load(response.json()["yaml"])
        self.assertEqual(exported["description"], "exported")
        exported["name"] = "Copy"

        response = self.post(yaml.safe_dump(exported))
        self.assertEqual(response.status_code, 201, response.content)
        copy = Workflow.objects.get(name="Copy")
        self.assertEqual((response.json()["id"], response.json()["description"]), (str(copy.pk), "exported"))
        self.assertEqual(copy.edges.get().condition, "steps.a.result.length > 1")
        self.assertEqual(yaml.safe_load(self.client.get(export_url(copy), **self.header).json()["yaml"]), exported)

    def test_replace_needs_change_permission_and_writes_only_what_changed(self):
        grant(self.user, Workflow, ["view", "add"])
        self.assertEqual(self.post(yaml.safe_dump(document("Target"))).status_code, 201)
        response = self.post(yaml.safe_dump(document("Target", description="new")))
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["detail"], "You may not change the workflow 'Target'.")
        self.assertEqual(Workflow.objects.get(name="Target").description, "")

        grant(self.user, Workflow, ["change"], name="change workflows")
        changes = ObjectChange.objects.count()
        response = self.post(yaml.safe_dump(document("Target")))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(ObjectChange.objects.count(), changes, "an unchanged definition writes nothing")
        text = yaml.safe_dump(document("Target", description="new"))
        response = self.post(text, content_type="application/yaml")
        self.assertEqual((response.status_code, response.json()["description"]), (200, "new"))

    def test_bad_definitions_answer_400_naming_the_field_and_change_nothing(self):
        grant(self.user, Workflow, ["view", "add", "change"])
        create_workflow("Keep", steps=("old",))
        cycle = document("Keep", edges=[{"from": "a", "to": "b"}, {"from": "b", "to": "a"}])
        response = self.post(yaml.safe_dump(cycle))
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json(), {"yaml": ["edges: The edges form a cycle: a → b → a."]})
        unknown = document("Keep")
        unknown["steps"][1]["job"] = "nowhere.Nothing"
        response = self.post(yaml.safe_dump(unknown))
        self.assertEqual(
            response.json(), {"yaml": ["step 'b': job: no installed Job with class path 'nowhere.Nothing'."]}
        )
        response = self.post("name: [unclosed", content_type="application/yaml")
        self.assertEqual(response.status_code, 400)
        self.assertTrue(response.json()["yaml"][0].startswith("YAML: cannot be parsed"))
        self.assertEqual(self.post("").json(), {"yaml": ["This field may not be blank."]})
        self.assertEqual(list(Workflow.objects.get(name="Keep").steps.values_list("name", flat=True)), ["old"])

    def test_import_needs_add_permission(self):
        grant(self.user, Workflow, ["view"])
        response = self.post(yaml.safe_dump(document("New")))
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["detail"], "You may not create the workflow 'New'.")
        self.assertFalse(Workflow.objects.filter(name="New").exists())
        self.assertEqual(self.client.post(IMPORT, {"yaml": "x"}, content_type="application/json").status_code, 403)

    def test_both_actions_are_in_the_openapi_schema(self):
        response = self.client.get("/api/swagger.json?plugins_only=true", **self.header)
        paths = response.json()["paths"]
        imported = paths["/plugins/jobflow/workflows/import/"]["post"]
        self.assertEqual(set(imported["requestBody"]["content"]), {"application/json", "application/yaml"})
        self.assertEqual(set(imported["responses"]), {"200", "201"})
        exported = paths["/plugins/jobflow/workflows/{id}/export/"]["get"]
        schema = exported["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        self.assertTrue(schema.endswith("/WorkflowExport"), schema)
