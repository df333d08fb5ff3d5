"""A workflow built, run and watched in the browser: three steps and a condition edge, the run graph turning green."""

from playwright.sync_api import expect

from nautobot_jobflow.choices import LaunchOriginChoices, StepRunStatusChoices, WorkflowRunStatusChoices
from nautobot_jobflow.models import Workflow, WorkflowRun
from tests.e2e.pages import WorkflowPage

SUCCEEDED_FILL = StepRunStatusChoices.COLORS[StepRunStatusChoices.SUCCEEDED]
STEPS = ("greet", "shout", "announce")


def test_build_run_and_watch_a_workflow(nautobot, make_user, login, screenshot):
    admin = make_user("e2e-admin", superuser=True)
    browser = login(admin)
    page = browser.page
    screenshot(browser, "home")

    workflow = WorkflowPage.create(
        browser,
        "Greeting pipeline",
        description="Built in the browser by the e2e test",
        input_schema={"type": "object", "required": ["who"], "properties": {"who": {"type": "string"}}},
    )
    expect(page.locator("body")).to_contain_text("No steps yet.")
    workflow.add_step("greet", "Echo", {"message": "hello {{ inputs.who }}"})
    workflow.add_step("shout", "Echo", {"message": "{{ steps.greet.result.message | upper }}"})
    workflow.add_step(
        "announce",
        "Echo",
        {"message": "{{ steps.shout.result.message }}!", "number": "{{ steps.shout.result.length }}"},
    )
    workflow.add_edge("greet", "shout")
    workflow.add_edge("shout", "announce", trigger="When condition is true", condition="steps.shout.result.length > 5")

    # The definition page draws the DAG: three boxes, two arrows, the condition written on its arrow.
    expect(workflow.graph_nodes()).to_have_count(3)
    expect(workflow.graph_edges()).to_have_count(2)
    expect(page.locator("svg#jobflow-graph g.jobflow-edge[data-source='shout']")).to_contain_text("if steps.shout")
    expect(workflow.panel("Steps")).to_contain_text("announce")
    expect(workflow.panel("Edges")).to_contain_text("When condition is true")
    screenshot(browser, "workflow-definition")
    saved = Workflow.objects.get(name="Greeting pipeline")
    assert sorted(saved.steps.values_list("name", flat=True)) == sorted(STEPS)
    assert saved.edges.get(target__name="announce").condition == "steps.shout.result.length > 5"

    run_page = workflow.run({"who": "world"})
    screenshot(browser, "run-started")
    expect(page.locator("svg#jobflow-graph")).to_be_visible()
    # Three Jobs one after another on the worker take seconds: the first page shows the run active, reloading itself.
    assert run_page.field("Status") in ("Pending", "Running")
    assert run_page.is_refreshing()
    run = WorkflowRun.objects.get(workflow=saved)
    assert browser.path() == run.get_absolute_url()
    assert (run.origin, run.user, run.inputs) == (LaunchOriginChoices.UI, admin, {"who": "world"})

    # The page reloads itself while the run is active; each box turns green as its step succeeds.
    run_page.wait_for_statuses(dict.fromkeys(STEPS, StepRunStatusChoices.SUCCEEDED))
    for step in STEPS:
        assert run_page.node_fill(step) == SUCCEEDED_FILL, step
    expect(page.locator("body")).to_contain_text("Succeeded")
    assert run_page.field("Status") == "Succeeded"
    assert not run_page.is_refreshing(), "a finished run's page still reloads itself"
    screenshot(browser, "run-succeeded")
    run.refresh_from_db()
    assert run.status == WorkflowRunStatusChoices.SUCCEEDED

    # The announce box links to its step's JobResult, which shows the data passed along the chain.
    result_page = run_page.open_step_result("announce")
    announce = run.step_runs.get(step_name="announce")
    assert browser.path() == announce.job_result.get_absolute_url()
    expect(page.locator("body")).to_contain_text("echo: message=HELLO WORLD! number=11")
    assert "Success" in result_page.status_text() or "Completed" in result_page.status_text()
    screenshot(browser, "step-job-result")
