"""A launch refusal on the UI forms: the run form's per-input fields, the request-run form's job/inputs/dryrun."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from nautobot.apps.testing import TestCase

from nautobot_jobflow.forms import JobRunRequestForm
from nautobot_jobflow.input_forms import WorkflowLaunchForm
from nautobot_jobflow.models import Workflow
from nautobot_jobflow.views.approvals import _request_run_error_place
from nautobot_jobflow.views.common import add_launch_errors
from nautobot_jobflow.views.workflows import _launch_error_place
from tests.fixtures import get_test_job

SCHEMA = {"type": "object", "properties": {"host": {"type": "string"}, "count": {"type": "integer"}}}
INPUT_PROBLEMS = "host: is required; count: -1 is less than the minimum of 0; unknown: x; no name here"


def errors_of(form):
    return {field: list(messages) for field, messages in form.errors.items()}


class LaunchFormErrorsTest(TestCase):
    """Each message of a refusal (a ValidationError, as LaunchRefused is) lands where the form's mapping puts it."""

    def run_form(self):
        form = WorkflowLaunchForm({"input_host": "r1", "input_count": "3"}, workflow=Workflow(input_schema=SCHEMA))
        self.assertTrue(form.is_valid(), form.errors)
        return form

    def request_run_form(self):
        form = JobRunRequestForm({"job": str(get_test_job("Echo").pk), "inputs": "{}"})
        self.assertTrue(form.is_valid(), form.errors)
        return form

    def test_run_form_puts_input_problems_on_the_inputs_fields(self):
        form = self.run_form()
        refusal = ValidationError(
            {"inputs": INPUT_PROBLEMS, "dryrun": "No dry run.", "job": "Job X is off.", NON_FIELD_ERRORS: "Other."}
        )
        add_launch_errors(form, refusal, _launch_error_place(form))
        self.assertEqual(
            errors_of(form),
            {
                "input_host": ["host: is required"],
                "input_count": ["count: -1 is less than the minimum of 0"],
                NON_FIELD_ERRORS: ["unknown: x", "no name here", "Job X is off.", "Other."],
                "dryrun": ["No dry run."],
            },
        )

    def test_request_run_form_uses_its_fixed_fields_and_names_other_keys(self):
        form = self.request_run_form()
        refusal = ValidationError(
            {"inputs": INPUT_PROBLEMS, "dryrun": "No dry run.", "job": "Job 'X' is disabled.", "workflow": "Gone."}
        )
        add_launch_errors(form, refusal, _request_run_error_place)
        self.assertEqual(
            errors_of(form),
            {
                "inputs": [INPUT_PROBLEMS],
                "dryrun": ["No dry run."],
                "job": ["Job 'X' is disabled."],
                NON_FIELD_ERRORS: ["workflow: Gone."],
            },
        )

    def test_a_refusal_without_field_names_is_a_non_field_error_on_both_forms(self):
        for form, place in ((self.run_form(), None), (self.request_run_form(), _request_run_error_place)):
            add_launch_errors(form, ValidationError(["Nope.", "Not now."]), place or _launch_error_place(form))
            self.assertEqual(errors_of(form), {NON_FIELD_ERRORS: ["Nope.", "Not now."]}, type(form).__name__)
