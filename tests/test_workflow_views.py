"""UI of workflows: Nautobot's generic view cases, the workflow page, step/edge forms, YAML, run page, runs."""

import json

import yaml
from django.test import override_settings
from django.urls import reverse
from nautobot.apps.testing import TestCase, ViewTestCases
from nautobot.extras.models import Job

from nautobot_jobflow.choices import EdgeTriggerChoices, StepRunStatusChoices, WorkflowRunStatusChoices
from nautobot_jobflow.models import Workflow, WorkflowEdge, WorkflowRun, WorkflowStep
from tests.fixtures import get_test_job
from tests.fixtures_workflows import add_edge, add_step, create_run, create_runs, create_workflow, grant

URL = "plugins:nautobot_jobflow:{}"
HTMX = {"HTTP_HX_REQUEST": "true"}  # list tables are rendered by a second (HTMX) request


def url(name, **kwargs):
    return reverse(URL.format(name), kwargs=kwargs or None)


class WorkflowViewTest(ViewTestCases.PrimaryObjectViewTestCase):
    model = Workflow
    # Generic checks that only apply inside Nautobot core (or to tree models / example_app): not collected here.
    test_list_view_app_banner = None
    test_table_with_indentation_is_removed_on_filter_or_sort = None
    test_model_properties_as_table_columns_are_not_orderable = None
    test_filter_form_fields_are_working = None

    @classmethod
    def setUpTestData(cls):
        for name in ("wf-one", "wf-two", "wf-three"):
            create_workflow(name)
        cls.form_data = {
            "name": "wf-new",
            "description": "made in a test",
            "enabled": True,
            "dryrun_mode": "refuse",
            "input_schema": json.dumps({"type": "object", "properties": {"host": {"type": "string"}}}),
            "default_inputs": json.dumps({"host": "r1"}),
        }
        cls.update_data = {**cls.form_data, "name": "wf-renamed", "description": "changed"}
        cls.bulk_edit_data = {"description": "bulk edited"}


class WorkflowStepViewTest(
    ViewTestCases.CreateObjectViewTestCase,
    ViewTestCases.EditObjectViewTestCase,
    ViewTestCases.DeleteObjectViewTestCase,
    ViewTestCases.ListObjectsViewTestCase,
    ViewTestCases.GetObjectChangelogViewTestCase,
):
    model = WorkflowStep
    # Generic checks that only apply inside Nautobot core (or to tree models / example_app): not collected here.
    test_list_view_app_banner = None
    test_table_with_indentation_is_removed_on_filter_or_sort = None
    test_model_properties_as_table_columns_are_not_orderable = None
    test_filter_form_fields_are_working = None

    @classmethod
    def setUpTestData(cls):
        # one step per workflow: a step's URL is its workflow's page, and list tests look for those URLs
        for index in range(3):
            cls.workflow = create_workflow(f"steps-wf-{index}", steps=(f"s{index}",))
        cls.form_data = {
            "workflow": cls.workflow.pk,
            "name": "added",
            "job": get_test_job("Echo").pk,
            "input_templates": json.dumps({"message": "{{ inputs.host }}"}),
            "join_mode": "any",
            "max_retries": 2,
            "retry_backoff": 5,
            "timeout": 60,
        }
        cls.update_data = {**cls.form_data, "name": "s-renamed"}


