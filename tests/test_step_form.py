"""The step form builds a field per variable of the chosen Job (and the hook rule form per input of its target).

What is saved is the same ``input_templates`` JSON as before: objects by id, several objects as a list of ids, a
template checkbox's text as it is. Reopening a step shows objects by name and templates in their template fields;
the JSON stays as the advanced view and wins when it was edited.
"""

import json
from unittest import mock

from nautobot.extras.models import Job

from nautobot_jobflow.forms import WorkflowStepForm
from nautobot_jobflow.forms.target_inputs import TargetInputs
from tests.fixtures import get_test_job
from tests.fixtures_step_form import StepFormCase, browser_data, selected_options, url


class AssembledInputsTest(StepFormCase):
    """Each variable kind is stored as the JSON a Job takes; empty inputs are left out."""

    def test_each_kind_of_variable(self):
        first, second, third = self.devices
        form = WorkflowStepForm(
            self.data(
                device=first.pk,
                devices=[second.pk, third.pk],
                verbose="on",
                mode="full",
                checks=["ping", "ssh"],
                count="5",
                label="core",
                notes="two\nlines ",
                options='{"retries": [1, 2]}',
                address="192.0.2.10",
                location="",
            )
        )
        self.assertTrue(form.is_valid(), form.errors)
        saved = form.cleaned_data["input_templates"]
        self.assertEqual(sorted(saved["devices"]), sorted([str(second.pk), str(third.pk)]))  # in the model's order
        self.assertEqual(
            {**saved, "devices": sorted(saved["devices"])},
            {
                "device": str(first.pk),
                "devices": sorted([str(second.pk), str(third.pk)]),
                "verbose": True,
                "mode": "full",
                "checks": ["ping", "ssh"],
                "count": 5,
                "label": "core",
                "notes": "two\nlines",
                "options": {"retries": [1, 2]},
                "address": "192.0.2.10",
            },
        )
        self.assertEqual(json.loads(json.dumps(saved)), saved)
        step = form.save()
        step.refresh_from_db()
        self.assertEqual(step.input_templates, saved)

    def test_files_and_the_dry_run_flag_get_no_field(self):
        form = WorkflowStepForm(self.data())
        self.assertNotIn("input__upload", form.fields)
        self.assertNotIn("input__dryrun", form.fields)
        notes = " ".join(form.target_inputs.notes)
        self.assertIn("'upload' is a file", notes)
        self.assertIn("'dryrun' is not set here", notes)

    def test_empty_inputs_are_left_out(self):
        form = WorkflowStepForm(self.data(device=self.devices[0].pk, location="", label="", checks=[], options=""))
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(
            form.cleaned_data["input_templates"], {"device": str(self.devices[0].pk), "count": 3, "mode": "fast"}
        )

    def test_a_new_step_opens_with_the_jobs_defaults(self):
        form = WorkflowStepForm(initial={"workflow": self.workflow.pk, "job": self.job.pk})
        self.assertEqual(form["input__count"].value(), 3)
        self.assertEqual(form["input__mode"].value(), "fast")
        self.assertIs(form["input__verbose"].value(), True)
        rows = {row.spec.name: row for row in form.target_inputs_panel.rows}
        self.assertTrue(rows["device"].spec.required)
        self.assertFalse(rows["label"].spec.required)
        self.assertEqual(rows["device"].spec.help_text, "The device to check.")

    def test_a_reference_to_another_variable_names_its_field(self):
        form = WorkflowStepForm(self.data())
        self.assertEqual(form.fields["input__device"].widget.attrs["data-query-param-location"], '["$input__location"]')


class TemplateSwitchTest(StepFormCase):
    """A switched input saves its template text; the hidden widget's value does not count."""

    def test_a_template_replaces_the_value(self):
        form = WorkflowStepForm(
            self.data(
                device="",
                device__use_template="on",
                device__template="{{ steps.find.result.device }}",
                label="far too long for the label's twenty characters",
                label__use_template="on",
                label__template="{{ inputs.who }}",
            )
        )
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(
            form.cleaned_data["input_templates"],
            {"device": "{{ steps.find.result.device }}", "label": "{{ inputs.who }}", "count": 3, "mode": "fast"},
        )

    def test_template_text_is_kept_as_typed(self):
        form = WorkflowStepForm(
            self.data(device=self.devices[0].pk, notes__use_template="on", notes__template="  {{ inputs.x }}\n")
        )
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(form.cleaned_data["input_templates"]["notes"], "  {{ inputs.x }}\n")


