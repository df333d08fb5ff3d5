"""Starting a Workflow run (the service's and the rerun's way in) and rerunning a run from its failed steps."""

from nautobot_jobflow.choices import StepRunStatusChoices, WorkflowRunStatusChoices
from nautobot_jobflow.engine.new_runs import create_run
from nautobot_jobflow.engine.runner import advance_after_commit
from nautobot_jobflow.lib.errors import LaunchRefused
from nautobot_jobflow.lib.graph import definition_graph, with_descendants
from nautobot_jobflow.models.snapshots import build_definition


def start_workflow(workflow, inputs, user, origin, dryrun, *, parent_step_run=None, rerun_of=None, definition=None):
    """Check, gate and write a run of ``workflow`` and advance it (or its preview) once the transaction commits.

    Returns the LaunchOutcome; see ``engine.new_runs.create_run`` for what is checked.
    """
    new_run = create_run(
        workflow,
        inputs,
        user,
        origin,
        dryrun,
        parent_step_run=parent_step_run,
        rerun_of=rerun_of,
        definition=definition,
    )
    for run_id in new_run.to_advance:
        advance_after_commit(run_id)
    return new_run.outcome


def steps_to_rerun(run, definition):
    """Names of the steps a rerun must run again (those that did not succeed, and everything downstream), and more.

    Also what the rerun keeps: a step run id per step that succeeded, and for a for-each step that must run again,
    its items and the ids of the items that succeeded (only the others run again).
    """
    latest, items = {}, {}
    for step_run in run.step_runs.order_by("step_name", "item_index", "attempt"):
        if step_run.item_index is None:
            latest[step_run.step_name] = step_run
        else:
            items.setdefault(step_run.step_name, {})[step_run.item_index] = step_run
    again = with_descendants(
        definition_graph(definition),
        [
            name
            for name in definition["steps"]
            if name not in latest or latest[name].status != StepRunStatusChoices.SUCCEEDED
        ],
    )
    keep = {name: str(latest[name].pk) for name in definition["steps"] if name not in again and name in latest}
    for name in again:
        header = latest.get(name)
        if header is None or header.items is None or not definition["steps"][name].get("for_each"):
            continue
        succeeded = {
            str(index): str(item_run.pk)
            for index, item_run in items.get(name, {}).items()
            if item_run.status == StepRunStatusChoices.SUCCEEDED
        }
        keep[name] = {"items": header.items, "succeeded": succeeded}
    return again, keep


def rerun_from_failed(run, user, origin):
    """A new run of the workflow's current definition that keeps the results of steps that succeeded."""
    if run.status not in (WorkflowRunStatusChoices.FAILED, WorkflowRunStatusChoices.CANCELED):
        raise LaunchRefused({"status": "Only a failed or canceled run can be rerun from its failed steps."})
    if run.workflow is None:
        raise LaunchRefused({"workflow": f"Workflow '{run.workflow_name}' no longer exists."})
    definition = build_definition(run.workflow)
    _again, keep = steps_to_rerun(run, definition)
    definition["rerun"] = {"of": str(run.pk), "keep": keep}
    return start_workflow(run.workflow, run.inputs, user, origin, run.dryrun, rerun_of=run, definition=definition).run