class WorkflowEdgeViewTest(
    ViewTestCases.CreateObjectViewTestCase,
    ViewTestCases.EditObjectViewTestCase,
    ViewTestCases.DeleteObjectViewTestCase,
    ViewTestCases.ListObjectsViewTestCase,
):
    model = WorkflowEdge
    # Generic checks that only apply inside Nautobot core (or to tree models / example_app): not collected here.
    test_list_view_app_banner = None
    test_table_with_indentation_is_removed_on_filter_or_sort = None
    test_model_properties_as_table_columns_are_not_orderable = None
    test_filter_form_fields_are_working = None

    @classmethod
    def setUpTestData(cls):
        for index in range(3):  # one edge per workflow (an edge's URL is its workflow's page)
            create_workflow(f"edges-wf-{index}", steps=("x", "y"))
        workflow = create_workflow("edges-wf", steps=("a", "b", "c", "d", "e"), chain=False)
        cls.form_data = {
            "workflow": workflow.pk,
            "source": workflow.steps.get(name="a").pk,
            "target": workflow.steps.get(name="e").pk,
            "trigger": EdgeTriggerChoices.CONDITION,
            "condition": "steps.a.result.length > 2",
        }
        cls.update_data = {
            "workflow": workflow.pk,
            "source": workflow.steps.get(name="a").pk,
            "target": workflow.steps.get(name="c").pk,
            "trigger": EdgeTriggerChoices.ALWAYS,
            "condition": "",
        }


class WorkflowRunViewTest(
    ViewTestCases.GetObjectViewTestCase,
    ViewTestCases.DeleteObjectViewTestCase,
    ViewTestCases.ListObjectsViewTestCase,
    ViewTestCases.BulkDeleteObjectsViewTestCase,
):
    model = WorkflowRun
    # Generic checks that only apply inside Nautobot core (or to tree models / example_app): not collected here.
    test_list_view_app_banner = None
    test_table_with_indentation_is_removed_on_filter_or_sort = None
    test_model_properties_as_table_columns_are_not_orderable = None
    test_filter_form_fields_are_working = None

    custom_action_required_permissions = {
        "plugins:nautobot_jobflow:workflowrun_cancel": ["nautobot_jobflow.change_workflowrun"],
        "plugins:nautobot_jobflow:workflowrun_rerun": ["nautobot_jobflow.view_workflowrun"],
    }

    @classmethod
    def setUpTestData(cls):
        workflow = create_workflow("runs-wf")
        create_runs(workflow, 3)


