"""Jobs with sensitive variables never become workflow steps: their inputs would be stored.

The step form and the REST API are covered in test_workflow_views.py and test_workflow_api.py (same message).
"""

from django.core.exceptions import ValidationError
from nautobot.apps.testing import TestCase

from nautobot_jobflow.lib.errors import LaunchRefused
from nautobot_jobflow.models import Workflow
from nautobot_jobflow.models.workflow_checks import refuse_sensitive_job
from nautobot_jobflow.models.workflow_yaml import import_workflow
from tests.fixtures import create_superuser, get_test_job, refresh_jobs
from tests.fixtures_engine import build_workflow, start

SECRETIVE_YAML = """
name: Uses a secret
steps:
  - name: login
    job: jobflow_test_jobs.Secretive
    inputs: {password: "{{ inputs.password }}"}
"""


class SensitiveJobTest(TestCase):
    """The rule, the YAML import, and a Job flagged sensitive after it was put in a workflow."""

    @classmethod
    def setUpTestData(cls):
        refresh_jobs()

    def test_refuse_sensitive_job_names_the_field_and_the_reason(self):
        with self.assertRaises(ValidationError) as raised:
            refuse_sensitive_job(get_test_job("Secretive"), "target", where="a hook rule")
        message = raised.exception.message_dict["target"][0]
        self.assertIn("Job 'Secretive' has sensitive variables", message)
        self.assertIn("a hook rule stores the inputs", message)
        refuse_sensitive_job(get_test_job("Echo"), "target")  # no error for an ordinary Job
        refuse_sensitive_job(None, "target")

    def test_yaml_import_refuses_a_sensitive_job_and_changes_nothing(self):
        with self.assertRaises(ValidationError) as raised:
            import_workflow(SECRETIVE_YAML)
        self.assertIn("step 'login'", raised.exception.messages[0])
        self.assertIn("sensitive variables", raised.exception.messages[0])
        self.assertFalse(Workflow.objects.filter(name="Uses a secret").exists())

    def test_launch_refused_when_a_step_job_became_sensitive(self):
        workflow = build_workflow({"greet": {"job": "Echo", "inputs": {"message": "hi"}}})
        echo = get_test_job("Echo")
        echo.has_sensitive_variables = True
        echo.has_sensitive_variables_override = True
        echo.save()
        with self.assertRaises(LaunchRefused) as refused:
            start(workflow, create_superuser())
        self.assertIn("Job 'Echo' has sensitive variables", refused.exception.message_dict["workflow"][0])
        self.assertFalse(workflow.runs.exists(), "no run, so no inputs stored")
