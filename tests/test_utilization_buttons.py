"""Job buttons "Interface utilization" on Device and Location pages: seeded, rendered, permission-checked, run."""

import html
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from nautobot.apps.testing import TestCase, TransactionTestCase, run_job_for_testing
from nautobot.dcim.models import Device, Location
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import Job, JobButton, JobResult

from nautobot_jobflow.seeding import JOB_BUTTONS, UTILIZATION_RECEIVER
from tests import fixtures_dcim as dcim
from tests.fixtures import refresh_jobs, wait_for, wait_for_job_result

VIEW_PERMISSIONS = ("dcim.view_device", "dcim.view_location")


def receiver_job():
    return Job.objects.get(module_name=UTILIZATION_RECEIVER[0], job_class_name=UTILIZATION_RECEIVER[1])


def button_for(model):
    return JobButton.objects.get(content_types=ContentType.objects.get_for_model(model))


def build_site():
    """Site A: 2 leaf devices (Active 3, Planned 1 each) and 1 spine (Active 1, Failed 1, Planned 2);
    the city above it: 1 leaf (Active 4)."""
    tree = dcim.create_location_tree()
    leaf, spine = dcim.role("leaf"), dcim.role("spine")
    leaves = dcim.create_devices(2, tree["site_a"], leaf, prefix="leaf")
    dcim.add_interfaces(leaves, {"Active": 3, "Planned": 1})
    spines = dcim.create_devices(1, tree["site_a"], spine, prefix="spine")
    dcim.add_interfaces(spines, {"Active": 1, "Failed": 1, "Planned": 2})
    dcim.add_interfaces(dcim.create_devices(1, tree["city"], leaf, prefix="city-leaf"), {"Active": 4})
    return tree, leaves[0], spines[0]


def button_html(response, button):
    """The rendered <button> that opens the confirmation of ``button`` (None when absent)."""
    content = response.content.decode()
    match = re.search(
        rf"<button[^>]*data-bs-target=\"#confirm_modal_id_{button.pk}\"[^>]*>\s*([^<]*?)\s*</button>", content
    )
    return match


def button_form(response, button):
    """(action URL, hidden inputs) of the form the job button submits."""
    content = response.content.decode()
    form = re.search(rf'<form id="form_id_{button.pk}" action="([^"]+)" method="post".*?</form>', content, re.S)
    assert form, f"no form for job button {button.name}"
    inputs = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(0)))
    return html.unescape(form.group(1)), {key: html.unescape(value) for key, value in inputs.items()}


class ButtonsSeededTest(TestCase):
    """The test database was migrated, so the nautobot_database_ready seeding has run."""

    def test_buttons_exist_after_migrate(self):
        job = receiver_job()
        self.assertTrue(job.enabled)
        self.assertTrue(job.is_job_button_receiver)
        self.assertTrue(Job.objects.get(job_class_name="InterfaceUtilizationReport").enabled)
        for name, (model_label, text, _) in JOB_BUTTONS.items():
            button = JobButton.objects.get(name=name)
            self.assertEqual(button.job, job)
            self.assertTrue(button.enabled)
            self.assertEqual(button.text, text)
            self.assertEqual([ct.model_class()._meta.label_lower for ct in button.content_types.all()], [model_label])

    def test_seeding_is_idempotent_and_keeps_edits(self):
        from nautobot_jobflow.seeding import seed_after_migrate

        button = button_for(Device)
        button.text = "Ports"
        button.save()
        seed_after_migrate(sender=None)
        self.assertEqual(JobButton.objects.filter(name__in=JOB_BUTTONS).count(), 2)
        button.refresh_from_db()
        self.assertEqual(button.text, "Ports")


