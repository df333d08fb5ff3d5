"""The demo as a new user meets it (docs/user/getting-started.md), in the browser, as the demo's own users.

Each test loads the demo content with `invoke demo-data`'s loader (``development/demo_data.py`` in a subprocess, on
the test database; a small inventory) and signs in as the demo requester and approver with their demo passwords:

- the workflow button on a device's page starts *Demo: check and back up a device*, the browser lands on the run
  page and watches it turn green through the session's real worker;
- the requester runs *Demo: maintenance (nested, needs approval)* from the home page's demo card, is held by the demo
  policy and may not approve it; the approver finds it under Approvals, approves it and sees the run succeed;
- the requester runs *Demo: push once a network lead confirms*, which waits at its input step (the requester gets no
  answer form); the approver finds it under *Awaiting my input*, a change ticket of the wrong form is refused on the
  field, the right one lets the run go on to green.

Screenshots go to the e2e folder (``.dev/screenshots/<test>/``). With ``JOBFLOW_DOCS_SCREENSHOTS=docs/user/img`` the
Getting started page's screenshots are also written there (1280x800, palette PNGs), which is how they are made:
``JOBFLOW_DOCS_SCREENSHOTS=docs/user/img invoke tests --path tests/e2e/test_demo_flow.py --no-lint-first``.
"""

import os
import re
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from nautobot.dcim.models import Device
from nautobot.extras.jobs import get_jobs
from PIL import Image
from playwright.sync_api import expect

from nautobot_jobflow.choices import (
    LaunchOriginChoices,
    LaunchRequestStatusChoices,
    StepRunStatusChoices,
    WorkflowRunStatusChoices,
)
from nautobot_jobflow.models import LaunchRequest, Workflow, WorkflowButton, WorkflowRun
from tests.e2e.pages import DevicePage, LaunchRequestPage, RunPage, follow, open_nav_item, panel
from tests.fixtures_demo import demo_password, demo_workflows, run_demo_data

DEVICES = 7  # one device per demo site: enough for these flows, and the loader stays quick
VIEWPORT = {"width": 1280, "height": 800}
DOCS_SCREENSHOTS = os.getenv("JOBFLOW_DOCS_SCREENSHOTS", "")
SUCCEEDED = StepRunStatusChoices.SUCCEEDED
SUCCEEDED_FILL = StepRunStatusChoices.COLORS[SUCCEEDED]
FAN_STEPS = ("check", "backup", "label", "ticket")


def load_demo():
    """The demo content on the test database; returns (requester, approver, the demo device, workflows by key)."""
    output = run_demo_data(DEVICES)
    assert "objects created" in output, output
    get_jobs(reload=True)  # the live server (in this process) launches the demo Jobs: their classes from JOBS_ROOT
    ContentType.objects.clear_cache()
    users = get_user_model().objects
    requester = users.get(username=demo_password("requester")[0])
    approver = users.get(username=demo_password("approver")[0])
    device = Device.objects.get(name=demo_workflows.DEFAULT_DEVICE)
    specs = demo_workflows.workflows(device)
    workflows = {key: Workflow.objects.get(name=spec["name"]) for key, spec in specs.items()}
    return requester, approver, device, workflows


def sign_in(login, user, role):
    """A browser signed in as a demo user with the demo password, at the docs' viewport size."""
    browser = login(user, password=demo_password(role)[1])
    browser.page.set_viewport_size(VIEWPORT)
    return browser


def docs_screenshot(browser, name, scroll_to=None):
    """With JOBFLOW_DOCS_SCREENSHOTS set: the visible part of the page as <folder>/<name>.png, as a palette PNG.

    ``scroll_to``: a locator scrolled to the top of the window first (the part of a long page the docs show).

    Palette PNGs of Nautobot's flat UI keep the text sharp at a third of the size (each stays well under 200 KB).
    """
    if not DOCS_SCREENSHOTS:
        return None
    folder = Path(DOCS_SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page = browser.page
    page.mouse.move(0, 0)  # no hover effect in the picture
    if scroll_to is not None:
        scroll_to.first.evaluate("element => window.scrollTo(0, element.getBoundingClientRect().top + scrollY - 16)")
    page.screenshot(path=str(path))
    page.evaluate("window.scrollTo(0, 0)")
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)
    assert path.stat().st_size < 200_000, f"{path} is {path.stat().st_size} bytes"
    return path


def wait_for_run_status(browser, status, timeout_ms=90_000):
    """The run page (reloading itself while the run is active) shows ``status`` in its Status row."""
    page = browser.page
    row = page.locator("tr", has=page.locator("td", has_text=re.compile(r"^Status$"))).first
    expect(row).to_contain_text(status, timeout=timeout_ms)


