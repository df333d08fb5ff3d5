"""The approval gate: turn a covered launch into a pending LaunchRequest with core's approval workflow and stages."""

import json
import logging
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from nautobot.extras.choices import ApprovalWorkflowStateChoices
from nautobot.extras.models import ApprovalWorkflow, ApprovalWorkflowStage, Job

from nautobot_jobflow.choices import ApprovalEventKindChoices, LaunchRequestStatusChoices

logger = logging.getLogger(__name__)


def hold_for_approval(
    policy, target, inputs, user, origin, dryrun, *, workflow_run=None, step_run=None, job_queue=None
):
    """Create the request and core's approval workflow for it; start the preview when the target can dry-run."""
    from nautobot_jobflow.launch import LaunchRefused, start_preview
    from nautobot_jobflow.models import LaunchRequest

    is_job = isinstance(target, Job)
    can_preview = (target.supports_dryrun if is_job else True) and not dryrun
    if policy.require_preview and not can_preview and not dryrun:
        raise LaunchRefused(
            {"dryrun": f"Approval policy '{policy}' requires a dry-run preview, but Job '{target}' cannot dry-run."}
        )
    from nautobot_jobflow.approvals.matching import launch_request_content_type, stage_problems

    problems = stage_problems(policy.approval_workflow_definition)
    if problems:
        raise LaunchRefused({"approval": [f"Approval policy '{policy}' cannot be satisfied: {p}" for p in problems]})
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
    record(request, ApprovalEventKindChoices.REQUESTED, user, f"Held by policy '{policy}'{where}; origin {origin}.")
    if can_preview:
        preview = start_preview(request)
        if is_job:
            request.preview_job_result = preview
        else:
            request.preview_run = preview
        request.save(update_fields=["preview_job_result", "preview_run"])
        record(request, ApprovalEventKindChoices.PREVIEW, user, "Dry-run preview started.", preview=preview)
    else:
        note = "This is a dry run itself." if dryrun else f"Job '{target}' does not support dry run: no preview."
        request.preview_note = note
        request.save(update_fields=["preview_note"])
    return request


def record(request, kind, user, message="", preview=None):
    """Append one line to the request's audit trail."""
    from nautobot_jobflow.models import ApprovalEvent, WorkflowRun

    return ApprovalEvent.objects.create(
        request=request,
        kind=kind,
        user=user if getattr(user, "pk", None) else None,
        user_name=getattr(user, "username", "") or "",
        message=message,
        preview_job_result=preview if preview is not None and not isinstance(preview, WorkflowRun) else None,
        preview_run=preview if isinstance(preview, WorkflowRun) else None,
    )


def pending_requests_for_run(run):
    """Pending requests that hold ``run`` or one of its steps (locked; call inside a transaction)."""
    from nautobot_jobflow.models import LaunchRequest

    return LaunchRequest.objects.select_for_update().filter(workflow_run=run, status=LaunchRequestStatusChoices.PENDING)


def close_core_workflow(request, state=ApprovalWorkflowStateChoices.CANCELED):
    """Mark core's approval workflow (and its pending stages) closed without calling back into the request."""
    now = timezone.now()
    approval_workflow = request.approval_workflow
    if approval_workflow is None:
        return
    with transaction.atomic():
        approval_workflow.approval_workflow_stages.filter(state=ApprovalWorkflowStateChoices.PENDING).update(
            state=state, decision_date=now
        )
        ApprovalWorkflow.objects.filter(
            pk=approval_workflow.pk, current_state=ApprovalWorkflowStateChoices.PENDING
        ).update(current_state=state, decision_date=now)
