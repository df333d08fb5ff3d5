"""The same fields for other targets and forms: a nested workflow's schema, a hook rule's input template, and the
fragment the forms fetch when the target changes (only what the user may view)."""

import json

from nautobot.extras.models import Job

from nautobot_jobflow.forms import HookRuleForm, WorkflowStepForm
from nautobot_jobflow.models import Workflow
from tests.fixtures_hooks import content_type
from tests.fixtures_step_form import HTMX, StepFormCase, selected_options, url
from tests.fixtures_workflows import grant


class NestedWorkflowAndHookRuleTest(StepFormCase):
    """A nested workflow's schema properties and a hook rule's target get the same fields."""

    def test_nested_workflow_fields_from_its_schema(self):
        child = Workflow.objects.create(
            name="child",
            input_schema={
                "type": "object",
                "required": ["site"],
                "properties": {
                    "site": {"type": "string", "description": "Site name."},
                    "count": {"type": "integer"},
                    "enabled": {"type": "boolean"},
                    "level": {"enum": ["low", "high"]},
                },
            },
            default_inputs={"count": 2},
        )
        data = {**self.data(site="ams", count="", enabled="false", level='"high"'), "job": "", "subworkflow": child.pk}
        form = WorkflowStepForm(data)
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(form.cleaned_data["input_templates"], {"site": "ams", "enabled": False, "level": "high"})
        rows = {row.spec.name: row for row in form.target_inputs_panel.rows}
        self.assertTrue(rows["site"].spec.required)
        self.assertIn("Default: 2.", rows["count"].spec.help_text)
        step = form.save()
        reopened = WorkflowStepForm(instance=step)
        self.assertEqual(reopened["input__level"].value(), '"high"')
        self.assertIs(reopened["input__enabled"].value(), False)

    def test_hook_rule_input_template(self):
        device = self.devices[0]
        data = {
            "name": "on device change",
            "enabled": "on",
            "event_source": "object-change",
            "type_update": "on",
            "content_types": [content_type("dcim.device").pk],
            "match": "all",
            "job": self.job.pk,
            "input_template": "{}",
            "input__device__use_template": "on",
            "input__device__template": "{{ object.id }}",
            "input__devices": [device.pk],
            "input__count": "2",
            "input__mode": "full",
            "debounce_seconds": 0,
        }
        form = HookRuleForm(data)
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(
            form.cleaned_data["input_template"],
            {"device": "{{ object.id }}", "devices": [str(device.pk)], "count": 2, "mode": "full"},
        )

    def test_hook_rule_template_problem_on_the_inputs_field(self):
        data = {
            "name": "bad names",
            "enabled": "on",
            "event_source": "object-change",
            "type_update": "on",
            "content_types": [content_type("dcim.device").pk],
            "match": "all",
            "job": self.job.pk,
            "input_template": "{}",
            "input__device__use_template": "on",
            "input__device__template": "{{ inputs.device }}",
            "input__count": "2",
            "input__mode": "full",
            "debounce_seconds": 0,
        }
        form = HookRuleForm(data)
        self.assertFalse(form.is_valid())
        self.assertIn("uses inputs", form.errors["input__device__template"][0])
        self.assertNotIn("input_template", form.errors)


class FragmentViewTest(StepFormCase):
    """The fields of a target, fetched when the user picks it."""

    def test_fields_of_a_job(self):
        self.user.is_superuser = True
        self.user.save()
        response = self.client.get(url("target_inputs"), {"job": self.job.pk, "context": "step"}, **HTMX)
        self.assertEqual(response.status_code, 200)
        content = response.content.decode()
        self.assertIn('name="input__device"', content)
        self.assertIn('name="input__label__use_template"', content)
        self.assertIn('placeholder="{{ inputs.label }}"', content)
        self.assertIn("nb-required", content)
        self.assertNotIn("<html", content)

    def test_stored_inputs_are_shown_again(self):
        self.user.is_superuser = True
        self.user.save()
        device = self.devices[0]
        saved = json.dumps({"device": str(device.pk)})
        response = self.client.get(url("target_inputs"), {"job": self.job.pk, "saved": saved})
        self.assertEqual(selected_options(response.content.decode()), {str(device.pk): device.name})

    def test_only_what_the_user_may_view(self):
        device = self.devices[0]
        saved = json.dumps({"device": str(device.pk)})
        response = self.client.get(url("target_inputs"), {"job": self.job.pk, "saved": saved})
        self.assertEqual(response.status_code, 200)
        self.assertNotIn('name="input__device"', response.content.decode())  # no view permission on the Job
        grant(self.user, Job, ["view"])
        content = self.client.get(url("target_inputs"), {"job": self.job.pk, "saved": saved}).content.decode()
        self.assertIn('name="input__device"', content)
        self.assertNotIn(device.name, content)  # no view permission on devices

    def test_login_required(self):
        self.client.logout()
        response = self.client.get(url("target_inputs"), {"job": self.job.pk})
        self.assertEqual(response.status_code, 302)
