"""Helpers of the step form tests: a workflow, the "Input kinds" test Job, devices; form data as a browser sends it."""

import re

from django.urls import reverse
from nautobot.apps.testing import TestCase

from nautobot_jobflow.models import WorkflowStep
from tests.fixtures import get_test_job
from tests.fixtures_hooks import create_test_devices
from tests.fixtures_workflows import create_workflow

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, **kwargs):
    return reverse(f"plugins:nautobot_jobflow:{name}", kwargs=kwargs or None)


def browser_data(form):
    """What a browser submits for an unbound form left as it opened (checkboxes only when ticked)."""
    data = {}
    for bound in form:
        value = bound.value()
        if bound.widget_type == "checkbox":
            if value:
                data[bound.html_name] = "on"
        elif isinstance(value, (list, tuple)):
            data[bound.html_name] = [str(item) for item in value]
        else:
            data[bound.html_name] = "" if value is None else str(value)
    return data


def selected_options(html):
    """``{value: text}`` of the selected options of rendered select widgets."""
    html = re.sub(r"\s+", " ", html)
    found = re.findall(r'<option value="([^"]*)" selected >([^<]*)</option>', html)
    return {value: text for value, text in found if value}


class StepFormCase(TestCase):
    """A workflow, the "Input kinds" test Job (one variable of each kind) and three devices."""

    @classmethod
    def setUpTestData(cls):
        cls.workflow = create_workflow("form-wf", steps=("find",), input_schema={"type": "object"})
        cls.job = get_test_job("InputKinds")
        cls.devices = sorted(create_test_devices(3, prefix="sf"), key=lambda device: device.name)

    def data(self, job=None, input_templates="{}", **inputs):
        """Form data of a new step running ``job`` (default: Input kinds) with ``input__<name>`` values.

        The Job's required ``count`` and ``mode`` get their defaults unless given.
        """
        inputs = {"count": "3", "mode": "fast", **inputs}
        return {
            "workflow": self.workflow.pk,
            "name": "check",
            "job": (job or self.job).pk,
            "join_mode": "all",
            "max_retries": 0,
            "retry_backoff": 0,
            "input_templates": input_templates,
            **{f"input__{name}": value for name, value in inputs.items()},
        }

    def saved_step(self, input_templates):
        return WorkflowStep.objects.create(
            workflow=self.workflow, name="check", job=self.job, input_templates=input_templates
        )
