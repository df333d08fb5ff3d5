"""Builders of workflow test data (real rows, real test Jobs from tests/jobs_root)."""

import itertools

from django.utils import timezone
from nautobot.users.models import ObjectPermission

from nautobot_jobflow.choices import (
    EdgeTriggerChoices,
    LaunchOriginChoices,
    StepRunStatusChoices,
    WorkflowRunStatusChoices,
)
from nautobot_jobflow.models import Workflow, WorkflowEdge, WorkflowRun, WorkflowStep, WorkflowStepRun
from nautobot_jobflow.models.snapshots import build_definition
from tests.fixtures import get_test_job


def create_workflow(name="wf", steps=("a", "b"), chain=True, **fields):
    """A workflow whose steps run the Echo test Job, chained a → b → ... when ``chain``."""
    workflow = Workflow.objects.create(name=name, **fields)
    echo = get_test_job("Echo")
    created = [
        WorkflowStep.objects.create(workflow=workflow, name=step, job=echo, input_templates={"message": step})
        for step in steps
    ]
    if chain:
        for source, target in itertools.pairwise(created):
            WorkflowEdge.objects.create(workflow=workflow, source=source, target=target)
    return workflow


def add_step(workflow, name, job_class="Echo", **fields):
    """One more step running a test Job."""
    return WorkflowStep.objects.create(workflow=workflow, name=name, job=get_test_job(job_class), **fields)


def add_edge(workflow, source, target, trigger=EdgeTriggerChoices.ON_SUCCESS, condition=""):
    """An edge between two step names of ``workflow``."""
    return WorkflowEdge.objects.create(
        workflow=workflow,
        source=workflow.steps.get(name=source),
        target=workflow.steps.get(name=target),
        trigger=trigger,
        condition=condition,
    )


def create_run(workflow, status=WorkflowRunStatusChoices.SUCCEEDED, user=None, step_statuses=None, **fields):
    """A run row (as the engine would leave it) with one attempt per step in ``step_statuses``."""
    run = WorkflowRun.objects.create(
        workflow=workflow,
        workflow_name=workflow.name,
        status=status,
        user=user,
        origin=fields.pop("origin", LaunchOriginChoices.UI),
        definition=build_definition(workflow),
        started=timezone.now(),
        finished=None if status in WorkflowRunStatusChoices.ACTIVE else timezone.now(),
        **fields,
    )
    for step_name, step_status in (step_statuses or {}).items():
        WorkflowStepRun.objects.create(run=run, step_name=step_name, status=step_status)
    return run


def create_runs(workflow, count, user=None):
    """``count`` finished runs of ``workflow`` with a succeeded attempt for each step."""
    names = list(workflow.steps.values_list("name", flat=True))
    return [
        create_run(workflow, user=user, step_statuses=dict.fromkeys(names, StepRunStatusChoices.SUCCEEDED))
        for _ in range(count)
    ]


def grant(user, model, actions, constraints=None, name=None):
    """An ObjectPermission for ``user`` on ``model``."""
    from django.contrib.contenttypes.models import ContentType

    permission = ObjectPermission.objects.create(
        name=name or f"{user.username}-{model._meta.model_name}-{'-'.join(actions)}",
        actions=list(actions),
        constraints=constraints,
    )
    permission.object_types.add(ContentType.objects.get_for_model(model))
    permission.users.add(user)
    return permission
