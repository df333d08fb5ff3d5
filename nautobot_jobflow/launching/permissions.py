"""May this user run it? The one check for a Job, and for every Job a Workflow would start."""

from django.core.exceptions import ValidationError
from nautobot.extras.models import Job

from nautobot_jobflow.lib.errors import LaunchForbidden, LaunchRefused
from nautobot_jobflow.models.snapshots import build_definition, job_ids


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


def jobs_of(target, definition=None):
    """The Jobs a launch of ``target`` would start: the Job itself, or every Job of a Workflow (nested included).

    ``definition``: the workflow snapshot to read instead of the workflow's current definition.
    """
    if isinstance(target, Job):
        return [target]
    definition = definition or build_definition(target)
    return list(Job.objects.filter(pk__in=job_ids(definition)).order_by("name"))


def check_target_runnable(target, user, definition=None):
    """Raise LaunchForbidden / LaunchRefused unless ``user`` may run every Job a launch of ``target`` starts.

    Returns those Jobs (callers check more of them, e.g. dry-run support).
    """
    jobs = jobs_of(target, definition)
    for job in jobs:
        check_job_runnable(job, user)
    return jobs


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
