"""The app is installed, wired into Nautobot, and Jobs run end to end through a real Celery worker."""

import pytest
from django.apps import apps
from django.urls import reverse
from nautobot.apps.testing import TestCase, TransactionTestCase
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import JobLogEntry, JobResult
from nautobot.extras.registry import registry

import nautobot_jobflow
from tests.fixtures import create_superuser, get_test_job, refresh_jobs, wait_for_job_result


class AppInstalledTest(TestCase):
    """The AppConfig, URLs and navigation are registered."""

    def test_app_is_installed_with_package_version(self):
        config = apps.get_app_config("nautobot_jobflow")
        self.assertEqual(config.base_url, "jobflow")
        self.assertEqual(config.version, nautobot_jobflow.__version__)
        self.assertRegex(config.version, r"^\d+\.\d+\.\d+")

    def test_urls_resolve(self):
        self.assertEqual(reverse("plugins:nautobot_jobflow:home"), "/plugins/jobflow/")
        self.assertEqual(reverse("plugins:nautobot_jobflow:docs"), "/plugins/jobflow/docs/")

    def test_navigation_tab_is_registered(self):
        tab = registry["nav_menu"]["tabs"].get("Jobflow")
        self.assertIsNotNone(tab, "the Jobflow navigation tab is missing")
        items = {item for group in tab["groups"].values() for item in group["items"]}
        self.assertIn(reverse("plugins:nautobot_jobflow:home"), items)

    def test_home_page_for_logged_in_user(self):
        self.client.force_login(create_superuser())
        response = self.client.get(reverse("plugins:nautobot_jobflow:home"))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Jobs of this app")

    def test_home_page_requires_login(self):
        self.client.logout()
        response = self.client.get(reverse("plugins:nautobot_jobflow:home"))
        self.assertEqual(response.status_code, 302)
        self.assertIn("/login/", response["Location"])


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class RealWorkerTest(TransactionTestCase):
    """A Job goes through Redis to a real `nautobot-server celery worker` and back."""

    def setUp(self):
        super().setUp()
        refresh_jobs()

    def test_job_runs_on_real_worker_and_stores_logs(self):
        job = get_test_job("Echo")
        user = create_superuser()
        job_result = JobResult.enqueue_job(job, user, job_kwargs={"message": "hello worker", "number": 7})
        wait_for_job_result(job_result)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        self.assertEqual(job_result.result, {"message": "hello worker", "number": 7, "length": 12})
        self.assertTrue(job_result.worker, "the JobResult names no worker: it did not go through Celery")
        self.assertTrue(
            JobLogEntry.objects.filter(job_result=job_result, message__contains="echo: message=hello worker").exists()
        )

    def test_failing_job_is_recorded_as_failure(self):
        job_result = JobResult.enqueue_job(get_test_job("Fail"), create_superuser(), job_kwargs={"reason": "boom"})
        wait_for_job_result(job_result)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_FAILURE)
        self.assertIn("boom", job_result.traceback or "")