def test_device_workflow_button_runs_the_demo_workflow(nautobot, login, screenshot):
    requester, _approver, device, workflows = load_demo()
    fan = workflows["fan"]
    (button,) = WorkflowButton.objects.filter(content_types__model="device", workflow=fan)

    browser = sign_in(login, requester, "requester")
    page = browser.page
    # The home page's demo card lists the button next to the example workflows.
    browser.goto("/plugins/jobflow/")
    demo_card = page.locator("#jobflow-demo")
    expect(demo_card).to_contain_text(fan.name)
    expect(demo_card.locator("#jobflow-demo-buttons")).to_contain_text(f"{button.label} on the pages of devices")
    screenshot(browser, "home")
    docs_screenshot(browser, "demo-home")

    device_page = DevicePage(browser, device)
    expect(browser.heading()).to_contain_text(device.name)
    expect(page.get_by_role("button", name=button.label, exact=True)).to_be_enabled()
    screenshot(browser, "device")
    docs_screenshot(browser, "demo-device-button")

    device_page.press_job_button(button.label)  # the button's confirmation dialog names the device; Confirm
    (run,) = WorkflowRun.objects.filter(workflow=fan)
    assert browser.path() == run.get_absolute_url()
    expect(page.locator("body")).to_contain_text(f"Started {run} for {device}.")
    run_page = RunPage(browser)
    run_page.wait_for_statuses(dict.fromkeys(FAN_STEPS, SUCCEEDED))
    wait_for_run_status(browser, "Succeeded")
    for step in FAN_STEPS:
        assert run_page.node_fill(step) == SUCCEEDED_FILL, step
    expect(panel(browser, "Step attempts")).to_contain_text("backup")
    screenshot(browser, "run-succeeded")
    docs_screenshot(browser, "demo-run-succeeded", scroll_to=panel(browser, "Graph"))

    run.refresh_from_db()
    assert (run.status, run.user, run.origin) == (
        WorkflowRunStatusChoices.SUCCEEDED,
        requester,
        LaunchOriginChoices.BUTTON,
    )
    assert run.inputs["device"] == str(device.pk)
    assert run.result["device"] == device.name
    assert run.result["backup_file"] == f"{device.name}.cfg"
    assert WorkflowRun.objects.filter(workflow=fan).count() == 1, "one press, one run"


def test_demo_approval_holds_the_maintenance_run_until_the_approver_approves(nautobot, login, screenshot):
    requester, approver, device, workflows = load_demo()
    maintenance = workflows["maintenance"]

    # The requester presses Run on the home page's demo card, then Run workflow with the pre-filled device.
    requester_browser = sign_in(login, requester, "requester")
    requester_page = requester_browser.page
    requester_browser.goto("/plugins/jobflow/")
    row = requester_page.locator("#jobflow-demo tr", has_text=maintenance.name)
    follow(requester_browser, row.get_by_role("link", name="Run", exact=True))
    expect(requester_page.locator("#jobflow-run-form")).to_contain_text(f"Run {maintenance.name}")
    follow(requester_browser, requester_page.get_by_role("button", name="Run workflow"))
    launch_request = LaunchRequest.objects.get()
    held_run = WorkflowRun.objects.get(workflow=maintenance, is_preview=False)
    assert requester_browser.path() == launch_request.get_absolute_url()
    held_message = f"held for approval by policy '{launch_request.policy_name}'"
    expect(requester_page.locator("body")).to_contain_text(held_message)
    request_page = LaunchRequestPage(requester_browser)
    assert request_page.field("Status") == "Pending approval"
    expect(request_page.stages()).to_contain_text(demo_workflows.APPROVERS_GROUP)
    screenshot(requester_browser, "request-pending")

    # The requester may not approve their own request; nothing starts.
    request_page.decide("Approve")
    expect(requester_page.locator("body")).to_contain_text("The requester may not approve their own request.")
    assert request_page.field("Status") == "Pending approval"
    held_run.refresh_from_db()
    assert held_run.status == WorkflowRunStatusChoices.AWAITING_APPROVAL
    assert held_run.step_runs.count() == 0, "the held run started a step before approval"

    # The approver finds it under Jobflow > Approvals, waits for the dry-run preview and approves it.
    approver_browser = sign_in(login, approver, "approver")
    approver_page = approver_browser.page
    open_nav_item(approver_browser, "Jobflow", "Approvals")
    request_row = approver_page.locator("table tbody tr", has_text=maintenance.name)
    expect(request_row).to_have_count(1)
    expect(request_row).to_contain_text(requester.username)
    follow(approver_browser, request_row.get_by_role("link").first)
    assert approver_browser.path() == launch_request.get_absolute_url()
    approver_request_page = LaunchRequestPage(approver_browser)
    approver_request_page.wait_for_preview_line("Dry run: would open")
    screenshot(approver_browser, "request-preview")
    docs_screenshot(approver_browser, "demo-approval", scroll_to=approver_request_page.stages())
    approver_request_page.decide("Approve", comments="Go ahead")
    assert approver_request_page.field("Status") == "Approved and launched"
    expect(approver_request_page.stages()).to_contain_text(f"{approver.username}: Approved (Go ahead)")
    screenshot(approver_browser, "request-approved")

    # The held run starts as the requester and turns green; its nested audit run too.
    approver_request_page.open_link("Workflow Run")
    assert approver_browser.path() == held_run.get_absolute_url()
    run_page = RunPage(approver_browser)
    run_page.wait_for_statuses({"audit": SUCCEEDED, "ticket": SUCCEEDED})
    wait_for_run_status(approver_browser, "Succeeded")
    history = panel(approver_browser, "Approval history")
    expect(history).to_contain_text("Approved")
    expect(history).to_contain_text(approver.username)
    screenshot(approver_browser, "run-succeeded")

    launch_request.refresh_from_db()
    held_run.refresh_from_db()
    assert launch_request.status == LaunchRequestStatusChoices.LAUNCHED
    assert (held_run.status, held_run.user) == (WorkflowRunStatusChoices.SUCCEEDED, requester)
    audit = held_run.step_runs.get(step_name="audit")
    (child,) = audit.child_runs.all()
    assert child.status == WorkflowRunStatusChoices.SUCCEEDED
    assert held_run.result["device"] == device.name


