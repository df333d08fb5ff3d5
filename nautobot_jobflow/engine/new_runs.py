"""New workflow runs: the checks, the approval gate, the WorkflowRun row (and an approval preview's).

``create_run`` writes the rows and returns the ids of the runs to advance; it does not advance them itself, so that
``advance()`` (engine.runner, which starts nested runs through ``create_child_run``) and this module do not import
each other. ``engine.control.start_workflow`` is create_run plus the advance after commit: what ``service.launch``
calls for every Workflow launch, and reruns too, so all of them pass the same checks and the same gate.
"""

from typing import NamedTuple

from django.core.exceptions import ValidationError

from nautobot_jobflow.choices import DryRunModeChoices, LaunchOriginChoices, WorkflowRunStatusChoices
from nautobot_jobflow.launching.approval_hold import attach_preview, can_preview, hold_for_approval
from nautobot_jobflow.launching.jobs import LaunchOutcome
from nautobot_jobflow.launching.permissions import check_target_runnable
from nautobot_jobflow.lib.errors import LaunchRefused
from nautobot_jobflow.lib.json_schema import merged_inputs, validate_against_schema
from nautobot_jobflow.models import ApprovalPolicy, Workflow, WorkflowRun
from nautobot_jobflow.models.snapshots import build_definition
from nautobot_jobflow.models.workflow_checks import refuse_sensitive_job


class NewRun(NamedTuple):
    """A created run: the launch outcome, and the runs the caller must advance once the transaction commits."""

    outcome: LaunchOutcome
    to_advance: list


def create_run(workflow, inputs, user, origin, dryrun, *, parent_step_run=None, rerun_of=None, definition=None):
    """Check and gate a run of ``workflow`` for ``user`` and write it; returns a NewRun.

    A run a policy holds is created in status "awaiting approval" and does not start until the request is approved;
    its preview (a dry-run copy) is the run to advance then.
    """
    if not workflow.enabled:
        raise LaunchRefused({"workflow": f"Workflow '{workflow}' is disabled."})
    inputs = merged_inputs(workflow, inputs)
    problem = validate_against_schema(workflow.input_schema, inputs)
    if problem:
        raise LaunchRefused({"inputs": problem})
    definition = definition or build_definition(workflow)
    if not definition["steps"]:
        raise LaunchRefused({"workflow": f"Workflow '{workflow}' has no steps."})
    jobs = check_target_runnable(workflow, user, definition)
    for job in jobs:
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
    policy = ApprovalPolicy.objects.find_for_launch(workflow, inputs, origin, dryrun)
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
    if policy is None:
        return NewRun(LaunchOutcome(run=run), [run.pk])
    request = hold_for_approval(policy, workflow, inputs, user, origin, dryrun, workflow_run=run)
    to_advance = []
    if can_preview(workflow, dryrun):
        preview = _preview_run(run, user)
        attach_preview(request, preview)
        to_advance.append(preview.pk)
    return NewRun(LaunchOutcome(run=run, approval_required=True, request=request), to_advance)


def _preview_run(held_run, user):
    """The dry run approvers see before deciding on ``held_run``: a copy of it, exempt from approval."""
    preview = WorkflowRun.objects.create(
        workflow=held_run.workflow,
        workflow_name=held_run.workflow_name,
        status=WorkflowRunStatusChoices.PENDING,
        inputs=held_run.inputs,
        dryrun=True,
        user=user,
        origin=held_run.origin,
        definition=held_run.definition,
        is_preview=True,
    )
    return preview


def create_child_run(spec, rendered_inputs, parent_run, step_run):
    """A workflow step that runs another workflow: launched as the parent run's user, origin 'workflow'."""
    child = Workflow.objects.filter(pk=spec["subworkflow"]).first()
    if child is None:
        raise LaunchRefused({"subworkflow": f"Workflow '{spec['subworkflow_name']}' no longer exists."})
    return create_run(
        child,
        rendered_inputs,
        parent_run.user,
        LaunchOriginChoices.WORKFLOW,
        parent_run.dryrun,
        parent_step_run=step_run,
    )