class WorkflowPageTest(TestCase):
    """The workflow detail page: graph, steps and edges panels with links that come back to it."""

    @classmethod
    def setUpTestData(cls):
        cls.workflow = create_workflow("page-wf", steps=("fetch", "render"))
        add_step(cls.workflow, "notify", "Noop")
        add_edge(cls.workflow, "fetch", "notify", EdgeTriggerChoices.ON_FAILURE)

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()

    def test_detail_shows_graph_steps_and_edges(self):
        response = self.client.get(self.workflow.get_absolute_url())
        self.assertEqual(response.status_code, 200)
        content = response.content.decode()
        self.assertIn('<svg id="jobflow-graph"', content)
        self.assertEqual(content.count('class="jobflow-node"'), 3)
        self.assertEqual(content.count('class="jobflow-edge"'), 2)
        self.assertIn("On failure", content)
        back = self.workflow.get_absolute_url()
        self.assertIn(f"{url('workflowstep_add')}?workflow={self.workflow.pk}&amp;return_url={back}", content)
        self.assertIn(f"{url('workflowedge_add')}?workflow={self.workflow.pk}&amp;return_url={back}", content)
        step = self.workflow.steps.get(name="fetch")
        self.assertIn(f"{url('workflowstep_edit', pk=step.pk)}?return_url={self.workflow.get_absolute_url()}", content)
        self.assertIn(url("workflow_run", pk=self.workflow.pk), content)
        self.assertIn(url("workflow_export_yaml", pk=self.workflow.pk), content)

    def test_step_form_preselects_workflow_and_returns_to_it(self):
        response = self.client.get(f"{url('workflowstep_add')}?workflow={self.workflow.pk}")
        self.assertEqual(response.context["form"].initial["workflow"], str(self.workflow.pk))
        response = self.client.post(
            url("workflowstep_add"),
            {
                "workflow": self.workflow.pk,
                "name": "extra",
                "job": get_test_job("Noop").pk,
                "join_mode": "all",
                "max_retries": 0,
                "retry_backoff": 0,
                "return_url": self.workflow.get_absolute_url(),
            },
        )
        self.assertRedirects(response, self.workflow.get_absolute_url(), fetch_redirect_response=False)
        self.assertTrue(self.workflow.steps.filter(name="extra").exists())

    def test_edge_form_limits_steps_to_the_workflow(self):
        other = create_workflow("other-wf", steps=("elsewhere",))
        response = self.client.get(f"{url('workflowedge_add')}?workflow={self.workflow.pk}")
        form = response.context["form"]
        self.assertEqual(set(form.fields["source"].queryset), set(self.workflow.steps.all()))
        self.assertEqual(set(form.fields["target"].queryset), set(self.workflow.steps.all()))
        response = self.client.post(
            url("workflowedge_add"),
            {
                "workflow": self.workflow.pk,
                "source": self.workflow.steps.get(name="render").pk,
                "target": other.steps.get().pk,
                "trigger": "on-success",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("target", response.context["form"].errors)
        self.assertFalse(WorkflowEdge.objects.filter(target__workflow=other).exists())


class DefinitionErrorsThroughFormsTest(TestCase):
    """Bad definitions are refused with the error on the field to fix."""

    @classmethod
    def setUpTestData(cls):
        cls.workflow = create_workflow("bad-wf", steps=("a", "b", "c"))  # a → b → c

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()

    def post_step(self, **overrides):
        data = {
            "workflow": self.workflow.pk,
            "name": "new",
            "job": get_test_job("Echo").pk,
            "input_templates": "{}",
            "join_mode": "all",
            "max_retries": 0,
            "retry_backoff": 0,
            **overrides,
        }
        response = self.client.post(url("workflowstep_add"), data)
        self.assertEqual(response.status_code, 200, "the form was accepted")
        return response.context["form"].errors

    def post_edge(self, source, target, trigger="on-success", condition=""):
        steps = {step.name: step.pk for step in self.workflow.steps.all()}
        data = {
            "workflow": self.workflow.pk,
            "source": steps[source],
            "target": steps[target],
            "trigger": trigger,
            "condition": condition,
        }
        response = self.client.post(url("workflowedge_add"), data)
        self.assertEqual(response.status_code, 200, "the form was accepted")
        return response.context["form"].errors

    def test_cycle_is_named(self):
        errors = self.post_edge("c", "a")
        self.assertIn("cycle", errors["target"][0])
        self.assertIn("a → b → c → a", errors["target"][0])

    def test_self_loop(self):
        self.assertIn("self-loop", self.post_edge("b", "b")["target"][0])

    def test_bad_condition(self):
        self.assertIn("syntax error", self.post_edge("a", "c", "condition", "steps.a.result ==")["condition"][0])

    def test_duplicate_edge(self):
        self.assertIn("already an edge", self.post_edge("a", "b")["target"][0])

    def test_unknown_job(self):
        errors = self.post_step(job="a3c9a0b4-5a1e-4c50-9f5c-0b1f2b8d7e11")
        self.assertIn("job", errors)

    def test_unknown_job_variable(self):
        errors = self.post_step(input_templates=json.dumps({"nonsense": 1}))
        self.assertIn("no variable 'nonsense'", errors["input_templates"][0])

    def test_template_syntax_error(self):
        errors = self.post_step(input_templates=json.dumps({"message": "{{ inputs.host "}))
        self.assertIn("syntax error", errors["input_templates"][0])

    def test_duplicate_step_name(self):
        errors = self.post_step(name="a")
        self.assertIn("already has a step named 'a'", errors["name"][0])
        self.assertNotIn("__all__", errors)

    def test_sensitive_variable_job(self):
        errors = self.post_step(job=get_test_job("Secretive").pk, input_templates="{}")
        self.assertIn("sensitive variables", errors["job"][0])


class YamlViewsTest(TestCase):
    """Export downloads <name>.yaml; import creates or replaces a workflow and shows problems as form errors."""

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()

    def test_export_then_import_round_trip(self):
        workflow = create_workflow("Round Trip", steps=("a", "b"), description="yaml")
        add_step(workflow, "c", "Noop")
        add_edge(workflow, "a", "c", EdgeTriggerChoices.CONDITION, "steps.a.result.length > 1")
        response = self.client.get(url("workflow_export_yaml", pk=workflow.pk))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Disposition"], 'attachment; filename="round-trip.yaml"')
        document = yaml.safe_load(response.content)
        self.assertEqual([step["name"] for step in document["steps"]], ["a", "b", "c"])
        self.assertEqual(document["steps"][2]["job"], "jobflow_test_jobs.Noop")
        document["name"] = "Imported"
        response = self.client.post(url("workflow_import_yaml"), {"yaml_text": yaml.safe_dump(document)})
        imported = Workflow.objects.get(name="Imported")
        self.assertRedirects(response, imported.get_absolute_url(), fetch_redirect_response=False)
        self.assertEqual(set(imported.steps.values_list("name", flat=True)), {"a", "b", "c"})
        edge = imported.edges.get(source__name="a", target__name="c")
        self.assertEqual(edge.condition, "steps.a.result.length > 1")

    def test_import_errors_are_form_errors_and_change_nothing(self):
        workflow = create_workflow("Keep", steps=("a", "b"))
        text = yaml.safe_dump(
            {
                "name": "Keep",
                "steps": [
                    {"name": "x", "job": "jobflow_test_jobs.Echo"},
                    {"name": "y", "job": "jobflow_test_jobs.Echo"},
                ],
                "edges": [{"from": "x", "to": "y"}, {"from": "y", "to": "x"}],
            }
        )
        response = self.client.post(url("workflow_import_yaml"), {"yaml_text": text})
        self.assertEqual(response.status_code, 200)
        self.assertIn("cycle", str(response.context["form"].errors["yaml_text"]))
        self.assertEqual(set(workflow.steps.values_list("name", flat=True)), {"a", "b"})
        bad_job = yaml.safe_dump({"name": "New", "steps": [{"name": "x", "job": "nowhere.Nothing"}]})
        response = self.client.post(url("workflow_import_yaml"), {"yaml_text": bad_job})
        self.assertIn("nowhere.Nothing", str(response.context["form"].errors["yaml_text"]))
        self.assertFalse(Workflow.objects.filter(name="New").exists())

    def test_import_from_file_replaces_steps(self):
        from django.core.files.uploadedfile import SimpleUploadedFile

        workflow = create_workflow("Replace me", steps=("old",))
        text = "name: Replace me\nsteps:\n  - name: fresh\n    job: jobflow_test_jobs.Noop\n"
        upload = SimpleUploadedFile("wf.yaml", text.encode(), content_type="application/yaml")
        response = self.client.post(url("workflow_import_yaml"), {"yaml_file": upload})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(list(workflow.steps.values_list("name", flat=True)), ["fresh"])

    def test_import_needs_add_permission(self):
        self.user.is_superuser = False
        self.user.save()
        response = self.client.get(url("workflow_import_yaml"))
        self.assertEqual(response.status_code, 403)


class RunPageTest(TestCase):
    """The run form generated from the input schema, and launching through launch()."""

    @classmethod
    def setUpTestData(cls):
        cls.workflow = create_workflow(
            "run-wf",
            steps=("a",),
            input_schema={
                "type": "object",
                "required": ["host"],
                "properties": {
                    "host": {"type": "string", "title": "Host name"},
                    "count": {"type": "integer", "minimum": 1},
                    "ratio": {"type": "number"},
                    "force": {"type": "boolean"},
                    "mode": {"enum": ["fast", "slow"]},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "extra": {"type": "object"},
                },
            },
            default_inputs={"count": 3, "mode": "slow"},
        )

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()

    def test_form_fields_follow_the_schema(self):
        response = self.client.get(url("workflow_run", pk=self.workflow.pk))
        self.assertEqual(response.status_code, 200)
        form = response.context["form"]
        fields = form.fields
        self.assertEqual(
            [type(fields[f"input_{name}"]).__name__ for name in ("host", "count", "ratio", "force", "mode")],
            ["CharField", "IntegerField", "FloatField", "BooleanField", "TypedChoiceField"],
        )
        self.assertTrue(fields["input_host"].required)
        self.assertEqual(fields["input_host"].label, "Host name")
        self.assertEqual(fields["input_count"].initial, 3)
        self.assertEqual(fields["input_mode"].initial, json.dumps("slow"))
        self.assertIn("dryrun", fields)
        self.assertContains(response, 'name="input_tags"')

    def test_bad_inputs_are_form_errors(self):
        response = self.client.post(
            url("workflow_run", pk=self.workflow.pk),
            {"input_count": "zero", "input_tags": "{not json", "input_extra": "[1]"},
        )
        self.assertEqual(response.status_code, 200)
        errors = response.context["form"].errors
        self.assertIn("input_host", errors)
        self.assertIn("input_count", errors)
        self.assertIn("Not valid JSON", errors["input_tags"][0])
        self.assertIn("JSON object", errors["input_extra"][0])
        self.assertFalse(WorkflowRun.objects.exists())

    def test_schema_violation_from_launch_lands_on_the_field(self):
        response = self.client.post(url("workflow_run", pk=self.workflow.pk), {"input_host": "r1", "input_count": "0"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("input_count", response.context["form"].errors)
        self.assertFalse(WorkflowRun.objects.exists())

    def test_launch_redirects_to_the_run(self):
        response = self.client.post(
            url("workflow_run", pk=self.workflow.pk),
            {"input_host": "r1", "input_mode": json.dumps("fast"), "input_tags": '["x"]', "dryrun": "on"},
        )
        run = WorkflowRun.objects.get()
        self.assertRedirects(response, run.get_absolute_url(), fetch_redirect_response=False)
        self.assertEqual(run.inputs, {"host": "r1", "count": 3, "mode": "fast", "tags": ["x"], "force": False})
        self.assertTrue(run.dryrun)
        self.assertEqual(run.origin, "ui")
        self.assertEqual(run.user, self.user)

    def test_disabled_workflow_is_refused(self):
        Workflow.objects.filter(pk=self.workflow.pk).update(enabled=False)
        response = self.client.post(url("workflow_run", pk=self.workflow.pk), {"input_host": "r1"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("disabled", str(response.context["form"].non_field_errors()))

    def test_user_who_cannot_run_a_job_gets_an_error(self):
        self.user.is_superuser = False
        self.user.save()
        grant(self.user, Workflow, ["view"])
        # may run Noop but not Echo (the workflow's step)
        grant(self.user, Job, ["run", "view"], constraints={"job_class_name": "Noop"})
        response = self.client.post(url("workflow_run", pk=self.workflow.pk), {"input_host": "r1"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("Echo", str(response.context["form"].non_field_errors()))
        self.assertFalse(WorkflowRun.objects.exists())

    def test_schema_without_properties_gets_a_json_field(self):
        workflow = create_workflow("free-inputs", steps=("a",), default_inputs={"message": "hi"})
        response = self.client.get(url("workflow_run", pk=workflow.pk))
        self.assertEqual(list(response.context["form"].fields), ["inputs", "dryrun"])
        response = self.client.post(url("workflow_run", pk=workflow.pk), {"inputs": '{"n": 1}'})
        self.assertEqual(WorkflowRun.objects.get(workflow=workflow).inputs, {"message": "hi", "n": 1})


class RunDetailTest(TestCase):
    """Run page: coloured graph linking to Job Results and nested runs, refresh while active, cancel and rerun."""

    @classmethod
    def setUpTestData(cls):
        cls.workflow = create_workflow("detail-wf", steps=("a", "b", "c"))

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()

    def test_graph_coloured_by_latest_attempt_with_links(self):
        from nautobot.extras.models import JobResult

        run = create_run(self.workflow, status=WorkflowRunStatusChoices.FAILED)
        job_result = JobResult.objects.create(name="Echo", job_model=get_test_job("Echo"), user=self.user)
        run.step_runs.create(step_name="a", attempt=1, status=StepRunStatusChoices.FAILED)
        run.step_runs.create(step_name="a", attempt=2, status=StepRunStatusChoices.SUCCEEDED, job_result=job_result)
        nested_parent = run.step_runs.create(step_name="b", attempt=1, status=StepRunStatusChoices.FAILED)
        child = create_run(self.workflow, status=WorkflowRunStatusChoices.FAILED, parent_step_run=nested_parent)
        response = self.client.get(run.get_absolute_url())
        content = response.content.decode()
        self.assertIn('data-step="a" data-status="succeeded"', content)
        self.assertIn('data-step="b" data-status="failed"', content)
        self.assertIn('data-step="c" data-status=""', content)
        self.assertIn(f'<a href="{job_result.get_absolute_url()}"><g class="jobflow-node" data-step="a"', content)
        self.assertIn(f'<a href="{child.get_absolute_url()}"><g class="jobflow-node" data-step="b"', content)
        self.assertNotIn("jobflow-refresh", content)
        self.assertIn(url("workflowrun_rerun", pk=run.pk), content)
        self.assertNotIn(url("workflowrun_cancel", pk=run.pk), content)

    def test_active_run_refreshes_and_offers_cancel(self):
        run = create_run(self.workflow, status=WorkflowRunStatusChoices.RUNNING, step_statuses={"a": "running"})
        content = self.client.get(run.get_absolute_url()).content.decode()
        self.assertIn('<script id="jobflow-refresh">', content)
        self.assertIn(url("workflowrun_cancel", pk=run.pk), content)
        self.assertNotIn(url("workflowrun_rerun", pk=run.pk), content)

    def test_cancel(self):
        run = create_run(self.workflow, status=WorkflowRunStatusChoices.RUNNING, step_statuses={"a": "running"})
        response = self.client.post(url("workflowrun_cancel", pk=run.pk))
        self.assertRedirects(response, run.get_absolute_url(), fetch_redirect_response=False)
        run.refresh_from_db()
        self.assertEqual(run.status, WorkflowRunStatusChoices.CANCELED)
        self.assertEqual(run.step_runs.get().status, StepRunStatusChoices.CANCELED)
        response = self.client.post(url("workflowrun_cancel", pk=run.pk), follow=True)
        self.assertContains(response, "already canceled")

    def test_cancel_needs_change_permission(self):
        self.user.is_superuser = False
        self.user.save()
        grant(self.user, WorkflowRun, ["view"])
        run = create_run(self.workflow, status=WorkflowRunStatusChoices.RUNNING)
        self.assertNotIn(url("workflowrun_cancel", pk=run.pk), self.client.get(run.get_absolute_url()).content.decode())
        self.assertEqual(self.client.post(url("workflowrun_cancel", pk=run.pk)).status_code, 403)
        run.refresh_from_db()
        self.assertEqual(run.status, WorkflowRunStatusChoices.RUNNING)

    def test_rerun_from_failed(self):
        run = create_run(
            self.workflow, status=WorkflowRunStatusChoices.FAILED, step_statuses={"a": "succeeded", "b": "failed"}
        )
        response = self.client.post(url("workflowrun_rerun", pk=run.pk))
        new_run = WorkflowRun.objects.get(rerun_of=run)
        self.assertRedirects(response, new_run.get_absolute_url(), fetch_redirect_response=False)
        self.assertEqual(set(new_run.definition["rerun"]["keep"]), {"a"})
        self.assertContains(self.client.get(run.get_absolute_url()), new_run.get_absolute_url())

    def test_rerun_of_a_succeeded_run_is_refused(self):
        run = create_run(self.workflow, status=WorkflowRunStatusChoices.SUCCEEDED)
        response = self.client.post(url("workflowrun_rerun", pk=run.pk), follow=True)
        self.assertContains(response, "Only a failed or canceled run")
        self.assertFalse(WorkflowRun.objects.filter(rerun_of=run).exists())


class ObjectPermissionTest(TestCase):
    """A constrained ObjectPermission limits what a user sees in lists and details."""

    @classmethod
    def setUpTestData(cls):
        cls.mine = create_workflow("team-a-deploy", steps=("a",))
        cls.theirs = create_workflow("team-b-deploy", steps=("a",))
        cls.my_run = create_run(cls.mine)
        cls.their_run = create_run(cls.theirs)

    def test_lists_and_details_follow_constraints(self):
        grant(self.user, Workflow, ["view"], constraints={"name__startswith": "team-a"})
        grant(self.user, WorkflowRun, ["view"], constraints={"workflow__name__startswith": "team-a"})
        content = self.client.get(url("workflow_list"), **HTMX).content.decode()
        self.assertIn("team-a-deploy", content)
        self.assertNotIn("team-b-deploy", content)
        self.assertEqual(self.client.get(self.mine.get_absolute_url()).status_code, 200)
        self.assertEqual(self.client.get(self.theirs.get_absolute_url()).status_code, 404)
        content = self.client.get(url("workflowrun_list"), **HTMX).content.decode()
        self.assertIn(self.my_run.get_absolute_url(), content)
        self.assertNotIn(self.their_run.get_absolute_url(), content)
        self.assertEqual(self.client.get(self.their_run.get_absolute_url()).status_code, 404)


@override_settings(EXEMPT_VIEW_PERMISSIONS=[])
class QueryCountTest(TestCase):
    """List and detail pages cost the same number of queries for 5 and for 50 rows."""

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()
        self.workflow = create_workflow("counted", steps=("a", "b", "c"))

    def count_queries(self, target, **headers):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.client.get(target, **headers)  # warm caches (content types, config)
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(target, **headers)
        self.assertEqual(response.status_code, 200)
        return len(queries)

    def test_run_list_and_workflow_detail(self):
        create_runs(self.workflow, 5, user=self.user)
        list_5 = self.count_queries(url("workflowrun_list") + "?per_page=100", **HTMX)
        detail_5 = self.count_queries(self.workflow.get_absolute_url())
        create_runs(self.workflow, 45, user=self.user)
        self.assertEqual(self.count_queries(url("workflowrun_list") + "?per_page=100", **HTMX), list_5)
        self.assertEqual(self.count_queries(self.workflow.get_absolute_url()), detail_5)

    def test_run_detail(self):
        run = create_run(self.workflow, status=WorkflowRunStatusChoices.FAILED)
        for attempt in range(1, 6):
            run.step_runs.create(step_name="a", attempt=attempt, status=StepRunStatusChoices.FAILED)
        detail_5 = self.count_queries(run.get_absolute_url())
        for attempt in range(6, 51):
            run.step_runs.create(step_name="a", attempt=attempt, status=StepRunStatusChoices.FAILED)
        self.assertEqual(self.count_queries(run.get_absolute_url()), detail_5)

    def test_workflow_list(self):
        for index in range(4):
            create_workflow(f"list-{index}", steps=("a",))
        list_5 = self.count_queries(url("workflow_list") + "?per_page=100", **HTMX)
        for index in range(4, 49):
            create_workflow(f"list-{index}", steps=("a",))
        self.assertEqual(Workflow.objects.count(), 50)
        self.assertEqual(self.count_queries(url("workflow_list") + "?per_page=100", **HTMX), list_5)
