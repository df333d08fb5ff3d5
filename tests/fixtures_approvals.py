"""Builders for approval tests: groups of approvers, core approval workflow definitions, policies, users."""

import itertools
import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from nautobot.extras.models import ApprovalWorkflowDefinition, ApprovalWorkflowStageDefinition, Job
from nautobot.users.models import ObjectPermission

from nautobot_jobflow.models import ApprovalPolicy, LaunchRequest, Workflow, WorkflowRun

User = get_user_model()
_weights = itertools.count(1)


def make_user(username=None, superuser=False, run_jobs=None, view_requests=True):
    """A user; ``run_jobs``: Jobs they may run (None: every Job); may view launch requests and policies."""
    user = User.objects.create(
        username=username or f"u-{uuid.uuid4().hex[:6]}", is_superuser=superuser, is_staff=superuser, is_active=True
    )
    if not superuser:
        permission = ObjectPermission.objects.create(
            name=f"run {user.username}",
            actions=["run", "view"],
            constraints={"pk__in": [str(job.pk) for job in run_jobs]} if run_jobs is not None else None,
        )
        permission.object_types.add(ContentType.objects.get_for_model(Job))
        permission.users.add(user)
        if view_requests:
            view = ObjectPermission.objects.create(name=f"view requests {user.username}", actions=["view"])
            view.object_types.add(
                *(
                    ContentType.objects.get_for_model(model)
                    for model in (LaunchRequest, ApprovalPolicy, Workflow, WorkflowRun)
                )
            )
            view.users.add(user)
    return user


def make_group(name, *users):
    """An approver group with these members."""
    group = Group.objects.create(name=name)
    group.user_set.add(*users)
    return group


def make_definition(*stages, name=None):
    """A core approval workflow definition for launch requests; ``stages``: (group, min_approvers) in order."""
    definition = ApprovalWorkflowDefinition.objects.create(
        name=name or f"def-{uuid.uuid4().hex[:6]}",
        model_content_type=ContentType.objects.get_for_model(LaunchRequest),
        weight=next(_weights),
    )
    for sequence, (group, minimum) in enumerate(stages, start=1):
        ApprovalWorkflowStageDefinition.objects.create(
            approval_workflow_definition=definition,
            sequence=sequence,
            name=f"stage {sequence}",
            min_approvers=minimum,
            approver_group=group,
        )
    return definition


def make_policy(definition, jobs=(), workflows=(), **fields):
    """A validated policy over ``definition``'s stages."""
    policy = ApprovalPolicy(
        name=fields.pop("name", f"policy-{uuid.uuid4().hex[:6]}"), approval_workflow_definition=definition, **fields
    )
    policy.validated_save()
    policy.jobs.set(jobs)
    policy.workflows.set(workflows)
    return policy


def dispatch_like_beat(schedule):
    """Send one tick of ``schedule`` the way Nautobot's beat scheduler does (its entry, options and JobResult).

    This is ``NautobotDatabaseScheduler.apply_async`` without the timing: the JobResult is created with its
    ``scheduled_job`` and the task carries the entry's options, so the worker sees exactly what beat would send.
    """
    from nautobot.core.celery import app
    from nautobot.core.celery.schedulers import NautobotScheduleEntry
    from nautobot.extras.models import JobResult

    entry = NautobotScheduleEntry(model=schedule, app=app)
    job_model = schedule.job_model
    job_result = JobResult.objects.create(
        name=job_model.name,
        job_model=job_model,
        scheduled_job=schedule,
        user=schedule.user,
        task_name=job_model.class_path,
        celery_kwargs=dict(entry.options),
    )
    options = dict(entry.options)
    if schedule.job_queue is not None:
        options.setdefault("queue", schedule.job_queue.name)
    app.tasks[entry.task].apply_async(entry.args, entry.kwargs, task_id=str(job_result.id), **options)
    return job_result
