"""A step's inputs filled in through the chosen Job's own fields: a picker, a template switch, reopened by name.

The workflow and the step go through the pages (only the devices are made in the database): the "Input kinds"
test Job's variables appear when it is chosen, with its defaults filled in; a device is picked, two more in the
multi-picker, another input is switched to a template. The saved step holds the same ``input_templates`` JSON as
before (ids, the template text); reopened, the pickers show the devices by name and the template is back in its
field; choosing another Job and the stored one again brings the stored inputs back; saving unchanged changes nothing.
"""

from nautobot.dcim.models import Device
from playwright.sync_api import expect

from nautobot_jobflow.models import WorkflowStep
from tests import fixtures_dcim as dcim
from tests.e2e.pages import WorkflowPage
from tests.e2e.pages_step_form import StepForm

WORKFLOW = "Device check"
DEVICES = ("e2e-leaf-1", "e2e-leaf-2", "e2e-leaf-3")


def create_devices():
    tree = dcim.create_location_tree(prefix="SF")
    devices = []
    for name in DEVICES:
        device = Device(
            name=name,
            device_type=dcim.device_type(),
            role=dcim.role("leaf"),
            location=tree["site_a"],
            status=dcim.status("Active", ("dcim.device",)),
        )
        device.validated_save()
        devices.append(device)
    return devices


def test_fill_a_step_from_the_jobs_fields_and_reopen_it(nautobot, make_user, login, screenshot):
    first, second, third = create_devices()
    admin = make_user("e2e-step-admin", superuser=True)
    browser = login(admin)
    page = browser.page

    workflow = WorkflowPage.create(
        browser, WORKFLOW, input_schema={"type": "object", "properties": {"who": {"type": "string"}}}
    )
    form = StepForm.add(workflow, "check", "Input kinds")
    # The Job's own fields: required ones marked, defaults filled in, help text shown; a file cannot be stored.
    expect(form.row("device").locator("label.nb-required")).to_have_count(1)
    expect(form.row("device")).to_contain_text("The device to check.")
    expect(form.value_field("count")).to_have_value("3")
    expect(form.value_field("mode")).to_have_value("fast")
    expect(form.value_field("verbose")).to_be_checked()
    expect(form.row("upload")).to_have_count(0)
    expect(page.locator("[data-jobflow-input-fields]")).to_contain_text("'upload' is a file")
    expect(page.locator("textarea[name='input_templates']")).to_be_hidden()  # the JSON is the collapsed advanced view
    screenshot(browser, "job-chosen")

    form.pick("device", first.name)
    form.pick("devices", second.name)
    form.pick("devices", third.name)
    form.use_template("label", "{{ inputs.who }}")
    expect(form.value_field("label")).to_be_hidden()
    screenshot(browser, "filled")
    form.save()
    expect(browser.heading()).to_contain_text(WORKFLOW)
    expect(workflow.panel("Steps")).to_contain_text("check")

    step = WorkflowStep.objects.get(workflow__name=WORKFLOW, name="check")
    stored = {
        "device": str(first.pk),
        "devices": sorted([str(second.pk), str(third.pk)]),
        "verbose": True,
        "mode": "fast",
        "count": 3,
        "label": "{{ inputs.who }}",
    }
    assert {**step.input_templates, "devices": sorted(step.input_templates["devices"])} == stored
    assert step.job.name == "Input kinds"

    # Reopened: the pickers show the devices by name, the template is back in its (visible) field.
    form = StepForm.edit(workflow, "check")
    expect(form.row("device")).to_be_visible()
    assert first.name in form.picked("device"), form.picked("device")
    for device in (second, third):
        assert device.name in form.picked("devices"), form.picked("devices")
    expect(form.switch("label")).to_be_checked()
    expect(form.template_field("label")).to_be_visible()
    expect(form.template_field("label")).to_have_value("{{ inputs.who }}")
    expect(form.value_field("count")).to_have_value("3")
    expect(form.open_json()).to_contain_text(str(first.pk))
    screenshot(browser, "reopened")

    # Another Job shows its own fields; the stored Job again shows the stored inputs.
    form.choose_job("Echo")
    expect(form.row("message")).to_be_visible()
    expect(form.row("device")).to_have_count(0)
    form.choose_job("Input kinds")
    expect(form.row("device")).to_be_visible()
    assert first.name in form.picked("device"), form.picked("device")
    expect(form.template_field("label")).to_have_value("{{ inputs.who }}")

    # Saved unchanged: the same inputs, as stored.
    before = dict(step.input_templates)
    form.save("Update")
    expect(browser.heading()).to_contain_text(WORKFLOW)
    step.refresh_from_db()
    assert step.input_templates == before
    browser.check_page()
