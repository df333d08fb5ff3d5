"""Decisions on launch requests: the guard on core's responses, approval (start exactly once), denial, expiry.

Core's approve/deny paths (its UI, its REST API, and ours) all write an ``ApprovalWorkflowStageResponse``. The
``pre_save`` guard below refuses, for our requests, what core allows: self-approval, approvers outside the stage's
group (superusers included), decisions on expired or closed requests, and approval before a required preview. Core
then moves its stage and workflow; ``LaunchRequest.on_workflow_approved`` sends ``launch_request_decided``, whose
receiver here (``on_request_decided``) calls ``request_approved``: it locks the request row and starts it only if it
is still pending, so concurrent final approvals start one run. What a decision does to a held run or step is the
engine's (``engine.held``); this module owns the request's own state.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from nautobot.extras.choices import ApprovalWorkflowStateChoices, JobResultStatusChoices
from nautobot.extras.models import ApprovalWorkflowStageResponse

from nautobot_jobflow import app_settings
from nautobot_jobflow.choices import ApprovalEventKindChoices, LaunchRequestStatusChoices, WorkflowRunStatusChoices
from nautobot_jobflow.engine.held import end_held, release_step, start_approved_run
from nautobot_jobflow.launching.jobs import LaunchOutcome, start_approved_job
from nautobot_jobflow.lib.errors import LaunchForbidden, LaunchRefused, refusal_text
from nautobot_jobflow.models import LaunchRequest, WorkflowRun
from nautobot_jobflow.models.approval_matching import LAUNCH_REQUEST_NATURAL_KEY

logger = logging.getLogger(__name__)

CORE_STATE = ApprovalWorkflowStateChoices
REQUEST = LaunchRequestStatusChoices
EVENT_FOR_STATUS = {
    REQUEST.DENIED: ApprovalEventKindChoices.DENIED,
    REQUEST.EXPIRED: ApprovalEventKindChoices.EXPIRED,
    REQUEST.CANCELED: ApprovalEventKindChoices.CANCELED,
    REQUEST.FAILED: ApprovalEventKindChoices.FAILED,
}
DECIDED_TEXT = {REQUEST.DENIED: "Denied.", REQUEST.CANCELED: "Canceled."}


class ApprovalRefused(PermissionDenied):
    """A decision on a launch request that the policy does not allow; the message says why."""


def self_approval_allowed(request, user):
    """The requester may approve when the policy says so, or (a superuser) when the app setting says so."""
    if request.policy is not None and request.policy.allow_self_approval:
        return True
    return bool(user.is_superuser and app_settings.superuser_self_approval())


def preview_finished(request):
    """True when the request's preview (if any) has finished."""
    if request.preview_job_result_id:
        return request.preview_job_result.status in JobResultStatusChoices.READY_STATES
    if request.preview_run_id:
        return request.preview_run.status in WorkflowRunStatusChoices.FINAL
    return False


def decision_problem(request, user, stage, state):
    """Why ``user`` may not record ``state`` (approved/denied) on ``stage`` of ``request``; None when they may."""
    if request is None:
        return "This launch request no longer exists."
    if not request.is_pending:
        return f"This request is already {request.get_status_display().lower()}."
    if request.is_expired:
        return f"This request expired at {request.expires_at:%Y-%m-%d %H:%M:%S %Z}; it can no longer be decided."
    if stage is None or stage.state != CORE_STATE.PENDING or not stage.is_active_stage:
        return "This stage is not the one awaiting decisions."
    definition = stage.approval_workflow_stage_definition
    group = definition.approver_group if definition else None
    in_group = bool(group and group.user_set.filter(pk=user.pk).exists())
    if state == CORE_STATE.APPROVED:
        if user.pk == request.user_id and not self_approval_allowed(request, user):
            return "The requester may not approve their own request."
        if not in_group:
            return f"Only members of group '{group}' may approve stage '{definition.name}'."
        if request.policy is not None and request.policy.require_preview and not preview_finished(request):
            return "The dry-run preview has not finished yet; review it before approving."
        already = stage.approval_workflow_stage_responses.filter(user=user, state=CORE_STATE.APPROVED).exists()
        if already:
            return "You have already approved this stage."
    elif state == CORE_STATE.DENIED and not (in_group or user.is_superuser or user.pk == request.user_id):
        return f"Only members of group '{group}' (or the requester, to withdraw it) may deny stage '{definition.name}'."
    return None


