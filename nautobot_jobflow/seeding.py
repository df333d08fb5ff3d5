"""Data seeded after every ``nautobot-server migrate``: Jobs enabled, job buttons created, reconciler scheduled.

Everything here is idempotent (get_or_create, never overwrite what an administrator changed).
"""

import logging

logger = logging.getLogger(__name__)

RECONCILER_SCHEDULE_NAME = "Jobflow: reconcile workflow runs"
RECONCILER_CRONTAB = "* * * * *"
UTILIZATION_RECEIVER = ("nautobot_jobflow.jobs.utilization", "InterfaceUtilizationButton")
# name -> (model label, button text, weight); get_or_create by name, never overwritten once created.
JOB_BUTTONS = {
    "Interface utilization (device)": ("dcim.device", "Interface utilization", 200),
    "Interface utilization (location)": ("dcim.location", "Interface utilization", 200),
}


def enable_app_jobs():
    """Enable the app's own Jobs (Nautobot installs new Jobs disabled). Returns how many were enabled."""
    from nautobot.extras.models import Job

    return Job.objects.filter(module_name__startswith="nautobot_jobflow.", enabled=False).update(enabled=True)


def ensure_reconciler_schedule():
    """Schedule the "Reconcile Workflow Runs" Job every minute, owned by the first superuser.

    Nautobot's scheduler runs a scheduled Job as a user, so the schedule is created once a superuser exists (the
    next migrate, or `invoke start`, creates it otherwise). Returns the ScheduledJob or None.
    """
    from django.contrib.auth import get_user_model
    from nautobot.extras.choices import JobExecutionType
    from nautobot.extras.models import Job, ScheduledJob

    existing = ScheduledJob.objects.filter(name=RECONCILER_SCHEDULE_NAME).first()
    if existing is not None:
        return existing
    job = Job.objects.filter(
        module_name="nautobot_jobflow.jobs.workflows", job_class_name="ReconcileWorkflowRuns"
    ).first()
    owner = get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("date_joined").first()
    if job is None or owner is None:
        logger.info("nautobot-jobflow: reconciler not scheduled yet (needs its Job row and a superuser)")
        return None
    return ScheduledJob.create_schedule(
        job,
        owner,
        name=RECONCILER_SCHEDULE_NAME,
        interval=JobExecutionType.TYPE_CUSTOM,
        crontab=RECONCILER_CRONTAB,
        job_kwargs={"stale_after": 60},
    )


def app_job(module_name, class_name):
    """The Job row of one of the app's Job classes, creating the app's Job rows first if it is missing.

    Nautobot creates Job rows in its own ``nautobot_database_ready`` receiver (``refresh_job_models``); it normally
    runs before ours, and calling it again when the row is missing makes the order irrelevant.
    """
    from django.apps import apps as global_apps
    from nautobot.extras.models import Job
    from nautobot.extras.signals import refresh_job_models

    job = Job.objects.filter(module_name=module_name, job_class_name=class_name).first()
    if job is None:
        refresh_job_models(sender=None, apps=global_apps)
        job = Job.objects.get(module_name=module_name, job_class_name=class_name)
    if not job.enabled:
        job.enabled = True
        job.save()
    return job


def seed_job_buttons():
    """Create the app's job buttons unless they exist (by name). Returns the names created."""
    from django.apps import apps as global_apps
    from django.contrib.contenttypes.models import ContentType
    from nautobot.extras.choices import ButtonClassChoices
    from nautobot.extras.models import JobButton

    job = app_job(*UTILIZATION_RECEIVER)
    created_names = []
    for button_name, (model_label, text, weight) in JOB_BUTTONS.items():
        button, created = JobButton.objects.get_or_create(
            name=button_name,
            defaults={
                "job": job,
                "text": text,
                "enabled": True,
                "weight": weight,
                "button_class": ButtonClassChoices.CLASS_INFO,
                "confirmation": True,
            },
        )
        if created:
            button.content_types.set([ContentType.objects.get_for_model(global_apps.get_model(model_label))])
            created_names.append(button_name)
    return created_names


def seed_after_migrate(sender, **kwargs):
    """``nautobot_database_ready`` receiver: idempotent seeding (get_or_create only, never overwrite)."""
    created = seed_job_buttons()  # first: it makes sure the app's Job rows exist
    if created:
        logger.info("nautobot-jobflow: created job button(s) %s", ", ".join(created))
    enabled = enable_app_jobs()
    if enabled:
        logger.info("nautobot-jobflow: enabled %d job(s)", enabled)
    ensure_reconciler_schedule()