def test_demo_input_step_waits_for_the_approvers_answer(nautobot, login, screenshot):
    requester, approver, device, workflows = load_demo()
    confirmed_push = workflows["input"]

    # The requester runs it from the home page's demo card; the run stops at the question, which they may not answer.
    requester_browser = sign_in(login, requester, "requester")
    requester_page = requester_browser.page
    requester_browser.goto("/plugins/jobflow/")
    row = requester_page.locator("#jobflow-demo tr", has_text=confirmed_push.name)
    follow(requester_browser, row.get_by_role("link", name="Run", exact=True))
    follow(requester_browser, requester_page.get_by_role("button", name="Run workflow"))
    (run,) = WorkflowRun.objects.filter(workflow=confirmed_push)
    assert requester_browser.path() == run.get_absolute_url()
    RunPage(requester_browser).wait_for_statuses({"check": SUCCEEDED, "confirm": StepRunStatusChoices.AWAITING_INPUT})
    wait_for_run_status(requester_browser, "Awaiting input")
    prompt = requester_page.locator(".jobflow-input-prompt")
    expect(prompt).to_contain_text(f"{device.name}: ")
    expect(prompt).to_contain_text("interfaces active. Push the new configuration?")
    expect(requester_page.locator(".jobflow-answer-form")).to_have_count(0)
    screenshot(requester_browser, "run-awaiting-input")

    # The approver finds the question under Jobflow > Awaiting my input and answers with the generated form.
    approver_browser = sign_in(login, approver, "approver")
    approver_page = approver_browser.page
    open_nav_item(approver_browser, "Jobflow", "Awaiting my input")
    question = approver_page.locator("table tbody tr", has_text="Push the new configuration?")
    expect(question).to_have_count(1)
    expect(question).to_contain_text(confirmed_push.name)
    follow(approver_browser, question.get_by_role("link", name="Answer", exact=True))
    form = approver_page.locator(".jobflow-answer-form")
    expect(form.locator("[name='input_go']")).to_be_checked()  # the schema's default
    form.locator("[name='input_change']").fill("1234")
    follow(approver_browser, form.get_by_role("button", name="Answer"))
    expect(approver_page.locator(".jobflow-answer-form")).to_contain_text("change: '1234' does not match")
    docs_screenshot(approver_browser, "demo-input-step")
    assert not run.step_runs.get(step_name="confirm").input_responses.exists(), "a refused answer was recorded"
    form = approver_page.locator(".jobflow-answer-form")
    form.locator("[name='input_change']").fill("CHG1234")
    screenshot(approver_browser, "answer-form")
    follow(approver_browser, form.get_by_role("button", name="Answer"))
    assert approver_browser.path() == run.get_absolute_url()

    run_page = RunPage(approver_browser)
    run_page.wait_for_statuses({step: SUCCEEDED for step in ("check", "confirm", "push", "ticket")})
    wait_for_run_status(approver_browser, "Succeeded")
    screenshot(approver_browser, "run-succeeded")

    run.refresh_from_db()
    assert run.status == WorkflowRunStatusChoices.SUCCEEDED
    assert run.step_runs.get(step_name="confirm").result == {"go": True, "change": "CHG1234"}
    assert run.step_runs.get(step_name="ticket").rendered_inputs["summary"] == f"Pushed to {device.name} under CHG1234"
    assert (run.result["change"], run.result["pushed"]) == ("CHG1234", True)
