"""Temporary smoke test (removed once the real tests exist)."""

import pytest
from nautobot.apps.testing import TransactionTestCase

from nautobot_jobflow.choices import HookFiringStatusChoices
from tests.fixtures import create_superuser, refresh_jobs, wait_for_job_result
from tests.fixtures_hooks import create_rule, create_test_devices, update_device, wait_for_firings


@pytest.mark.worker
@pytest.mark.usefixtures("celery_worker")
class SmokeTest(TransactionTestCase):
    def setUp(self):
        super().setUp()
        refresh_jobs()
        self.admin = create_superuser()

    def test_update_fires(self):
        (device,) = create_test_devices(1)
        rule = create_rule(
            "Echo",
            conditions=[{"path": "serial", "op": "changed"}],
            input_template={"message": "{{ object.name }} {{ change.before.serial }}->{{ object.serial }}"},
        )
        update_device(device, self.admin, serial="A1")
        (firing,) = wait_for_firings(rule, 1)
        self.assertEqual(firing.status, HookFiringStatusChoices.FIRED, firing.reason)
        job_result = wait_for_job_result(firing.job_result)
        self.assertEqual(job_result.result["message"], f"{device.name} ->A1")