class ButtonsRenderTest(TestCase):
    """The buttons on Device and Location detail pages, enabled only with permission to run the Job."""

    def setUp(self):
        super().setUp()
        self.tree, self.leaf_device, _ = build_site()
        self.add_permissions(*VIEW_PERMISSIONS)

    def test_rendered_enabled_with_run_permission(self):
        self.add_permissions("extras.run_job", "extras.view_job")
        run_url = reverse("extras:job_run", kwargs={"pk": receiver_job().pk})
        for obj, model in ((self.leaf_device, Device), (self.tree["site_a"], Location)):
            response = self.client.get(obj.get_absolute_url())
            self.assertEqual(response.status_code, 200)
            button = button_html(response, button_for(model))
            self.assertIsNotNone(button, f"no job button on {obj}")
            self.assertEqual(button.group(1), "Interface utilization")
            self.assertNotIn("disabled", button.group(0))
            action, inputs = button_form(response, button_for(model))
            self.assertEqual(action, run_url)
            self.assertEqual(inputs["object_pk"], str(obj.pk))
            self.assertEqual(inputs["object_model_name"], model._meta.label_lower)

    def test_disabled_without_run_permission(self):
        for obj, model in ((self.leaf_device, Device), (self.tree["site_a"], Location)):
            response = self.client.get(obj.get_absolute_url())
            button = button_html(response, button_for(model))
            self.assertIsNotNone(button)
            self.assertIn("disabled", button.group(0))

    def test_run_endpoint_refuses_user_without_run_permission(self):
        response = self.client.get(self.leaf_device.get_absolute_url())
        action, inputs = button_form(response, button_for(Device))
        response = self.client.post(action, inputs)
        self.assertEqual(response.status_code, 403)
        self.assertFalse(JobResult.objects.filter(job_model=receiver_job()).exists())

    def test_run_permission_for_another_job_only_is_not_found(self):
        """Run permission constrained to another Job: core restricts the queryset, so the receiver is a 404."""
        other = Job.objects.exclude(pk=receiver_job().pk).first()
        self.add_permissions("extras.run_job", constraints={"pk": str(other.pk)})
        response = self.client.get(self.leaf_device.get_absolute_url())
        self.assertIn("disabled", button_html(response, button_for(Device)).group(0))
        action, inputs = button_form(response, button_for(Device))
        self.assertEqual(self.client.post(action, inputs).status_code, 404)
        self.assertFalse(JobResult.objects.filter(job_model=receiver_job()).exists())


class ButtonReceiverInProcessTest(TransactionTestCase):
    """The receiver runs the same report code for a Device (its location, its role) and a Location (all roles)."""

    def setUp(self):
        super().setUp()
        refresh_jobs()

    def run_button(self, obj):
        job_result = run_job_for_testing(
            receiver_job(), job_kwargs={"object_pk": str(obj.pk), "object_model_name": obj._meta.label_lower}
        )
        job_result.refresh_from_db()
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        return job_result

    def test_device_button_reports_its_location_and_role(self):
        tree, leaf_device, spine_device = build_site()
        # Leaf at site A: 2 devices x (Active 3, Planned 1) = 8 interfaces, 6 used (75%).
        result = self.run_button(leaf_device).result
        self.assertEqual(result["location"], tree["site_a"].name)
        self.assertEqual(result["roles_filter"], ["leaf"])
        self.assertEqual(
            (result["totals"]["total"], result["totals"]["used"], result["totals"]["used_percent"]), (8, 6, 75)
        )
        # Spine at site A: Active 1, Failed 1, Planned 2 = 4, 2 used (50%).
        result = self.run_button(spine_device).result
        self.assertEqual((result["totals"]["total"], result["totals"]["used"]), (4, 2))

    def test_location_button_reports_all_roles_and_sub_locations(self):
        tree, _, _ = build_site()
        # The city: its own leaf (Active 4) + site A (8 + 4) = 16, used 4 + 6 + 2 = 12 (75%).
        job_result = self.run_button(tree["city"])
        self.assertEqual(job_result.result["roles_filter"], [])
        self.assertEqual(job_result.result["totals"]["total"], 16)
        self.assertEqual(job_result.result["totals"]["used"], 12)
        self.assertEqual(job_result.files.count(), 1)


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class ButtonThroughWorkerTest(TransactionTestCase):
    """Press the button as the UI does (POST its form to the run endpoint) and let the real worker run it."""

    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.add_permissions(*VIEW_PERMISSIONS, "extras.run_job", "extras.view_job", "extras.view_jobresult")

    def test_device_button_runs_on_the_worker(self):
        tree, leaf_device, _ = build_site()
        response = self.client.get(leaf_device.get_absolute_url())
        action, inputs = button_form(response, button_for(Device))
        response = self.client.post(action, inputs)
        self.assertEqual(response.status_code, 302)
        self.assertEqual(response["Location"], leaf_device.get_absolute_url())
        job_result = wait_for(
            lambda: JobResult.objects.filter(job_model=receiver_job()).first(), message="a JobResult for the button"
        )
        self.assertEqual(job_result.user, self.user)
        wait_for_job_result(job_result)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        self.assertTrue(job_result.worker, "the JobResult names no worker: it did not go through Celery")
        result = job_result.result
        self.assertEqual(result["location"], tree["site_a"].name)
        self.assertEqual(
            (result["totals"]["total"], result["totals"]["used"], result["roles_filter"]), (8, 6, ["leaf"])
        )
        self.assertTrue(
            job_result.job_log_entries.filter(
                message=f"Interface utilization at {tree['site_a'].name}: Total=8, Used=6 (75%), Unused=2 (25%)"
            ).exists()
        )
        self.assertEqual(job_result.files.count(), 1)
