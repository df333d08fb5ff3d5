"""Builders for the privilege tests: a user who may run every Job but one, and a world of "mine" and "theirs" objects.

``FORBIDDEN_JOB`` (the No-op test Job) is the Job X of the privilege-escalation matrix: the user may run every other
Job, through an ObjectPermission on ``extras.job`` whose ``run`` action is constrained to the other Jobs' pks.
"""

import uuid

from django.utils import timezone
from nautobot.extras.models import Job, JobResult
from nautobot.users.models import ObjectPermission

from nautobot_jobflow.choices import (
    HookFiringStatusChoices,
    PolicyTargetChoices,
    StepRunStatusChoices,
    WorkflowRunStatusChoices,
)
from nautobot_jobflow.models import (
    ApprovalEvent,
    ApprovalPolicy,
    HookFiring,
    HookRule,
    HookWindow,
    LaunchRequest,
    Workflow,
    WorkflowEdge,
    WorkflowRun,
    WorkflowStep,
    WorkflowStepRun,
)
from nautobot_jobflow.service import launch
from tests.fixtures import get_test_job
from tests.fixtures_approvals import make_definition, make_group, make_policy, make_user
from tests.fixtures_hooks import create_rule
from tests.fixtures_workflows import create_run, create_workflow, grant

FORBIDDEN_JOB = "Noop"


def forbidden_job():
    """Job X: the one Job the restricted user may not run."""
    return get_test_job(FORBIDDEN_JOB)


def user_without(job, username=None, extra_jobs=()):
    """A user who may run (and view) every enabled Job except ``job``; views workflows, runs, requests, policies.

    Every test Job row is created first, so that the constraint names each of them (a Job created later would be
    outside it, not inside).
    """
    for name in ("Echo", "Fail", "Sleep", "DryRunAware"):
        get_test_job(name)
    allowed = list(Job.objects.exclude(pk=job.pk)) + list(extra_jobs)
    return make_user(username or f"u-{uuid.uuid4().hex[:6]}", run_jobs=allowed)


def forbidden_text(user, job):
    """The message launch() gives when ``user`` may not run ``job``."""
    return f"User '{user}' may not run Job '{job}'."


def results_of(job, **filters):
    """JobResults of ``job`` (the count every matrix row asserts)."""
    return JobResult.objects.filter(job_model=job, **filters)


SLEEP = ("Sleep", {"seconds": 2})  # a first step that keeps the run busy while a test changes something


def workflow_with(jobs, name=None):
    """A chain of steps in a new workflow (steps named s1, s2, ...).

    ``jobs``: Job class names, or (class name, input templates) pairs.
    """
    workflow = Workflow.objects.create(name=name or f"wf-{uuid.uuid4().hex[:6]}")
    previous = None
    for index, spec in enumerate(jobs, start=1):
        class_name, inputs = (spec, {}) if isinstance(spec, str) else spec
        step = WorkflowStep.objects.create(
            workflow=workflow, name=f"s{index}", job=get_test_job(class_name), input_templates=inputs
        )
        if previous is not None:
            WorkflowEdge.objects.create(workflow=workflow, source=previous, target=step)
        previous = step
    return workflow


def nest(parent_name, child, before=("Echo",)):
    """A workflow running ``before`` Jobs, then ``child`` as a nested workflow step."""
    parent = workflow_with(before, name=parent_name)
    step = WorkflowStep.objects.create(workflow=parent, name="nested", subworkflow=child)
    last = parent.steps.exclude(pk=step.pk).order_by("-name").first()
    if last is not None:
        WorkflowEdge.objects.create(workflow=parent, source=last, target=step)
    return parent


def one_approver_policy(approver, **fields):
    """A policy with one stage that ``approver`` alone (one approval) decides."""
    group = make_group(f"approvers-{uuid.uuid4().hex[:6]}", approver)
    return make_policy(make_definition((group, 1)), **fields)


# ---------------------------------------------------------------------------------------------- object scoping
MINE = "mine-"
THEIRS = "theirs-"

# The scoped user's permissions: (model, actions, constraints). "$user" is Nautobot's token for the signed-in user.
SCOPED_PERMISSIONS = (
    (Workflow, ["view", "change"], {"name__startswith": MINE}),
    (WorkflowStep, ["view"], {"workflow__name__startswith": MINE}),
    (WorkflowEdge, ["view"], {"workflow__name__startswith": MINE}),
    (WorkflowRun, ["view", "change", "delete"], {"workflow__name__startswith": MINE, "user": "$user"}),
    (WorkflowStepRun, ["view"], {"run__user": "$user"}),
    (ApprovalPolicy, ["view", "change"], {"name__startswith": MINE}),
    (LaunchRequest, ["view"], {"user": "$user"}),
    (ApprovalEvent, ["view"], {"request__user": "$user"}),
    (HookRule, ["view", "change"], {"name__startswith": MINE}),
    (HookFiring, ["view"], {"user": "$user"}),
    (HookWindow, ["view"], {"rule__name__startswith": MINE}),
)


def scoped_user(username):
    """A user whose view of the app's models is limited by SCOPED_PERMISSIONS; may run every Job."""
    user = make_user(username, view_requests=False)
    for model, actions, constraints in SCOPED_PERMISSIONS:
        grant(user, model, actions, constraints=constraints, name=f"{username} {model._meta.model_name}")
    return user


