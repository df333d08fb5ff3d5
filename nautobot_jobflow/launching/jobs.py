"""Launching one Job: the may-run check, its kwargs, the approval gate, the enqueue. Also what approval releases."""

from dataclasses import dataclass

from nautobot.extras.models import JobResult

from nautobot_jobflow.launching.approval_hold import attach_preview, can_preview, hold_for_approval
from nautobot_jobflow.launching.enqueue import enqueue
from nautobot_jobflow.launching.job_kwargs import prepare_job_kwargs
from nautobot_jobflow.launching.permissions import check_job_runnable
from nautobot_jobflow.lib.errors import LaunchRefused
from nautobot_jobflow.models import ApprovalPolicy


@dataclass
class LaunchOutcome:
    """What a launch started: a WorkflowRun or a JobResult (or a pending approval, when a policy applies)."""

    run: object = None  # the WorkflowRun (a Workflow launch)
    job_result: JobResult = None
    approval_required: bool = False
    request: object = None  # the LaunchRequest when approval_required


def launch_job(job, inputs, user, origin, dryrun):
    """Check, validate, gate and start one Job for ``user``; returns a LaunchOutcome."""
    check_job_runnable(job, user)
    if dryrun:
        if not job.supports_dryrun:
            raise LaunchRefused({"dryrun": f"Job '{job}' does not support dry run."})
        inputs = {**inputs, "dryrun": True}
    job_kwargs = prepare_job_kwargs(job, inputs)
    return launch_job_kwargs(job, job_kwargs, user, origin, dryrun)


def launch_job_kwargs(job, job_kwargs, user, origin, dryrun, *, job_queue=None, step_run=None, policies=None):
    """Gate and start one Job whose kwargs are already validated (the engine's per-step path uses this directly).

    The caller has checked ``check_job_runnable``. ``policies`` lets the engine pass the enabled policies it
    loaded once for a whole advance.
    """
    policy = ApprovalPolicy.objects.find_for_launch(job, job_kwargs, origin, dryrun, policies)
    if policy is not None:
        return LaunchOutcome(
            approval_required=True,
            request=hold_job(policy, job, job_kwargs, user, origin, dryrun, step_run=step_run, job_queue=job_queue),
        )
    return LaunchOutcome(job_result=enqueue(job, user, job_kwargs, job_queue))


def hold_job(policy, job, job_kwargs, user, origin, dryrun, *, step_run=None, job_queue=None):
    """Hold a Job launch for approval and start its dry-run preview when it has one. Returns the LaunchRequest."""
    request = hold_for_approval(policy, job, job_kwargs, user, origin, dryrun, step_run=step_run, job_queue=job_queue)
    if can_preview(job, dryrun):
        attach_preview(request, enqueue(job, user, {**job_kwargs, "dryrun": True}, job_queue))
    return request


def hold_if_covered(job, inputs, user, origin):
    """For a Job about to run in-process (a job button's report): hold it when a policy covers it.

    Returns the pending LaunchRequest, or None when no policy covers the launch and the caller may go on.
    Approval later starts ``job`` with these inputs through ``start_approved_job``.
    """
    job_kwargs = prepare_job_kwargs(job, inputs)
    policy = ApprovalPolicy.objects.find_for_launch(job, job_kwargs, origin, False)
    if policy is None:
        return None
    check_job_runnable(job, user)
    return hold_job(policy, job, job_kwargs, user, origin, False)


def start_approved_job(request, user):
    """Start the Job an approved request holds (a Job launch or a gated step), re-checking ``user``. The JobResult."""
    check_job_runnable(request.job, user)
    return enqueue(request.job, user, request.inputs, request.job_queue)
