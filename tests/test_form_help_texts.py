"""Help texts taken from the app's models are escaped: Nautobot renders form help text unescaped (``|safe``)."""

from django.urls import reverse
from django.utils.html import escape
from nautobot.apps.testing import TestCase

from nautobot_jobflow.forms import HookRuleForm, WorkflowEdgeForm, WorkflowStepForm
from nautobot_jobflow.models import HookRule, WorkflowEdge, WorkflowStep
from tests.fixtures_workflows import create_workflow

PLACEHOLDER = "steps.<name>"


class StepAndEdgeFormHelpTextTest(TestCase):
    """The step and edge forms show ``steps.<name>.result`` as written, not ``steps..result``."""

    @classmethod
    def setUpTestData(cls):
        cls.workflow = create_workflow("help-wf")

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()

    def test_form_fields_carry_the_escaped_model_help_text(self):
        for form, model, field in (
            (WorkflowStepForm(), WorkflowStep, "name"),
            (WorkflowStepForm(), WorkflowStep, "input_templates"),
            (WorkflowEdgeForm(), WorkflowEdge, "condition"),
        ):
            model_help_text = model._meta.get_field(field).help_text
            self.assertIn(PLACEHOLDER, model_help_text, field)  # the model (and the API schema) keeps plain text
            self.assertEqual(form.fields[field].help_text, escape(model_help_text), field)

    def test_step_and_edge_pages_show_the_placeholder(self):
        for route, expected in (("workflowstep_add", 2), ("workflowedge_add", 1)):
            response = self.client.get(f"{reverse(f'plugins:nautobot_jobflow:{route}')}?workflow={self.workflow.pk}")
            self.assertEqual(response.status_code, 200, route)
            content = response.content.decode()
            self.assertNotIn(PLACEHOLDER, content, route)
            self.assertEqual(content.count("steps.&lt;name&gt;"), expected, route)


class HookRuleFormHelpTextTest(TestCase):
    """The hook rule form escapes its model help texts too (``{"path": ...}``, ``model's``)."""

    def test_form_fields_carry_the_escaped_model_help_text(self):
        form = HookRuleForm()
        for field in ("conditions", "object_filter", "input_template", "debounce_seconds", "batch"):
            model_help_text = HookRule._meta.get_field(field).help_text
            self.assertEqual(form.fields[field].help_text, escape(model_help_text), field)
        self.assertIn('{"path"', HookRule._meta.get_field("conditions").help_text)  # the model keeps plain text
        self.assertIn("{&quot;path&quot;", form.fields["conditions"].help_text)
        self.assertIn("model&#x27;s FilterSet", form.fields["object_filter"].help_text)
