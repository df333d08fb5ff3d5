"""Operations on runs: cancel, and rerun from the failed steps."""

import contextlib

import networkx as nx
from django.db import transaction
from django.utils import timezone
from nautobot.extras.jobs_cancel import CancelFactory

from nautobot_jobflow.choices import StepRunStatusChoices, WorkflowRunStatusChoices
from nautobot_jobflow.engine.snapshot import build_definition, definition_graph
from nautobot_jobflow.models import WorkflowRun, WorkflowStepRun

S = StepRunStatusChoices
R = WorkflowRunStatusChoices


def cancel_run(run, user, reason="canceled"):
    """Cancel a run: its running JobResults through Nautobot's own cancel, nested runs, and every active step."""
    from nautobot_jobflow.launch import LaunchRefused

    job_results, children = [], []
    with transaction.atomic():
        run = WorkflowRun.objects.select_for_update().get(pk=run.pk)
        if run.status in R.FINAL:
            raise LaunchRefused({"status": f"The run is already {run.get_status_display().lower()}."})
        now = timezone.now()
        who = f" by {user}" if user else ""
        message = f"Timed out{who}." if reason == "timeout" else f"Canceled{who}."
        for step_run in run.step_runs.filter(status__in=S.ACTIVE).select_related("job_result"):
            if step_run.job_result_id and step_run.job_result.is_unready_state:
                job_results.append(step_run.job_result)
            children.extend(step_run.child_runs.filter(status__in=R.ACTIVE))
            step_run.status = S.CANCELED
            step_run.error = message
            step_run.finished = now
            step_run.save(update_fields=["status", "error", "finished"])
        from nautobot_jobflow.approvals.decisions import close_run_requests

        close_run_requests(run, user)
        run.status = R.CANCELED
        run.error = message
        run.finished = now
        run.save(update_fields=["status", "error", "finished"])
        parent_run_id = (
            WorkflowStepRun.objects.filter(pk=run.parent_step_run_id).values_list("run_id", flat=True).first()
            if run.parent_step_run_id
            else None
        )
    for job_result in job_results:
        CancelFactory.get_strategy(job_result.queue_type).cancel(job_result, user=user or run.user)
    for child in children:
        if child.status in R.ACTIVE:
            with contextlib.suppress(LaunchRefused):  # it may have finished in the meantime
                cancel_run(child, user, reason)
    if parent_run_id:
        from nautobot_jobflow.engine.runner import advance

        advance(parent_run_id)
    return run


def steps_to_rerun(run, definition):
    """Names of the steps a rerun must run again: those that did not succeed, and everything downstream."""
    latest = {}
    for step_run in run.step_runs.order_by("step_name", "attempt"):
        latest[step_run.step_name] = step_run
    graph = definition_graph(definition)
    again = {name for name in definition["steps"] if name not in latest or latest[name].status != S.SUCCEEDED}
    for name in list(again):
        again |= nx.descendants(graph, name)
    keep = {name: str(latest[name].pk) for name in definition["steps"] if name not in again and name in latest}
    return again, keep


def rerun_from_failed(run, user, origin):
    """A new run of the workflow's current definition that keeps the results of steps that succeeded."""
    from nautobot_jobflow.launch import LaunchRefused, launch

    if run.status not in (R.FAILED, R.CANCELED):
        raise LaunchRefused({"status": "Only a failed or canceled run can be rerun from its failed steps."})
    if run.workflow is None:
        raise LaunchRefused({"workflow": f"Workflow '{run.workflow_name}' no longer exists."})
    definition = build_definition(run.workflow)
    _again, keep = steps_to_rerun(run, definition)
    definition["rerun"] = {"of": str(run.pk), "keep": keep}
    return launch(run.workflow, run.inputs, user, origin, dryrun=run.dryrun, rerun_of=run, definition=definition).run
