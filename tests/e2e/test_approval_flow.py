"""An approval policy set up in the browser, a launch held by it, refused self-approval, approval by another user.

Only the users and the approver group are made in the database; the core approval workflow definition (core's own
form with its stage rows), the workflow, the policy, the launch and the decisions all go through the pages.
"""

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from playwright.sync_api import expect

from nautobot_jobflow.choices import (
    LaunchOriginChoices,
    LaunchRequestStatusChoices,
    StepRunStatusChoices,
    WorkflowRunStatusChoices,
)
from nautobot_jobflow.models import ApprovalPolicy, LaunchRequest, WorkflowRun
from tests.e2e.pages import (
    ApprovalDefinitionForm,
    ApprovalPolicyForm,
    LaunchRequestPage,
    RunPage,
    WorkflowPage,
    open_nav_item,
    panel,
)

WORKFLOW = "Change window"
POLICY = "Change windows need a second pair of eyes"
DEFINITION = "Jobflow change approvals"
GROUP = "Change approvers"
SUCCEEDED_FILL = StepRunStatusChoices.COLORS[StepRunStatusChoices.SUCCEEDED]

REQUESTER_PERMISSIONS = (
    "extras.view_job",
    "extras.run_job",
    "nautobot_jobflow.view_workflow",
    "nautobot_jobflow.view_workflowrun",
    "nautobot_jobflow.view_launchrequest",
)
# Without view_approvalevent the request's audit trail and the run's approval history show no lines.
APPROVER_PERMISSIONS = (
    "extras.view_jobresult",
    "nautobot_jobflow.view_approvalevent",
    "nautobot_jobflow.view_workflow",
    "nautobot_jobflow.view_workflowrun",
    "nautobot_jobflow.view_workflowsteprun",
    "nautobot_jobflow.view_launchrequest",
)


