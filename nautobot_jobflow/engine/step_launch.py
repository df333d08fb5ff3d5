"""Starting one step's Job from advance(): the checks and lookups, made once per advance for all its steps.

A fan-out of 100 steps of one Job looks the Job up, checks the user may run it and validates equal inputs once, not
100 times; enabled approval policies are loaded once (and not at all when the run's lock query saw none).
"""

import copy
import json

from nautobot.extras.models import Job, JobQueue

from nautobot_jobflow.choices import LaunchOriginChoices
from nautobot_jobflow.launching.job_kwargs import prepare_job_kwargs
from nautobot_jobflow.launching.jobs import launch_job_kwargs
from nautobot_jobflow.launching.permissions import check_job_runnable
from nautobot_jobflow.models import ApprovalPolicy


class StepSkipped(Exception):
    """The step cannot run in this run and is skipped, not failed (a Job without dry-run support in a dry run)."""


class StepLauncher:
    """Per-advance caches around ``launching.jobs.launch_job_kwargs`` for the steps of one run."""

    def __init__(self, run):
        self.run = run
        self._jobs = {}
        self._queues = {}
        self._runnable_checked = set()
        self._job_kwargs = {}
        self._policies = None

    def job_kwargs(self, job_id, rendered):
        """The Job and its validated kwargs for a step's rendered inputs (LaunchRefused/LaunchForbidden say why not).

        Raises ``Job.DoesNotExist`` when the Job is gone, ``StepSkipped`` in a dry run of a Job that cannot dry-run.
        """
        job = self.job(job_id)
        if self.run.dryrun:
            if not job.supports_dryrun:
                raise StepSkipped(f"Skipped in this dry run: Job '{job}' does not support dry run.")
            rendered = {**rendered, "dryrun": True}
        if job.pk not in self._runnable_checked:
            check_job_runnable(job, self.run.user)
            self._runnable_checked.add(job.pk)
        cache_key = (job.pk, json.dumps(rendered, sort_keys=True, default=str))
        if cache_key not in self._job_kwargs:
            self._job_kwargs[cache_key] = prepare_job_kwargs(job, rendered)
        return job, copy.deepcopy(self._job_kwargs[cache_key])

    def start(self, job, job_kwargs, job_queue_id, step_run):
        """Gate and enqueue the step's Job; returns the launch outcome (``approval_required``: a policy holds it)."""
        return launch_job_kwargs(
            job,
            job_kwargs,
            self.run.user,
            LaunchOriginChoices.WORKFLOW,
            self.run.dryrun,
            job_queue=self.queue(job_queue_id),
            step_run=step_run,
            policies=self.policies(),
        )

    def policies(self):
        """Enabled approval policies, loaded once per advance; no query when the run's lock query found none."""
        if self._policies is None:
            self._policies = (
                ApprovalPolicy.objects.enabled_for_matching() if getattr(self.run, "has_enabled_policies", True) else []
            )
        return self._policies

    def job(self, pk):
        """The Job (with its default queue, which enqueue_job would otherwise load per launch)."""
        if pk not in self._jobs:
            self._jobs[pk] = Job.objects.select_related("default_job_queue").get(pk=pk)
        return self._jobs[pk]

    def queue(self, pk):
        """The step's JobQueue, or None for the Job's default."""
        if not pk:
            return None
        if pk not in self._queues:
            self._queues[pk] = JobQueue.objects.filter(pk=pk).first()
        return self._queues[pk]
