"""May this user run it? The one check for a Job, and for every Job a Workflow would start."""

from django.core.exceptions import ValidationError
from nautobot.extras.models import Job

from nautobot_jobflow.lib.errors import LaunchForbidden, LaunchRefused
from nautobot_jobflow.models.snapshots import job_ids, job_ids_by_workflow


def _job_problem(job, user, may_run):
    """Why ``user`` cannot run ``job`` (a LaunchForbidden or LaunchRefused to raise), or None.

    ``may_run``: whether the user has ``extras.run_job`` on the Job (asked one Job at a time or for many at once).
    """
    if user is None or not user.is_authenticated:
        return LaunchForbidden(f"An anonymous user cannot run Job '{job}'.")
    if not may_run:
        return LaunchForbidden(f"User '{user}' may not run Job '{job}'.")
    if not job.installed:
        return LaunchRefused({"job": f"Job '{job}' is not installed."})
    if not job.enabled:
        return LaunchRefused({"job": f"Job '{job}' is disabled."})
    return None


def check_job_runnable(job, user):
    """Raise unless ``job`` is enabled and installed and ``user`` has ``extras.run_job`` on it."""
    authenticated = user is not None and user.is_authenticated
    problem = _job_problem(job, user, authenticated and user.has_perm("extras.run_job", job))
    if problem is not None:
        raise problem


def jobs_of(target, definition=None):
    """The Jobs a launch of ``target`` would start: the Job itself, or every Job of a Workflow (nested included).

    ``definition``: the workflow snapshot to read instead of the workflow's current definition.
    """
    if isinstance(target, Job):
        return [target]
    ids = job_ids(definition) if definition else job_ids_by_workflow([target.pk])[str(target.pk)]
    return list(Job.objects.filter(pk__in=ids).order_by("name"))


def check_target_runnable(target, user, definition=None):
    """Raise LaunchForbidden / LaunchRefused unless ``user`` may run every Job a launch of ``target`` starts.

    Returns those Jobs (callers check more of them, e.g. dry-run support).
    """
    jobs = jobs_of(target, definition)
    for job in jobs:
        check_job_runnable(job, user)
    return jobs


def workflow_launch_problems(workflows, user):
    """{workflow pk: what ``check_target_runnable`` would raise for ``user`` (None: nothing)} for many workflows.

    The same verdict (the first problem, Jobs in name order) in a fixed number of queries: one per level of
    nesting, one for the Jobs and one for those the user may run, however many workflows there are.
    """
    ids_by_workflow = job_ids_by_workflow([workflow.pk for workflow in workflows])
    all_ids = set().union(*ids_by_workflow.values())
    jobs = list(Job.objects.filter(pk__in=all_ids).order_by("name")) if all_ids else []
    permitted = set()
    if all_ids and user is not None and user.is_authenticated and user.is_active:  # as has_perm: inactive may not
        runnable = Job.objects.restrict(user, "run").filter(pk__in=all_ids)
        permitted = {str(pk) for pk in runnable.values_list("pk", flat=True)}
    problems = {}
    for workflow in workflows:
        wanted = ids_by_workflow[str(workflow.pk)]
        problems[workflow.pk] = next(
            (
                problem
                for job in jobs
                if str(job.pk) in wanted and (problem := _job_problem(job, user, str(job.pk) in permitted))
            ),
            None,
        )
    return problems


def check_target_permission(rule, user):
    """A hook rule's target (``job`` or ``workflow``): ValidationError on that field unless ``user`` may run it.

    Saving a rule needs run permission on what it runs (every Job of a Workflow), so no one makes a rule that would
    run something they may not.
    """
    if rule.job_id:
        field, target = "job", rule.job
    elif rule.workflow_id:
        field, target = "workflow", rule.workflow
    else:
        return
    try:
        check_target_runnable(target, user)
    except LaunchForbidden as error:
        raise ValidationError({field: f"You may not save a rule that runs this target: {error}"}) from None
    except LaunchRefused as error:
        raise ValidationError({field: error.messages}) from None
