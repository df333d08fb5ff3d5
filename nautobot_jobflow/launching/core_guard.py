"""Guard on core's own ways of starting a Job: a Job covered by an approval policy cannot be started around it.

Nautobot can start any Job without Jobflow: its Job run page and REST endpoint, job buttons, and the scheduler.
Every one of them creates a JobResult first. A ``pre_save`` receiver on JobResult refuses (``PermissionDenied``,
before anything is written) the creation of a JobResult that Jobflow's ``launch`` did not make, for a Job that an
enabled policy covers for that origin; the message says how to request it through Jobflow instead.

Limits, by design: policies filtering on objects in the inputs cannot be checked here (core creates the JobResult
before it records the inputs), so only policies without an object filter apply; dry runs cannot be told apart, so
they are held too; core's job hooks (JobHookReceiver Jobs) are not refused, since refusing would fail the user's
object change. Jobflow's own system Jobs are exempt: what they start goes through ``launch()``.
"""

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from nautobot.extras.signals import change_context_state

from nautobot_jobflow.launching.enqueue import inside_jobflow_launch
from nautobot_jobflow.models import ApprovalPolicy
from nautobot_jobflow.models.approval_matching import policy_matches

APP_JOBS_MODULE = "nautobot_jobflow.jobs"


class ApprovalRequired(PermissionDenied):
    """A Job covered by an approval policy was started outside Jobflow."""


def core_origin(job_result):
    """Which origin core's path corresponds to: schedule, button, api or ui."""
    if job_result.scheduled_job_id:
        return "schedule"
    change_context = change_context_state.get()
    request = getattr(change_context, "request", None)
    path = getattr(request, "path", "") or ""
    if "job-button" in path:
        return "button"
    if path.startswith("/api/") or request is None:
        return "api"
    return "ui"


def guard_core_job_result(sender, instance, raw=False, **kwargs):
    """pre_save on JobResult: refuse a JobResult core creates for a Job a policy covers."""
    if raw or not instance._state.adding or inside_jobflow_launch():
        return
    job = instance.job_model
    if job is None or job.module_name.startswith(APP_JOBS_MODULE) or job.is_job_hook_receiver:
        return
    origin = core_origin(instance)
    for policy in ApprovalPolicy.objects.enabled_for_matching():
        if policy.object_content_type_id is None and policy_matches(policy, job, {}, origin, False):
            url = reverse("plugins:nautobot_jobflow:launchrequest_request_run") + f"?job={job.pk}"
            raise ApprovalRequired(
                f"Job '{job}' needs approval under policy '{policy}'. Request the run through Jobflow: {url}"
            )