def _request_for_stage(stage):
    approval_workflow = stage.approval_workflow
    content_type = approval_workflow.object_under_review_content_type
    if (content_type.app_label, content_type.model) != LAUNCH_REQUEST_NATURAL_KEY:
        return False, None
    request = (
        LaunchRequest.objects.select_related("policy", "preview_job_result", "preview_run")
        .filter(pk=approval_workflow.object_under_review_object_id)
        .first()
    )
    return True, request


def guard_response(sender, instance, raw=False, **kwargs):
    """pre_save on core's stage responses: refuse decisions our policies do not allow, whichever view made them."""
    if raw or instance.state not in (CORE_STATE.APPROVED, CORE_STATE.DENIED):
        return
    if instance.pk and sender.objects.filter(pk=instance.pk, state=instance.state).exists():
        return  # re-saving a decision already taken
    ours, request = _request_for_stage(instance.approval_workflow_stage)
    if not ours:
        return
    problem = decision_problem(request, instance.user, instance.approval_workflow_stage, instance.state)
    if problem:
        logger.warning("Refused %s by %s on launch request %s: %s", instance.state, instance.user, request, problem)
        raise ApprovalRefused(problem)


def record_response(sender, instance, created=False, raw=False, **kwargs):
    """post_save on core's stage responses: audit approvals, denials and comments on our requests."""
    kinds = {
        CORE_STATE.APPROVED: ApprovalEventKindChoices.APPROVED,
        CORE_STATE.DENIED: ApprovalEventKindChoices.DENIED,
        CORE_STATE.COMMENT: ApprovalEventKindChoices.COMMENT,
    }
    if raw or instance.state not in kinds:
        return
    ours, request = _request_for_stage(instance.approval_workflow_stage)
    if not ours or request is None:
        return
    stage_name = getattr(instance.approval_workflow_stage.approval_workflow_stage_definition, "name", "?")
    text = f"Stage '{stage_name}'" + (f": {instance.comments}" if instance.comments else "")
    preview = request.preview_job_result or request.preview_run if instance.state == CORE_STATE.APPROVED else None
    request.record_event(kinds[instance.state], instance.user, text, preview=preview)


def decide(request, user, action, comments=""):
    """Approve, deny or comment on ``request`` as ``user`` through core's response model (the app's UI and API).

    Raises ApprovalRefused with the reason when the decision is not allowed.
    """
    approval_workflow = request.approval_workflow
    if approval_workflow is None or approval_workflow.current_state != CORE_STATE.PENDING:
        raise ApprovalRefused(f"This request is already {request.get_status_display().lower()}.")
    stage = approval_workflow.active_stage
    state = {"approve": CORE_STATE.APPROVED, "deny": CORE_STATE.DENIED, "comment": CORE_STATE.COMMENT}[action]
    if state != CORE_STATE.COMMENT:
        problem = decision_problem(request, user, stage, state)
        if problem:
            request.record_event(ApprovalEventKindChoices.REFUSED, user, f"{action.title()} refused: {problem}")
            raise ApprovalRefused(problem)
    elif not comments:
        raise ApprovalRefused("A comment needs some text.")
    with transaction.atomic():
        response, _ = ApprovalWorkflowStageResponse.objects.get_or_create(approval_workflow_stage=stage, user=user)
        response.comments = comments or response.comments
        if state != CORE_STATE.COMMENT or response.state == CORE_STATE.PENDING:
            response.state = state
        response.save()
    request.refresh_from_db()
    return request


def cancel_request(request, user, reason=""):
    """Withdraw a pending request (the requester, or anyone allowed to change it)."""
    if request.user_id != user.pk and not user.has_perm("nautobot_jobflow.change_launchrequest", request):
        raise ApprovalRefused("Only the requester (or a user who may change the request) may cancel it.")
    approval_workflow = request.approval_workflow
    if not request.is_pending or approval_workflow is None or not approval_workflow.is_active:
        raise ApprovalRefused(f"This request is already {request.get_status_display().lower()}.")
    approval_workflow.cancel(user, comments=reason or None)
    request.refresh_from_db()
    return request


