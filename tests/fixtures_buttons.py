"""Builders for workflow button tests: a device to press on, buttons, and reading the buttons a page shows."""

import html
import re
import uuid

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from nautobot.dcim.models import Device

from nautobot_jobflow.models import WorkflowButton
from tests import fixtures_dcim

DEVICE_TYPE = "dcim.device"


def create_device(prefix="btn"):
    """One device at a new site (its own location tree)."""
    tree = fixtures_dcim.create_location_tree(f"{prefix.upper()}{uuid.uuid4().hex[:3]}")
    (device,) = fixtures_dcim.create_devices(1, tree["site_a"], fixtures_dcim.role("leaf"), prefix=prefix)
    return device


def create_button(workflow, name=None, content_types=(Device,), **fields):
    """A validated, enabled button of ``workflow`` on the pages of ``content_types``."""
    button = WorkflowButton(name=name or f"button-{uuid.uuid4().hex[:6]}", workflow=workflow, **fields)
    button.validated_save()
    button.content_types.set([ContentType.objects.get_for_model(model) for model in content_types])
    return button


def press_url(button):
    return reverse("plugins:nautobot_jobflow:workflowbutton_press", kwargs={"pk": button.pk})


def press_data(obj):
    """The hidden inputs a button's form posts for ``obj``."""
    return {"object_type": obj._meta.label_lower, "object_id": str(obj.pk)}


def shown_buttons(response):
    """{button pk: its <button> tag} of the workflow buttons on a page."""
    tags = re.findall(r'(<button[^>]*data-jobflow-button="([^"]*)"[^>]*>)', response.content.decode())
    return {pk: tag for tag, pk in tags}


def button_form(response, button):
    """(action, hidden inputs) of the form a button submits on a page."""
    content = response.content.decode()
    form = re.search(
        rf'<form id="jobflow_button_form_{button.pk}" action="([^"]+)" method="post".*?</form>', content, re.S
    )
    assert form, f"no form for workflow button {button.name}"
    inputs = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(0)))
    return html.unescape(form.group(1)), {key: html.unescape(value) for key, value in inputs.items()}
