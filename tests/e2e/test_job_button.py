"""The "Interface utilization" job button on a Device page, pressed once by an operator, and its JobResult."""

from django.contrib.contenttypes.models import ContentType
from nautobot.dcim.models import Device
from nautobot.extras.models import JobButton, JobResult
from playwright.sync_api import expect

from nautobot_jobflow.seeding import JOB_BUTTONS
from tests import fixtures_dcim as dcim
from tests.e2e.pages import DevicePage

OPERATOR_PERMISSIONS = (
    "dcim.view_device",
    "dcim.view_location",
    "extras.view_job",
    "extras.run_job",
    "extras.view_jobresult",
    "extras.view_joblogentry",
)


def test_device_job_button_runs_the_report(nautobot, make_user, login, screenshot):
    tree = dcim.create_location_tree(prefix="E2E")
    leaf = dcim.role("leaf")
    devices = dcim.create_devices(2, tree["site_a"], leaf, prefix="e2e-leaf")
    dcim.add_interfaces(devices, {"Active": 3, "Planned": 1})
    device = Device.objects.get(pk=devices[0].pk)
    button = JobButton.objects.get(content_types=ContentType.objects.get_for_model(Device))
    button_text = JOB_BUTTONS[button.name][1]

    operator = make_user("e2e-operator", permissions=OPERATOR_PERMISSIONS)
    browser = login(operator)
    page = browser.page
    device_page = DevicePage(browser, device)
    expect(browser.heading()).to_contain_text(device.name)
    expect(page.get_by_role("button", name=button_text)).to_be_enabled()
    screenshot(browser, "device")

    device_page.press_job_button(button_text)
    assert browser.path() == device.get_absolute_url()
    expect(page.locator("body")).to_contain_text("Job enqueued.")
    screenshot(browser, "device-job-enqueued")
    # Pressed once: exactly one JobResult, the operator's.
    job_result = JobResult.objects.get(job_model=button.job)
    assert job_result.user == operator

    result_page = device_page.open_enqueued_result()
    assert browser.path() == job_result.get_absolute_url()
    assert result_page.wait_until_done() == "Completed"
    expect(result_page.logs()).to_contain_text(
        f"Interface utilization at {tree['site_a'].name}: Total=8, Used=6 (75%), Unused=2 (25%)"
    )
    assert result_page.field("Files") == f"interface-utilization-{tree['site_a'].name.replace(' ', '-')}.csv"
    screenshot(browser, "button-job-result")
    assert JobResult.objects.filter(job_model=button.job).count() == 1
