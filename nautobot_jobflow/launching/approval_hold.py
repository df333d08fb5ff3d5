"""The approval hold: turn a covered launch into a pending LaunchRequest with core's approval workflow and stages.

Nothing here changes run state: a held Workflow launch gets its WorkflowRun from the engine, which passes it in.
"""

import json
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from nautobot.extras.choices import ApprovalWorkflowStateChoices
from nautobot.extras.models import ApprovalWorkflow, ApprovalWorkflowStage, Job, JobResult

from nautobot_jobflow.choices import ApprovalEventKindChoices, LaunchRequestStatusChoices
from nautobot_jobflow.lib.errors import LaunchRefused
from nautobot_jobflow.models import LaunchRequest
from nautobot_jobflow.models.approval_matching import launch_request_content_type, stage_problems


def can_preview(target, dryrun):
    """A preview (a dry run for the approvers) exists when the target can dry-run and the launch is not one."""
    return (target.supports_dryrun if isinstance(target, Job) else True) and not dryrun


def hold_for_approval(
    policy, target, inputs, user, origin, dryrun, *, workflow_run=None, step_run=None, job_queue=None
):
    """Create the pending request and core's approval workflow for it. Returns the LaunchRequest.

    The caller starts the preview (``attach_preview``) when ``can_preview`` says there is one: a Job's preview is a
    dry-run JobResult, a Workflow's a dry-run WorkflowRun that only the engine may create.
    """
    if policy.require_preview and not can_preview(target, dryrun) and not dryrun:
        raise LaunchRefused(
            {"dryrun": f"Approval policy '{policy}' requires a dry-run preview, but Job '{target}' cannot dry-run."}
        )
    problems = stage_problems(policy.approval_workflow_definition)
    if problems:
        raise LaunchRefused({"approval": [f"Approval policy '{policy}' cannot be satisfied: {p}" for p in problems]})
    is_job = isinstance(target, Job)
    now = timezone.now()
    request = LaunchRequest.objects.create(
        policy=policy,
        policy_name=policy.name,
        job=target if is_job else None,
        workflow=None if is_job else target,
        target_name=str(target),
        inputs=json.loads(json.dumps(inputs, cls=DjangoJSONEncoder)),  # serialized Job kwargs may hold UUIDs
        dryrun=dryrun,
        origin=origin,
        user=user,
        user_name=user.username,
        expires_at=now + timedelta(minutes=policy.expiry_minutes) if policy.expiry_minutes else None,
        job_queue=job_queue,
        workflow_run=workflow_run or (step_run.run if step_run is not None else None),
        step_run=step_run,
    )
    approval_workflow = ApprovalWorkflow.objects.create(
        approval_workflow_definition=policy.approval_workflow_definition,
        object_under_review_content_type=launch_request_content_type(),
        object_under_review_object_id=request.pk,
        current_state=ApprovalWorkflowStateChoices.PENDING,
        user=user,
    )
    ApprovalWorkflowStage.objects.bulk_create(
        [
            ApprovalWorkflowStage(
                approval_workflow=approval_workflow,
                approval_workflow_stage_definition=stage,
                state=ApprovalWorkflowStateChoices.PENDING,
            )
            for stage in policy.approval_workflow_definition.approval_workflow_stage_definitions.order_by("sequence")
        ]
    )
    where = f" (step '{step_run.step_name}' of run {step_run.run_id})" if step_run is not None else ""
    request.record_event(
        ApprovalEventKindChoices.REQUESTED, user, f"Held by policy '{policy}'{where}; origin {origin}."
    )
    if not can_preview(target, dryrun):
        note = "This is a dry run itself." if dryrun else f"Job '{target}' does not support dry run: no preview."
        request.preview_note = note
        request.save(update_fields=["preview_note"])
    return request


def attach_preview(request, preview):
    """Record the started preview (a dry-run JobResult or WorkflowRun) on the request and in its audit trail."""
    if isinstance(preview, JobResult):
        request.preview_job_result = preview
    else:
        request.preview_run = preview
    request.save(update_fields=["preview_job_result", "preview_run"])
    request.record_event(ApprovalEventKindChoices.PREVIEW, request.user, "Dry-run preview started.", preview=preview)


def close_run_requests(run, user):
    """Cancel the pending requests holding ``run`` or its steps; called by the engine's cancel under the run's lock."""
    who = f" by {user}" if user else ""
    for request in LaunchRequest.objects.select_for_update().filter(
        workflow_run=run, status=LaunchRequestStatusChoices.PENDING
    ):
        request.status = LaunchRequestStatusChoices.CANCELED
        request.decided = timezone.now()
        request.message = f"The run was canceled{who}."
        request.save()
        request.record_event(ApprovalEventKindChoices.CANCELED, user, request.message)
        request.close_core_workflow()
