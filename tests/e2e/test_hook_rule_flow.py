"""A hook rule made in the browser, a device edited in the browser, and the rule's firing and its run seen there.

Only the operator and the devices are made in the database; the rule, the rule test, the device edits and every
look at the outcome go through the pages. The database is then checked for the same story.
"""

from nautobot.dcim.models import Device
from nautobot.extras.choices import JobResultStatusChoices
from playwright.sync_api import expect

from nautobot_jobflow.choices import HookFiringStatusChoices
from nautobot_jobflow.hooks import queue
from nautobot_jobflow.models import HookFiring, HookRule
from tests import fixtures_dcim as dcim
from tests.e2e.pages import DeviceEditForm, HookRuleForm, follow
from tests.fixtures import get_test_job
from tests.fixtures_hooks import change

RULE = "Serial changes are echoed"
TEMPLATE = {"message": "{{ object.name }}: serial {{ change.before.serial }} -> {{ object.serial }}"}

# What a network operator who maintains hook rules needs, and no more:
# - nautobot_jobflow.view_hookrule / add_hookrule: the Hook Rules menu entry, its Add button, the rule's page and
#   its tester; view_hookfiring: the rule's "Recent firings" table.
# - extras.view_job (the form's Job picker) and extras.run_job: saving a rule needs run permission on its target,
#   and the rule's runs start as this user. extras.view_jobresult / view_joblogentry: the run's page and its log.
# - dcim.view_device / change_device: the device's page and edit form. Core's edit form offers only objects the
#   user may view, so the device's current location, device type, role and status must be viewable to save it.
# - extras.view_objectchange: the tester lists recent device changes to test the rule against.
OPERATOR_PERMISSIONS = (
    "nautobot_jobflow.view_hookrule",
    "nautobot_jobflow.add_hookrule",
    "nautobot_jobflow.view_hookfiring",
    "extras.view_job",
    "extras.run_job",
    "extras.view_jobresult",
    "extras.view_joblogentry",
    "extras.view_objectchange",
    "dcim.view_device",
    "dcim.change_device",
    "dcim.view_location",
    "dcim.view_devicetype",
    "extras.view_role",
    "extras.view_status",
)


def create_device(user):
    """A leaf switch created by ``user`` in a change context, so its creation is in the change log."""
    tree = dcim.create_location_tree(prefix="E2E")

    def create():
        device = Device(
            name="e2e-hook-leaf-1",
            device_type=dcim.device_type(),
            role=dcim.role("leaf"),
            location=tree["site_a"],
            status=dcim.status("Active", ("dcim.device",)),
        )
        device.validated_save()
        return device

    return change(user, create)


