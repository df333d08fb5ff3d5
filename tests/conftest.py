"""pytest setup: Nautobot settings from the development config, and a real Celery worker for `worker` tests."""

import os
from pathlib import Path

import nautobot
import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "development" / "nautobot_config.py"

os.environ.setdefault("JOBFLOW_TESTING", "1")


def pytest_configure(config):
    """Load Nautobot's settings the way nautobot-server does (adds the job_logs alias, loads the app)."""
    nautobot.setup(str(CONFIG))


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """One real Celery worker subprocess (2 processes) consuming the test broker against the test database."""
    from tests.worker import WorkerProcess

    worker = WorkerProcess(name="jobflow-test-a", concurrency=2, purge_broker=True)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def second_celery_worker(celery_worker):
    """A second worker process on the same queue, for races between workers."""
    from tests.worker import WorkerProcess

    worker = WorkerProcess(name="jobflow-test-b", concurrency=2)
    worker.start()
    yield worker
    worker.stop()
