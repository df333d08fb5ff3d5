"""Bad workflow definitions are refused with errors on the field to fix (model level; forms and API reuse it)."""

from django.core.exceptions import ValidationError
from nautobot.apps.testing import TestCase

from nautobot_jobflow.lib import graph
from nautobot_jobflow.models import WorkflowEdge, WorkflowStep
from nautobot_jobflow.models.workflow_checks import validate_definition
from tests.fixtures import get_test_job, refresh_jobs
from tests.fixtures_engine import build_workflow


class DefinitionValidationTest(TestCase):
    """Each kind of mistake gets a field error that says what is wrong."""

    @classmethod
    def setUpTestData(cls):
        refresh_jobs()

    def assert_field_error(self, instance, field, text):
        with self.assertRaises(ValidationError) as raised:
            instance.full_clean()
        self.assertIn(field, raised.exception.message_dict, raised.exception.message_dict)
        self.assertIn(text, " ".join(raised.exception.message_dict[field]))

    def test_cycle_is_named(self):
        workflow = build_workflow({"a": "Noop", "b": "Noop", "c": "Noop"}, [("a", "b"), ("b", "c")])
        steps = {step.name: step for step in workflow.steps.all()}
        edge = WorkflowEdge(workflow=workflow, source=steps["c"], target=steps["a"])
        self.assert_field_error(edge, "target", "cycle: a → b → c → a")

    def test_self_loop(self):
        workflow = build_workflow({"a": "Noop"})
        step = workflow.steps.get()
        self.assert_field_error(WorkflowEdge(workflow=workflow, source=step, target=step), "target", "self-loop")

    def test_unknown_job_variable(self):
        workflow = build_workflow({})
        step = WorkflowStep(workflow=workflow, name="s", job=get_test_job("Echo"), input_templates={"colour": "red"})
        self.assert_field_error(step, "input_templates", "no variable 'colour'")

    def test_template_syntax_error(self):
        workflow = build_workflow({})
        step = WorkflowStep(
            workflow=workflow, name="s", job=get_test_job("Echo"), input_templates={"message": "{{ inputs.x "}
        )
        self.assert_field_error(step, "input_templates", "syntax error")

    def test_bad_condition(self):
        workflow = build_workflow({"a": "Noop", "b": "Noop"})
        a, b = workflow.steps.order_by("name")
        edge = WorkflowEdge(workflow=workflow, source=a, target=b, trigger="condition", condition="steps.a.status ==")
        self.assert_field_error(edge, "condition", "syntax error")
        edge = WorkflowEdge(workflow=workflow, source=a, target=b, trigger="condition", condition="")
        self.assert_field_error(edge, "condition", "empty")

    def test_step_needs_exactly_one_target(self):
        workflow = build_workflow({})
        self.assert_field_error(WorkflowStep(workflow=workflow, name="s"), "job", "exactly one")

    def test_duplicate_step_names(self):
        workflow = build_workflow({"a": "Noop"})
        duplicate = WorkflowStep(workflow=workflow, name="a", job=get_test_job("Noop"))
        with self.assertRaises(ValidationError) as raised:
            duplicate.full_clean()
        self.assertIn("already exists", str(raised.exception))

    def test_sensitive_job_refused(self):
        workflow = build_workflow({})
        step = WorkflowStep(workflow=workflow, name="s", job=get_test_job("Secretive"))
        self.assert_field_error(step, "job", "sensitive variables")

    def test_nesting_cycle_refused(self):
        inner = build_workflow({"x": "Noop"})
        outer = build_workflow({"sub": {"job": inner}})
        step = WorkflowStep(workflow=inner, name="back", subworkflow=outer)
        self.assert_field_error(step, "subworkflow", "nesting cycle")

    def test_invalid_schema_and_defaults(self):
        workflow = build_workflow({})
        workflow.input_schema = {"type": "no-such-type"}
        self.assert_field_error(workflow, "input_schema", "Invalid JSON Schema")
        workflow.input_schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
        workflow.default_inputs = {"n": "x"}
        self.assert_field_error(workflow, "default_inputs", "n:")

    def test_plain_definition_validation(self):
        with self.assertRaisesRegex(ValidationError, "Duplicate step names: a"):
            validate_definition([{"name": "a"}, {"name": "a"}], [])
        with self.assertRaisesRegex(ValidationError, "cycle: a → b → a"):
            validate_definition(
                [{"name": "a"}, {"name": "b"}], [{"source": "a", "target": "b"}, {"source": "b", "target": "a"}]
            )
        with self.assertRaisesRegex(ValidationError, "unknown step 'zz'"):
            validate_definition([{"name": "a"}], [{"source": "a", "target": "zz"}])

    def test_graph_layers_and_order(self):
        g = graph.build_graph(["a", "b", "c", "d"], [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
        self.assertEqual(graph.layers(g), [["a"], ["b", "c"], ["d"]])
        self.assertEqual(graph.topological_order(g), ["a", "b", "c", "d"])
        self.assertIsNone(graph.find_cycle(g))
