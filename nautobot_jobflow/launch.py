"""The one way into a run: every entry point (UI, REST, job button, schedule, hook rule, workflow step) calls launch().

launch() checks that the user may run every Job it would start, validates the inputs, consults the approval
policies, and starts: a Job through ``JobResult.enqueue_job``, a Workflow as a WorkflowRun that
``engine.runner.advance`` moves forward. When a policy covers the launch, nothing starts: a LaunchRequest waits for
approval, and ``start_approved`` (called once, under a row lock, when core's approval workflow is approved) starts
it. This module is the only place in the app that enqueues a Job.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from nautobot.extras.jobs import BaseJob
from nautobot.extras.models import Job, JobResult

from nautobot_jobflow.approvals.core_guard import jobflow_launch
from nautobot_jobflow.choices import DryRunModeChoices, LaunchOriginChoices, WorkflowRunStatusChoices
from nautobot_jobflow.engine.inputs import merged_inputs, validate_against_schema
from nautobot_jobflow.engine.snapshot import build_definition, job_ids
from nautobot_jobflow.engine.validation import refuse_sensitive_job
from nautobot_jobflow.models import Workflow, WorkflowRun


class LaunchRefused(ValidationError):
    """The launch cannot happen as asked (bad inputs, disabled target); the message names the field."""


class LaunchForbidden(PermissionDenied):
    """The user may not run a Job the launch would start; the message names the Job."""


def refusal_text(problem):
    """One line for a LaunchRefused/LaunchForbidden (or any ValidationError): ``field: message`` per field."""
    if hasattr(problem, "error_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in problem.message_dict.items())
    return " ".join(getattr(problem, "messages", None) or [str(problem)])


@dataclass
class LaunchOutcome:
    """What a launch started: a WorkflowRun or a JobResult (or a pending approval, when a policy applies)."""

    run: WorkflowRun = None
    job_result: JobResult = None
    approval_required: bool = False
    request: object = None  # the LaunchRequest when approval_required


def check_job_runnable(job, user):
    """Raise unless ``job`` is enabled and installed and ``user`` has ``extras.run_job`` on it."""
    if user is None or not user.is_authenticated:
        raise LaunchForbidden(f"An anonymous user cannot run Job '{job}'.")
    if not user.has_perm("extras.run_job", job):
        raise LaunchForbidden(f"User '{user}' may not run Job '{job}'.")
    if not job.installed:
        raise LaunchRefused({"job": f"Job '{job}' is not installed."})
    if not job.enabled:
        raise LaunchRefused({"job": f"Job '{job}' is disabled."})


def prepare_job_kwargs(job, data, field_prefix=""):
    """Validate ``data`` with the Job's own form and return job_kwargs as Nautobot's REST run does."""
    job_class = job.job_class
    if job_class is None:
        raise LaunchRefused({"job": f"{field_prefix}Job '{job}' cannot be loaded."})
    if not isinstance(data, dict):
        raise LaunchRefused({"inputs": f"{field_prefix}inputs must be a JSON object."})
    try:
        cleaned = validate_job_data(job_class, data)
        cleaned = job_class.prepare_job_kwargs(cleaned)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            raise LaunchRefused(
                {
                    field: [f"{field_prefix}{message}" for message in messages]
                    for field, messages in error.message_dict.items()
                }
            ) from None
        raise LaunchRefused({"inputs": [f"{field_prefix}{message}" for message in error.messages]}) from None
    except Exception as error:
        raise LaunchRefused({"inputs": f"{field_prefix}{type(error).__name__}: {error}"}) from None
    return job_class.serialize_data(cleaned)


def validate_job_data(job_class, data):
    """``job_class.validate_data(data)``: the Job's own form decides, with the same errors.

    Nautobot's ``as_form`` also looks the Job up in the database, only to set the dry-run checkbox's display
    default, which a bound form ignores; a Job that keeps Nautobot's ``validate_data`` and ``as_form`` is validated
    by its form class directly, without that query (a step launch in a workflow pays it on every step). A Job that
    overrides either is validated through its own override.
    """
    if job_class.validate_data.__func__ is not BaseJob.validate_data.__func__ or (
        job_class.as_form.__func__ is not BaseJob.as_form.__func__
    ):
        return job_class.validate_data(data)
    known = job_class._get_vars()
    for name in data:
        if name not in known:
            raise ValidationError({name: "Job data contained an unknown property"})
    form = job_class.as_form_class()(data=job_class.deserialize_data(data))
    if not form.is_valid():
        raise ValidationError(form.errors)
    return form.cleaned_data


def launch(target, inputs, user, origin, dryrun=False, *, parent_step_run=None, rerun_of=None, definition=None):
    """Start a Job or a Workflow for ``user`` (or hold it for approval); returns a LaunchOutcome.

    The only way the app starts anything. Raises LaunchForbidden when the user may not run a Job it would start,
    LaunchRefused (a ValidationError naming the field) for bad inputs or a disabled target.
    """
    if origin not in LaunchOriginChoices.values():
        raise ValueError(f"Unknown launch origin {origin!r}")
    inputs = {} if inputs is None else inputs
    if not isinstance(inputs, dict):
        raise LaunchRefused({"inputs": "Inputs must be a JSON object."})
    if isinstance(target, Job):
        return _launch_job(target, inputs, user, origin, dryrun)
    if isinstance(target, Workflow):
        return _launch_workflow(target, inputs, user, origin, dryrun, parent_step_run, rerun_of, definition)
    raise TypeError(f"launch() takes a Job or a Workflow, not {type(target).__name__}")


def _launch_job(job, inputs, user, origin, dryrun):
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
    from nautobot_jobflow.approvals.gate import hold_for_approval
    from nautobot_jobflow.approvals.matching import find_policy

    policy = find_policy(job, job_kwargs, origin, dryrun, policies)
    if policy is not None:
        request = hold_for_approval(
            policy, job, job_kwargs, user, origin, dryrun, step_run=step_run, job_queue=job_queue
        )
        return LaunchOutcome(approval_required=True, request=request)
    return LaunchOutcome(job_result=_enqueue(job, user, job_kwargs, job_queue))


def hold_if_covered(job, inputs, user, origin):
    """For a Job about to run in-process (a job button's report): hold it when a policy covers it.

    Returns the pending LaunchRequest, or None when no policy covers the launch and the caller may go on.
    Approval later starts ``job`` with these inputs through ``start_approved``.
    """
    from nautobot_jobflow.approvals.gate import hold_for_approval
    from nautobot_jobflow.approvals.matching import find_policy

    job_kwargs = prepare_job_kwargs(job, inputs)
    policy = find_policy(job, job_kwargs, origin, False)
    if policy is None:
        return None
    check_job_runnable(job, user)
    return hold_for_approval(policy, job, job_kwargs, user, origin, False)


def resend_job_result(job_result, job_kwargs, job_queue):
    """Send a PENDING JobResult whose task was lost again (the reconciler); not a new launch, so no gate."""
    with jobflow_launch():
        return JobResult.enqueue_job(
            job_result.job_model, job_result.user, job_kwargs=job_kwargs, job_queue=job_queue, job_result=job_result
        )


def _enqueue(job, user, job_kwargs, job_queue=None):
    """The app's one call of ``JobResult.enqueue_job`` for a new JobResult (already gated by launch()).

    Without a queue, the Job's default queue, as enqueue_job would pick; passed in, so that a caller that loaded it
    with the Job (the engine, once per advance) spares enqueue_job a query per launch.
    """
    with jobflow_launch():
        return JobResult.enqueue_job(job, user, job_kwargs=job_kwargs, job_queue=job_queue or job.default_job_queue)


def _launch_workflow(workflow, inputs, user, origin, dryrun, parent_step_run, rerun_of, definition):
    from nautobot_jobflow.engine.runner import advance

    if not workflow.enabled:
        raise LaunchRefused({"workflow": f"Workflow '{workflow}' is disabled."})
    inputs = merged_inputs(workflow, inputs)
    problem = validate_against_schema(workflow.input_schema, inputs)
    if problem:
        raise LaunchRefused({"inputs": problem})
    definition = definition or build_definition(workflow)
    if not definition["steps"]:
        raise LaunchRefused({"workflow": f"Workflow '{workflow}' has no steps."})
    jobs = list(Job.objects.filter(pk__in=job_ids(definition)).order_by("name"))
    for job in jobs:
        check_job_runnable(job, user)
        try:  # a Job flagged sensitive after the workflow was saved
            refuse_sensitive_job(job, "workflow", where=f"Workflow '{workflow}'")
        except ValidationError as error:
            raise LaunchRefused(error.message_dict) from None
    if dryrun and workflow.dryrun_mode == DryRunModeChoices.REFUSE:
        unsupported = [str(job) for job in jobs if not job.supports_dryrun]
        if unsupported:
            names = ", ".join(unsupported)
            raise LaunchRefused(
                {"dryrun": f"Workflow '{workflow}' refuses dry runs with steps that cannot dry-run: {names}."}
            )
    from nautobot_jobflow.approvals.gate import hold_for_approval
    from nautobot_jobflow.approvals.matching import find_policy

    policy = find_policy(workflow, inputs, origin, dryrun)
    run = WorkflowRun.objects.create(
        workflow=workflow,
        workflow_name=workflow.name,
        status=WorkflowRunStatusChoices.AWAITING_APPROVAL if policy else WorkflowRunStatusChoices.PENDING,
        inputs=inputs,
        dryrun=dryrun,
        user=user,
        origin=origin,
        parent_step_run=parent_step_run,
        rerun_of=rerun_of,
        definition=definition,
    )
    if policy is not None:
        request = hold_for_approval(policy, workflow, inputs, user, origin, dryrun, workflow_run=run)
        return LaunchOutcome(run=run, approval_required=True, request=request)
    transaction.on_commit(lambda: advance(run.pk))
    return LaunchOutcome(run=run)


def start_preview(request):
    """Start the dry run an approver sees before deciding; exempt from approval. Returns the JobResult or run."""
    if request.job_id:
        job_kwargs = {**request.inputs, "dryrun": True}
        return _enqueue(request.job, request.user, job_kwargs, request.job_queue)
    from nautobot_jobflow.engine.runner import advance

    run = request.workflow_run
    preview = WorkflowRun.objects.create(
        workflow=run.workflow,
        workflow_name=run.workflow_name,
        status=WorkflowRunStatusChoices.PENDING,
        inputs=run.inputs,
        dryrun=True,
        user=request.user,
        origin=run.origin,
        definition=run.definition,
        is_preview=True,
    )
    transaction.on_commit(lambda: advance(preview.pk))
    return preview


def start_approved(request):
    """Start what an approved request holds, re-checking the requester's permissions. Called under its row lock.

    Returns a LaunchOutcome (a JobResult for a Job or a gated step; the held WorkflowRun for a Workflow).
    """
    from nautobot_jobflow.engine.runner import advance

    user = request.user
    if user is None or not user.is_active:
        raise LaunchForbidden(f"The requester '{request.user_name}' no longer exists or is inactive.")
    if request.job_id:
        check_job_runnable(request.job, user)
        return LaunchOutcome(job_result=_enqueue(request.job, user, request.inputs, request.job_queue))
    if request.step_run_id or request.workflow_run_id is None:
        raise LaunchRefused({"job": f"'{request.target_name}' no longer exists."})
    run = request.workflow_run
    for job in Job.objects.filter(pk__in=job_ids(run.definition)):
        check_job_runnable(job, user)
    run.status = WorkflowRunStatusChoices.PENDING
    run.save(update_fields=["status"])
    transaction.on_commit(lambda: advance(run.pk))
    return LaunchOutcome(run=run)


def start_child_run(spec, rendered_inputs, parent_run, step_run):
    """A workflow step that runs another workflow: launched as the parent run's user, origin 'workflow'."""
    child = Workflow.objects.filter(pk=spec["subworkflow"]).first()
    if child is None:
        raise LaunchRefused({"subworkflow": f"Workflow '{spec['subworkflow_name']}' no longer exists."})
    launch(
        child,
        rendered_inputs,
        parent_run.user,
        LaunchOriginChoices.WORKFLOW,
        dryrun=parent_run.dryrun,
        parent_step_run=step_run,
    )
