"""The second event source: a JobResult or a WorkflowRun reaching a final state.

The post_save receivers look at the process's compiled rules first (no query when no completion rule exists) and
fire after the transaction commits, in the process that saved the final state (the worker that ran the Job, or the
one that advanced the run). A rule fires at most once per run: the firing's dedupe key is unique per rule.
"""

import logging

from django.db import transaction
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import JobResult

from nautobot_jobflow.choices import (
    HookCompletionStatusChoices,
    HookEventSourceChoices,
    HookFiringStatusChoices,
    WorkflowRunStatusChoices,
)
from nautobot_jobflow.hooks.context import completion_context
from nautobot_jobflow.hooks.depth import blocked_by_loop_protection, depth_of_run, depths_of_job_results
from nautobot_jobflow.hooks.fire import fire, record
from nautobot_jobflow.hooks.registry import REGISTRY
from nautobot_jobflow.lib.conditions import evaluate, parse_conditions
from nautobot_jobflow.models import HookRule, WorkflowRun

logger = logging.getLogger(__name__)

JOB_STATUS = {
    JobResultStatusChoices.STATUS_SUCCESS: HookCompletionStatusChoices.SUCCEEDED,
    JobResultStatusChoices.STATUS_FAILURE: HookCompletionStatusChoices.FAILED,
    JobResultStatusChoices.STATUS_REVOKED: HookCompletionStatusChoices.CANCELED,
}
RUN_STATUS = {
    WorkflowRunStatusChoices.SUCCEEDED: HookCompletionStatusChoices.SUCCEEDED,
    WorkflowRunStatusChoices.FAILED: HookCompletionStatusChoices.FAILED,
    WorkflowRunStatusChoices.CANCELED: HookCompletionStatusChoices.CANCELED,
}


def job_completion(job_result):
    """The ``completion`` of a finished JobResult (conditions and templates read it)."""
    job = job_result.job_model
    return {
        "kind": "job",
        "id": str(job_result.pk),
        "job": job.name if job else job_result.name,
        "job_module": job.module_name if job else "",
        "job_class": job.job_class_name if job else "",
        "status": JOB_STATUS.get(job_result.status, job_result.status),
        "result": job_result.result,
        "user": job_result.user.username if job_result.user_id else "",
    }


def workflow_completion(run):
    """The ``completion`` of a finished WorkflowRun."""
    return {
        "kind": "workflow",
        "id": str(run.pk),
        "workflow": run.workflow_name,
        "status": RUN_STATUS.get(run.status, run.status),
        "error": run.error,
        "inputs": run.inputs,
        "user": run.user.username if run.user_id else "",
        "origin": run.origin,
        "dryrun": run.dryrun,
    }


def _candidates(source, watched_id, status):
    """Completion rules of ``source`` that watch this Job / Workflow and this final state."""
    jobs_source = source == HookEventSourceChoices.JOB_COMPLETION
    candidates = []
    for rule in REGISTRY.current().completion[source]:
        watched = rule.completion_job_ids if jobs_source else rule.completion_workflow_ids
        if (not rule.completion_statuses or status in rule.completion_statuses) and (
            not watched or str(watched_id) in watched
        ):
            candidates.append(rule)
    return candidates


def on_job_result_saved(sender, instance, **kwargs):
    """post_save of JobResult: final states only."""
    status = JOB_STATUS.get(instance.status)
    if status is None:
        return
    rules = _candidates(HookEventSourceChoices.JOB_COMPLETION, instance.job_model_id, status)
    if rules:
        pk = instance.pk
        transaction.on_commit(lambda: _safely(fire_job_completion, pk, [rule.pk for rule in rules]))


def on_workflow_run_saved(sender, instance, **kwargs):
    """post_save of WorkflowRun: final states only."""
    status = RUN_STATUS.get(instance.status)
    if status is None:
        return
    rules = _candidates(HookEventSourceChoices.WORKFLOW_COMPLETION, instance.workflow_id, status)
    if rules:
        pk = instance.pk
        transaction.on_commit(lambda: _safely(fire_workflow_completion, pk, [rule.pk for rule in rules]))


def _safely(function, *args):
    try:
        function(*args)
    except Exception:  # the run's own save must never fail because of a hook
        logger.exception("Hook rules: completion of %s could not be dispatched", args[0])


def fire_job_completion(job_result_id, rule_ids):
    """Evaluate and fire the completion rules of one finished JobResult."""
    job_result = JobResult.objects.select_related("job_model", "user").get(pk=job_result_id)
    depth = depths_of_job_results([job_result_id]).get(str(job_result_id), 0)
    fields = {"action": "completion", "source_job_result": job_result, "object_repr": str(job_result)[:200]}
    _fire_all(rule_ids, job_completion(job_result), job_result.user, depth, f"jobresult:{job_result_id}", fields)


def fire_workflow_completion(run_id, rule_ids):
    """Evaluate and fire the completion rules of one finished WorkflowRun."""
    run = WorkflowRun.objects.select_related("user").get(pk=run_id)
    fields = {"action": "completion", "source_workflow_run": run, "object_repr": str(run)[:200]}
    _fire_all(rule_ids, workflow_completion(run), run.user, depth_of_run(run_id), f"workflowrun:{run_id}", fields)


def _fire_all(rule_ids, completion, user, depth, dedupe_key, fields):
    view = {"action": "completion", "data": completion, "before": None, "after": None}
    for rule in HookRule.objects.filter(pk__in=rule_ids, enabled=True).select_related("job", "workflow"):
        if not evaluate(parse_conditions(rule.conditions), rule.match == "any", view)[0]:
            continue
        if blocked_by_loop_protection(depth, rule.allow_one_level):
            reason = f"Loop protection: the run was started by hook rules (depth {depth})."
            record(rule, HookFiringStatusChoices.SKIPPED, reason, depth=depth, user=user, dedupe_key=dedupe_key,
                   **fields)  # fmt: skip
            continue
        fire(rule, completion_context(rule, completion), user, depth=depth, dedupe_key=dedupe_key, **fields)