def _locked(request_pk):
    """Lock the held run (if any) and then the request, always in that order."""
    run_id = LaunchRequest.objects.filter(pk=request_pk).values_list("workflow_run_id", flat=True).first()
    run = WorkflowRun.objects.select_for_update().filter(pk=run_id).first() if run_id else None
    request = LaunchRequest.objects.select_for_update().filter(pk=request_pk).first()
    return run, request


def on_request_decided(sender, request_pk, status, **kwargs):
    """``launch_request_decided`` receiver: core's approval workflow of a request reached a final state."""
    if status == REQUEST.LAUNCHED:
        request_approved(request_pk)
    else:
        request_ended(request_pk, status, DECIDED_TEXT.get(status, ""))


def request_approved(request_pk):
    """Core approved the request: start it, exactly once, or record why it could not start."""
    with transaction.atomic():
        run, request = _locked(request_pk)
        if request is None or request.status != REQUEST.PENDING:
            return
        if request.is_expired:
            _end(
                request, run, REQUEST.EXPIRED, f"Expired at {request.expires_at:%Y-%m-%d %H:%M:%S %Z} before approval."
            )
            return
        try:
            outcome = _start(request, run)
        except (LaunchRefused, LaunchForbidden) as problem:
            _end(request, run, REQUEST.FAILED, f"Approved, but could not start: {refusal_text(problem)}")
            return
        now = timezone.now()
        request.status = REQUEST.LAUNCHED
        request.decided = now
        request.job_result = outcome.job_result
        request.message = "Approved and launched."
        request.save()
        request.record_event(ApprovalEventKindChoices.LAUNCHED, None, _launched_text(outcome))
        if request.step_run_id:
            release_step(run, request.step_run, outcome.job_result, now)


def _start(request, run):
    """Start what an approved request holds, re-checking the requester's permissions (under the row lock)."""
    user = request.user
    if user is None or not user.is_active:
        raise LaunchForbidden(f"The requester '{request.user_name}' no longer exists or is inactive.")
    if request.job_id:
        return LaunchOutcome(job_result=start_approved_job(request, user))
    if request.step_run_id or run is None:
        raise LaunchRefused({"job": f"'{request.target_name}' no longer exists."})
    return start_approved_run(run, user)


def request_ended(request_pk, status, message):
    """Core denied or canceled the request (or it expired): it never runs."""
    with transaction.atomic():
        run, request = _locked(request_pk)
        if request is None or request.status != REQUEST.PENDING:
            return
        if status == REQUEST.DENIED:
            message = _denial_text(request) or message
        _end(request, run, status, message)


def _end(request, run, status, message):
    now = timezone.now()
    request.status = status
    request.decided = now
    request.message = message
    request.save()
    request.record_event(EVENT_FOR_STATUS[status], None, message)
    end_held(run, request.step_run if request.step_run_id else None, message, now)


def _denial_text(request):
    approval_workflow = request.approval_workflow
    if approval_workflow is None:
        return ""
    response = (
        ApprovalWorkflowStageResponse.objects.filter(
            approval_workflow_stage__approval_workflow=approval_workflow, state=CORE_STATE.DENIED
        )
        .select_related("user")
        .order_by("-last_updated")
        .first()
    )
    if response is None:
        return ""
    return f"Denied by {response.user}" + (f": {response.comments}" if response.comments else ".")


def _launched_text(outcome):
    if outcome.job_result is not None:
        return f"Started JobResult {outcome.job_result.pk}."
    return f"Started workflow run {outcome.run.pk}."


def expire_due(log=logger):
    """Expire every pending request past its expiry time (run by the reconciler every minute). Returns a count."""
    due = LaunchRequest.objects.filter(status=REQUEST.PENDING, expires_at__lte=timezone.now()).values_list(
        "pk", flat=True
    )
    expired = 0
    for pk in list(due):
        request = LaunchRequest.objects.get(pk=pk)
        request_ended(pk, REQUEST.EXPIRED, f"Expired at {request.expires_at:%Y-%m-%d %H:%M:%S %Z} without a decision.")
        request.refresh_from_db()
        if request.status == REQUEST.EXPIRED:
            request.close_core_workflow()
            log.info("Expired launch request %s (%s).", request.pk, request)
            expired += 1
    return expired
