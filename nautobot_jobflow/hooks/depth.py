"""Loop protection: how many hook firings stand behind a change or a run.

A change made inside a Job runs in that Job's Celery task, whose id is the JobResult's id. That JobResult was
started either by a hook firing (``HookFiring.job_result``) or as a step of a workflow run, whose root run may have
been started by a firing (``HookFiring.workflow_run``). Depth 0 is a person's change; a hook's run makes depth 1.
"""

from nautobot_jobflow.models import HookFiring, WorkflowRun, WorkflowStepRun

MAX_NESTING = 20  # nested workflow runs followed up to their root


def depths_of_job_results(job_result_ids):
    """{job_result_id (str): depth} for the given JobResult ids (0 when no firing stands behind them)."""
    ids = {str(pk) for pk in job_result_ids if pk}
    if not ids:
        return {}
    depths = dict.fromkeys(ids, 0)
    for job_result_id, depth in HookFiring.objects.filter(job_result_id__in=ids).values_list("job_result_id", "depth"):
        depths[str(job_result_id)] = depth + 1
    remaining = [pk for pk, depth in depths.items() if depth == 0]
    if remaining:
        step_runs = WorkflowStepRun.objects.filter(job_result_id__in=remaining).values_list("job_result_id", "run_id")
        for job_result_id, run_id in step_runs:
            depths[str(job_result_id)] = depth_of_run(run_id)
    return depths


def depth_of_run(run_id):
    """Depth of a workflow run: that of the firing that started its root run, plus one (0 without one)."""
    for _ in range(MAX_NESTING):
        firing_depth = HookFiring.objects.filter(workflow_run_id=run_id).values_list("depth", flat=True).first()
        if firing_depth is not None:
            return firing_depth + 1
        parent = WorkflowRun.objects.filter(pk=run_id).values_list("parent_step_run__run_id", flat=True).first()
        if parent is None:
            return 0
        run_id = parent
    return 0


def blocked_by_loop_protection(depth, allow_one_level):
    """A person's change always counts; a hook run's change counts only with "allow one level", and only once."""
    return depth > (1 if allow_one_level else 0)