class FieldErrorsTest(StepFormCase):
    """Problems are shown on the variable's own field, not on the JSON."""

    def test_a_required_variable(self):
        form = WorkflowStepForm(self.data(device=""))
        self.assertFalse(form.is_valid())
        self.assertIn("required", form.errors["input__device"][0])
        self.assertNotIn("input_templates", form.errors)

    def test_a_required_variable_switched_to_an_empty_template(self):
        form = WorkflowStepForm(self.data(device="", device__use_template="on", device__template=" "))
        self.assertFalse(form.is_valid())
        self.assertIn("required", form.errors["input__device__template"][0])
        self.assertNotIn("input__device", form.errors)

    def test_values_the_variable_refuses(self):
        form = WorkflowStepForm(
            self.data(device=self.devices[0].pk, count="50", address="not an address", mode="sometimes")
        )
        self.assertFalse(form.is_valid())
        self.assertEqual(set(form.errors), {"input__count", "input__address", "input__mode"})

    def test_an_object_that_does_not_exist(self):
        form = WorkflowStepForm(self.data(device="a3c9a0b4-5a1e-4c50-9f5c-0b1f2b8d7e11"))
        self.assertFalse(form.is_valid())
        self.assertIn("input__device", form.errors)

    def test_a_template_syntax_error(self):
        form = WorkflowStepForm(
            self.data(device=self.devices[0].pk, label__use_template="on", label__template="{{ inputs.who ")
        )
        self.assertFalse(form.is_valid())
        self.assertIn("syntax error", form.errors["input__label__template"][0])
        self.assertTrue(form.errors["input__label__template"][0].startswith("template label "))
        self.assertNotIn("input_templates", form.errors)

    def test_errors_are_rendered_in_the_variables_row(self):
        self.user.is_superuser = True
        self.user.save()
        response = self.client.post(url("workflowstep_add"), self.data(device="", count="0"))
        self.assertEqual(response.status_code, 200)
        content = response.content.decode()
        self.assertIn("<!-- FORM-ERROR input__device: This input is required. -->", content)
        self.assertIn("<!-- FORM-ERROR input__count: Ensure this value is greater than or equal to 1. -->", content)