def scoped_world(scoped, other):
    """Objects of every app model, some the scoped user may see ("mine") and some not ("theirs").

    Returns {key: object}; keys ending in ``_mine`` are visible to ``scoped``, the others are not. ``run_other``
    is a run of *my* workflow started by ``other``: the workflow is visible, that run is not.
    """
    world = {}
    world["workflow_mine"] = create_workflow(f"{MINE}wf", steps=("a", "b"))
    world["workflow_theirs"] = create_workflow(f"{THEIRS}wf", steps=("x", "y"))
    world["step_mine"] = world["workflow_mine"].steps.get(name="a")
    world["step_theirs"] = world["workflow_theirs"].steps.get(name="x")
    world["edge_mine"] = world["workflow_mine"].edges.get()
    world["edge_theirs"] = world["workflow_theirs"].edges.get()
    failed = {"a": StepRunStatusChoices.SUCCEEDED, "b": StepRunStatusChoices.FAILED}
    world["run_mine"] = create_run(
        world["workflow_mine"], status=WorkflowRunStatusChoices.FAILED, user=scoped, step_statuses=failed
    )
    world["run_other"] = create_run(
        world["workflow_mine"], status=WorkflowRunStatusChoices.FAILED, user=other, step_statuses=failed
    )
    world["run_theirs"] = create_run(
        world["workflow_theirs"],
        status=WorkflowRunStatusChoices.RUNNING,
        user=other,
        step_statuses={"x": StepRunStatusChoices.RUNNING},
    )
    world["steprun_mine"] = world["run_mine"].step_runs.get(step_name="b")
    world["steprun_theirs"] = world["run_other"].step_runs.get(step_name="b")
    approver = make_user(f"approver-{uuid.uuid4().hex[:4]}")
    echo = get_test_job("Echo")
    world["policy_mine"] = one_approver_policy(
        approver, name=f"{MINE}policy", jobs=[echo], applies_to=PolicyTargetChoices.JOBS
    )
    world["policy_theirs"] = one_approver_policy(
        approver, name=f"{THEIRS}policy", jobs=[get_test_job("DryRunAware")], applies_to=PolicyTargetChoices.JOBS
    )
    world["request_mine"] = launch(echo, {"message": "mine"}, scoped, "api").request
    world["request_theirs"] = launch(echo, {"message": "theirs"}, other, "api").request
    world["event_mine"] = world["request_mine"].events.get()
    world["event_theirs"] = world["request_theirs"].events.get()
    world["rule_mine"] = create_rule("Echo", name=f"{MINE}rule")
    world["rule_theirs"] = create_rule("Echo", name=f"{THEIRS}rule")
    fired = HookFiringStatusChoices.FIRED
    world["firing_mine"] = HookFiring.objects.create(
        rule=world["rule_mine"], status=fired, user=scoped, object_repr="firing-of-mine"
    )
    # My rule, fired by another user's change: the rule is visible, that firing is not.
    world["firing_other"] = HookFiring.objects.create(
        rule=world["rule_mine"], status=fired, user=other, object_repr="firing-by-other"
    )
    world["firing_theirs"] = HookFiring.objects.create(
        rule=world["rule_theirs"], status=fired, user=other, object_repr="firing-of-theirs"
    )
    now = timezone.now()
    for owner in ("mine", "theirs"):
        world[f"window_{owner}"] = HookWindow.objects.create(
            rule=world[f"rule_{owner}"], key=f"object:dcim.device:{owner}", opened=now, fires_at=now
        )
    # Every object of each model, split by what the scoped user may see.
    world["visible"] = {
        "workflow": [world["workflow_mine"]],
        "step": list(world["workflow_mine"].steps.all()),
        "edge": [world["edge_mine"]],
        "run": [world["run_mine"]],
        "steprun": list(world["run_mine"].step_runs.all()),
        "policy": [world["policy_mine"]],
        "request": [world["request_mine"]],
        "event": [world["event_mine"]],
        "rule": [world["rule_mine"]],
        "firing": [world["firing_mine"]],
        "window": [world["window_mine"]],
    }
    world["hidden"] = {
        "workflow": [world["workflow_theirs"]],
        "step": list(world["workflow_theirs"].steps.all()),
        "edge": [world["edge_theirs"]],
        "run": [world["run_other"], world["run_theirs"]],
        "steprun": list(WorkflowStepRun.objects.exclude(run=world["run_mine"])),
        "policy": [world["policy_theirs"]],
        "request": [world["request_theirs"]],
        "event": [world["event_theirs"]],
        "rule": [world["rule_theirs"]],
        "firing": [world["firing_other"], world["firing_theirs"]],
        "window": [world["window_theirs"]],
    }
    return world


def revoke_run(user, job):
    """An administrator narrows ``user``'s run permission (from make_user) to every Job but ``job``."""
    permission = ObjectPermission.objects.get(name=f"run {user.username}")
    permission.constraints = {"pk__in": [str(pk) for pk in Job.objects.exclude(pk=job.pk).values_list("pk", flat=True)]}
    permission.save()
