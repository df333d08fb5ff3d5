"""Builders for workflow engine tests: define a workflow in a few lines, launch it, wait for it."""

import uuid

from nautobot_jobflow.choices import EdgeTriggerChoices, LaunchOriginChoices, WorkflowRunStatusChoices
from nautobot_jobflow.models import Workflow, WorkflowEdge, WorkflowRun, WorkflowStep
from nautobot_jobflow.service import launch
from tests.fixtures import get_test_job, wait_for


def build_workflow(steps, edges=(), name=None, **workflow_fields):
    """Create a validated workflow.

    ``steps``: {name: job class name (str) | Workflow | dict(job=..., inputs=..., **step fields)}; a dict without
    ``job`` is a step that runs nothing (an input step: ``kind="input"``, ``prompt=...``, ``responder_group=...``).
    ``edges``: (source, target) or (source, target, trigger) or (source, target, "condition", expression).
    """
    workflow = Workflow(name=name or f"wf-{uuid.uuid4().hex[:8]}", **workflow_fields)
    workflow.validated_save()
    created = {}
    for step_name, spec in steps.items():
        if not isinstance(spec, dict):
            spec = {"job": spec}
        spec = dict(spec)
        target = spec.pop("job", None)
        inputs = spec.pop("inputs", {})
        step = WorkflowStep(workflow=workflow, name=step_name, input_templates=inputs, **spec)
        if isinstance(target, Workflow):
            step.subworkflow = target
        elif target is not None:
            step.job = get_test_job(target)
        step.validated_save()
        created[step_name] = step
    for edge in edges:
        source, target, *rest = edge
        trigger = rest[0] if rest else EdgeTriggerChoices.ON_SUCCESS
        condition = rest[1] if len(rest) > 1 else ""
        WorkflowEdge(
            workflow=workflow, source=created[source], target=created[target], trigger=trigger, condition=condition
        ).validated_save()
    return workflow


def start(workflow, user, inputs=None, dryrun=False, origin=LaunchOriginChoices.API):
    """Launch a workflow through the launch service and return its run."""
    return launch(workflow, inputs or {}, user, origin, dryrun=dryrun).run


def wait_for_run(run, timeout=90):
    """Poll until the run is final; returns it refreshed."""

    def final():
        run.refresh_from_db()
        return run.status in WorkflowRunStatusChoices.FINAL

    wait_for(final, timeout=timeout, message=f"run {run.pk} final (last status {run.status})")
    return run


def step_runs(run):
    """Latest attempt of each step, by name (a for-each step's own row, not its items)."""
    latest = {}
    for step_run in run.step_runs.filter(item_index__isnull=True).order_by("step_name", "attempt"):
        latest[step_run.step_name] = step_run
    return latest


def run_summary(run):
    """{step: status} for assertion messages."""
    return {name: (sr.status, sr.error) for name, sr in step_runs(run).items()} | {"_run": (run.status, run.error)}


__all__ = ["WorkflowRun", "build_workflow", "run_summary", "start", "step_runs", "wait_for_run"]