class ReopenTest(StepFormCase):
    """An existing step opens with objects by name and templates in their template fields."""

    def test_objects_by_name_and_templates_switched_on(self):
        first, second, third = self.devices
        step = self.saved_step(
            {
                "device": str(first.pk),
                "devices": [str(third.pk), str(second.pk)],
                "label": "{{ inputs.who }}",
                "count": 4,
                "mode": "full",
            }
        )
        form = WorkflowStepForm(instance=step)
        self.assertEqual(str(form["input__device"].value()), str(first.pk))
        self.assertEqual(selected_options(str(form["input__device"])), {str(first.pk): first.name})
        self.assertEqual(
            selected_options(str(form["input__devices"])), {str(second.pk): second.name, str(third.pk): third.name}
        )
        self.assertEqual(form["input__label__template"].value(), "{{ inputs.who }}")
        self.assertIs(form["input__label__use_template"].value(), True)
        self.assertEqual(form["input__count"].value(), 4)
        # Inputs the step does not set are shown empty, not with the Job's defaults (saving must change nothing).
        self.assertIs(form["input__verbose"].value(), False)

    def test_the_edit_page_shows_the_names(self):
        self.user.is_superuser = True
        self.user.save()
        device = self.devices[0]
        step = self.saved_step({"device": str(device.pk), "label": "{{ inputs.who }}"})
        response = self.client.get(url("workflowstep_edit", pk=step.pk))
        self.assertEqual(response.status_code, 200)
        content = response.content.decode()
        self.assertEqual(selected_options(content).get(str(device.pk)), device.name)
        self.assertIn("{{ inputs.who }}</textarea>", content)
        self.assertIn('data-jobflow-input="device"', content)
        self.assertIn("nautobot_jobflow/js/target_inputs.js", content)

    def test_open_and_save_changes_nothing(self):
        first, second, _ = self.devices
        stored = {
            "device": str(first.pk),
            "devices": [str(second.pk), str(first.pk)],  # not the model's order
            "verbose": False,  # explicit, though the Job would get False anyway
            "label": "plain text",
            "location": "not-a-uuid",  # the picker cannot show it: it opens as text in the template field
            "options": {"a": 1},
            "count": 4,
            "mode": "fast",
        }
        step = self.saved_step(stored)
        form = WorkflowStepForm(browser_data(WorkflowStepForm(instance=step)), instance=step)
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(form.inputs_source, "fields")
        self.assertEqual(form.cleaned_data["input_templates"], stored)

    def test_a_value_the_field_cannot_show_is_kept(self):
        step = self.saved_step({"device": {"name": self.devices[0].name}, "count": 3, "mode": "full"})
        unbound = WorkflowStepForm(instance=step)
        row = next(row for row in unbound.target_inputs_panel.rows if row.spec.name == "device")
        self.assertEqual(row.kept, json.dumps({"name": self.devices[0].name}))
        form = WorkflowStepForm(browser_data(unbound), instance=step)
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(
            form.cleaned_data["input_templates"], {"device": {"name": self.devices[0].name}, "count": 3, "mode": "full"}
        )

    def test_another_job_opens_with_its_defaults(self):
        step = self.saved_step({"device": str(self.devices[0].pk)})
        form = WorkflowStepForm(instance=step, initial={"job": get_test_job("Echo").pk})
        suffixes = ("", "__template", "__use_template")
        expected = {f"input__{name}{suffix}" for name in ("message", "number") for suffix in suffixes}
        self.assertEqual(form.target_inputs.field_names, expected)


class RawJsonTest(StepFormCase):
    """The JSON (the advanced view) wins when it was edited, and is all there is when there are no fields."""

    def test_edited_json_wins_over_the_fields(self):
        form = WorkflowStepForm(
            self.data(device=self.devices[0].pk, input_templates='{"device": "{{ inputs.device }}"}')
        )
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(form.inputs_source, "json")
        self.assertEqual(form.cleaned_data["input_templates"], {"device": "{{ inputs.device }}"})

    def test_field_errors_do_not_count_when_the_json_wins(self):
        form = WorkflowStepForm(self.data(count="zero", input_templates='{"device": "{{ inputs.device }}"}'))
        self.assertTrue(form.is_valid(), form.errors)

    def test_unchanged_json_lets_the_fields_win(self):
        first, second, _ = self.devices
        step = self.saved_step({"device": str(first.pk)})
        data = {**self.data(device=second.pk), "input_templates": json.dumps({"device": str(first.pk)}, indent=4)}
        form = WorkflowStepForm(data, instance=step)
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(form.cleaned_data["input_templates"], {"device": str(second.pk), "count": 3, "mode": "fast"})

    def test_errors_of_edited_json_stay_on_the_json(self):
        form = WorkflowStepForm(self.data(input_templates='{"nonsense": 1}'))
        self.assertFalse(form.is_valid())
        self.assertIn("no variable 'nonsense'", form.errors["input_templates"][0])
        self.assertTrue(form.target_inputs_panel.expanded)

    def test_a_job_whose_code_is_missing_has_only_the_json(self):
        with mock.patch.object(Job, "job_class", new_callable=mock.PropertyMock, return_value=None):
            form = WorkflowStepForm(self.data(input_templates="{}"))
            self.assertFalse(form.target_inputs.usable)
            self.assertEqual(form.target_inputs.field_names, set())
            self.assertIn("cannot be loaded", form.target_inputs.notes[0])
            self.assertTrue(form.target_inputs_panel.no_fields)

    def test_a_job_with_sensitive_variables_has_no_fields(self):
        inputs = TargetInputs(get_test_job("Secretive"))
        self.assertFalse(inputs.usable)
        self.assertIn("sensitive variables", inputs.notes[0])