def test_rule_fires_when_a_device_is_edited(nautobot, make_user, login, screenshot):
    operator = make_user("e2e-operator", permissions=OPERATOR_PERMISSIONS)
    device = create_device(operator)
    # Events an earlier test's objects left queued would be evaluated first (the test database is emptied between
    # tests, the Redis queue is not). The device was made before any rule watched devices, so it queued nothing.
    queue.connection().delete(queue.EVENTS_KEY)
    browser = login(operator)
    page = browser.page

    # The rule: device updates where the serial changed run Echo with a message about the device.
    form = HookRuleForm(browser)
    form.fill(
        RULE,
        object_types=["DCIM | device"],
        actions=["update"],
        conditions=[{"path": "serial", "op": "changed"}],
        job="Echo",
        input_template=TEMPLATE,
        debounce_seconds=0,
    )
    screenshot(browser, "rule-form")
    rule_page = form.create()
    expect(rule_page.firings_panel()).to_be_visible()
    expect(rule_page.firing_rows()).to_have_count(0)
    assert rule_page.field("Job") == "Echo"
    rule = HookRule.objects.get(name=RULE)
    assert (rule.owner, rule.job, rule.conditions, rule.input_template) == (
        operator,
        get_test_job("Echo"),
        [{"path": "serial", "op": "changed"}],
        TEMPLATE,
    )
    assert list(rule.content_types.values_list("app_label", "model")) == [("dcim", "device")]
    assert (rule.type_create, rule.type_update, rule.type_delete, rule.debounce_seconds) == (False, True, False, 0)

    # The operator sets the device's serial in core's edit form.
    device_form = DeviceEditForm(browser, device)
    device_form.fill(serial="SN-1")
    screenshot(browser, "device-edit")
    device_form.save()

    # The rule's page shows the firing: fired, for this device, by the operator, with a link to its JobResult.
    browser.goto(rule.get_absolute_url())
    (row,) = rule_page.wait_for_firings(1).all()
    expect(row).to_contain_text("Fired")
    expect(row).to_contain_text(device.name)
    expect(row).to_contain_text("update")
    expect(row).to_contain_text(operator.username)
    screenshot(browser, "rule-with-firing")
    first = HookFiring.objects.get(rule=rule)
    message = f"{device.name}: serial  -> SN-1"
    assert (first.status, first.changed_object_id, first.user, first.depth) == (
        HookFiringStatusChoices.FIRED,
        device.pk,
        operator,
        0,
    )
    assert first.inputs == {"message": message}

    # The rule tester, fed the recorded change from its list, agrees and renders the same inputs.
    tester = rule_page.open_tester()
    change_row = tester.recent_changes().filter(has_text=device.name).first
    expect(change_row).to_contain_text("Updated")
    tester.test_recorded_change(change_row)
    expect(tester.verdict()).to_contain_text("Would fire")
    assert tester.rendered_inputs() == {"message": message}
    screenshot(browser, "rule-tester")
    follow(browser, page.get_by_role("link", name="Back"))

    # The firing's link leads to its JobResult, which completes and logs the rendered message.
    result_page = rule_page.open_firing_result(rule_page.firing_rows().first)
    assert browser.path() == first.job_result.get_absolute_url()
    assert result_page.wait_until_done() == "Completed"
    expect(result_page.logs()).to_contain_text(f"echo: message={message}")
    screenshot(browser, "job-result")

    # An edit the condition does not watch (the asset tag), then one it does (the serial again). Events are
    # evaluated in the order the changes were committed (one FIFO queue, drained by one task at a time), so once the
    # second serial change has fired, the asset-tag change has already been judged: exactly two firings prove it did
    # not fire, without waiting an arbitrary time for something not to happen.
    device_form = DeviceEditForm(browser, device)
    device_form.fill(asset_tag="E2E-TAG-1")
    device_form.save()
    device_form = DeviceEditForm(browser, device)
    device_form.fill(serial="SN-2")
    device_form.save()
    browser.goto(rule.get_absolute_url())
    rows = rule_page.wait_for_firings(2)
    expect(rows.first).to_contain_text("Fired")
    screenshot(browser, "rule-with-two-firings")

    # The database tells the same story: two firings, each with a completed Echo run of the rendered message.
    device.refresh_from_db()
    assert (device.serial, device.asset_tag) == ("SN-2", "E2E-TAG-1")
    firings = list(HookFiring.objects.filter(rule=rule).order_by("created"))
    assert [firing.status for firing in firings] == [HookFiringStatusChoices.FIRED] * 2
    expected = [message, f"{device.name}: serial SN-1 -> SN-2"]
    assert [firing.inputs["message"] for firing in firings] == expected
    second_result_page = rule_page.open_firing_result(rule_page.firing_rows().first)
    assert browser.path() == firings[1].job_result.get_absolute_url()
    assert second_result_page.wait_until_done() == "Completed"
    for firing, text in zip(firings, expected, strict=True):
        firing.job_result.refresh_from_db()
        assert firing.job_result.status == JobResultStatusChoices.STATUS_SUCCESS
        assert firing.job_result.job_model == rule.job
        assert firing.job_result.user == operator
        assert firing.job_result.task_kwargs["message"] == text
        assert firing.job_result.result["message"] == text