def test_policy_holds_a_ui_launch_until_another_user_approves(nautobot, make_user, login, screenshot):
    admin = make_user("e2e-admin", superuser=True)
    requester = make_user("e2e-requester", permissions=REQUESTER_PERMISSIONS)
    approver = make_user("e2e-approver", permissions=APPROVER_PERMISSIONS)
    Group.objects.create(name=GROUP).user_set.add(approver)

    # The admin builds it all in the browser: core's definition (one stage, 1 approver of the group), a workflow
    # with a dry-run-capable Job step, and a policy over that workflow for launches from the UI.
    admin_browser = login(admin)
    ApprovalDefinitionForm(admin_browser).create(
        DEFINITION, str(ContentType.objects.get_for_model(LaunchRequest)), [("Peer review", GROUP, 1)]
    )
    expect(panel(admin_browser, "Stages")).to_contain_text("Peer review")
    expect(panel(admin_browser, "Stages")).to_contain_text(GROUP)
    screenshot(admin_browser, "core-approval-definition")
    workflow = WorkflowPage.create(admin_browser, WORKFLOW, description="One step that can dry-run")
    workflow.add_step("apply", "Dry-run aware", {"note": "change window"})
    expect(workflow.graph_nodes()).to_have_count(1)
    ApprovalPolicyForm(admin_browser).create(POLICY, DEFINITION, workflows=[WORKFLOW], origins=["UI"])
    policy_page = admin_browser.page
    policy_fields = panel(admin_browser, "Approval Policy")
    expect(policy_fields.get_by_role("link", name=WORKFLOW, exact=True)).to_be_visible()
    expect(policy_fields).to_contain_text("Every Job")
    expect(policy_page.locator("body")).to_contain_text(DEFINITION)
    screenshot(admin_browser, "policy")
    policy = ApprovalPolicy.objects.get(name=POLICY)
    assert list(policy.workflows.values_list("name", flat=True)) == [WORKFLOW]
    assert policy.origins == [LaunchOriginChoices.UI]
    assert policy.approval_workflow_definition.name == DEFINITION

    # The requester runs it from its Run page and lands on the request: pending, with the preview section.
    requester_browser = login(requester)
    requester_page = requester_browser.page
    WorkflowPage(requester_browser, WORKFLOW).open().run()
    launch_request = LaunchRequest.objects.get()
    assert requester_browser.path() == launch_request.get_absolute_url()
    request_page = LaunchRequestPage(requester_browser)
    expect(requester_page.locator("body")).to_contain_text(f"held for approval by policy '{POLICY}'")
    assert request_page.field("Status") == "Pending approval"
    expect(request_page.stages()).to_contain_text("Peer review")
    expect(request_page.stages()).to_contain_text(GROUP)
    expect(request_page.preview()).to_contain_text("Dry-run preview")
    screenshot(requester_browser, "request-pending")

    # Approving their own request is refused, and nothing starts.
    request_page.decide("Approve")
    expect(requester_page.locator("body")).to_contain_text("The requester may not approve their own request.")
    assert request_page.field("Status") == "Pending approval"
    screenshot(requester_browser, "self-approval-refused")
    held_run = WorkflowRun.objects.get(is_preview=False)
    assert held_run.step_runs.count() == 0, "the held run started a step before approval"

    # The approver, in a browser of their own, finds it under Approvals, reads the dry run's log and approves.
    approver_browser = login(approver)
    approver_page = approver_browser.page
    open_nav_item(approver_browser, "Jobflow", "Approvals")
    assert "awaiting_me=True" in approver_page.url
    request_row = approver_page.locator("table tbody tr", has_text=WORKFLOW)
    expect(request_row).to_have_count(1)
    expect(request_row).to_contain_text(requester.username)
    screenshot(approver_browser, "approvals-awaiting-me")
    request_row.get_by_role("link").first.click()
    approver_page.wait_for_load_state("load")
    approver_browser.check_page()
    assert approver_browser.path() == launch_request.get_absolute_url()
    approver_request_page = LaunchRequestPage(approver_browser)
    approver_request_page.wait_for_preview_line("dry run: True")
    expect(approver_request_page.preview()).to_contain_text("apply")
    screenshot(approver_browser, "request-preview")
    approver_request_page.decide("Approve", comments="Looks right")
    expect(approver_page.locator("body")).to_contain_text("Approve:")
    assert approver_request_page.field("Status") == "Approved and launched"
    expect(approver_request_page.stages()).to_contain_text(f"{approver.username}: Approved (Looks right)")
    trail = panel(approver_browser, "Audit trail")
    for event in ("Requested", "Preview started", "Response refused", "Approved", "Launched"):
        expect(trail).to_contain_text(event)
    screenshot(approver_browser, "request-approved")

    # The held run starts and turns green; its page shows the approval history.
    approver_request_page.open_link("Workflow Run")
    assert approver_browser.path() == held_run.get_absolute_url()
    run_page = RunPage(approver_browser)
    run_page.wait_for_statuses({"apply": StepRunStatusChoices.SUCCEEDED})
    assert run_page.node_fill("apply") == SUCCEEDED_FILL
    assert run_page.field("Status") == "Succeeded"
    expect(panel(approver_browser, "Step attempts")).to_contain_text("apply")
    history = panel(approver_browser, "Approval history")
    for line in ("Requested", "Response refused", "Approved", "Launched"):
        expect(history).to_contain_text(line)
    expect(history).to_contain_text(approver.username)
    screenshot(approver_browser, "run-succeeded")

    launch_request.refresh_from_db()
    held_run.refresh_from_db()
    assert launch_request.status == LaunchRequestStatusChoices.LAUNCHED
    assert (held_run.status, held_run.user, held_run.origin) == (
        WorkflowRunStatusChoices.SUCCEEDED,
        requester,
        LaunchOriginChoices.UI,
    )
    step = held_run.step_runs.get()
    assert step.job_result.result == {"dryrun": False, "note": "change window"}
