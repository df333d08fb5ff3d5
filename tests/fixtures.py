"""Helpers that create test data and wait for real asynchronous work."""

import time

from django.apps import apps as global_apps
from django.contrib.auth import get_user_model
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import Job, JobResult

User = get_user_model()

TEST_JOBS_MODULE = "jobflow_test_jobs"


def refresh_jobs():
    """(Re)create Job rows from the Job classes and enable the ones tests use.

    Transactional tests truncate every table after each test, Job rows included; this puts them back.
    """
    from nautobot.extras.signals import refresh_job_models

    from nautobot_jobflow import seeding

    refresh_job_models(sender=None, apps=global_apps)
    seeding.seed_after_migrate(sender=None)
    Job.objects.filter(module_name=TEST_JOBS_MODULE).update(enabled=True)


def get_test_job(class_name):
    """The enabled Job row of one of the test Jobs in tests/jobs_root."""
    job = Job.objects.filter(module_name=TEST_JOBS_MODULE, job_class_name=class_name).first()
    if job is None:
        refresh_jobs()
        job = Job.objects.get(module_name=TEST_JOBS_MODULE, job_class_name=class_name)
    if not job.enabled:
        job.enabled = True
        job.save()
    return job


def create_superuser(username="admin"):
    """A superuser (idempotent)."""
    user, _ = User.objects.get_or_create(username=username, defaults={"is_superuser": True, "is_staff": True})
    return user


def wait_for_job_result(job_result, timeout=60):
    """Poll a JobResult until it reaches a final state; fail with its state if it does not in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job_result.refresh_from_db()
        if job_result.status in JobResultStatusChoices.READY_STATES:
            return job_result
        time.sleep(0.2)
    raise AssertionError(f"JobResult {job_result.pk} still {job_result.status} after {timeout}s")


def wait_for(predicate, timeout=60, interval=0.2, message="condition"):
    """Poll ``predicate`` until it returns a truthy value, which is returned."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{message} not reached within {timeout}s")


def job_results_for(job):
    """JobResults of one Job, newest first."""
    return JobResult.objects.filter(job_model=job).order_by("-date_created")
