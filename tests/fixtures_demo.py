"""The demo content in tests: `invoke demo-data`'s loader run on the test database, and the demo's description.

``run_demo_data`` runs ``development/demo_data.py`` the way `invoke demo-data` runs it, in a subprocess pointed at
the test database (as the Celery worker is); the test's data must be committed (a transactional test) for it and for
the worker to see each other's rows. ``demo_workflows`` is ``development/demo_workflows.py`` (no Django import).
"""

import os
import subprocess
import sys
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
DEMO_DATA = ROOT / "development" / "demo_data.py"
sys.path.insert(0, str(ROOT / "development"))

import demo_workflows  # noqa: E402  the demo's description, as data

__all__ = ["DEMO_DATA", "demo_password", "demo_workflows", "run_demo_data"]


def run_demo_data(devices):
    """`invoke demo-data --devices <devices>` against the test database; returns its output."""
    env = {**os.environ, "NAUTOBOT_DB_NAME": connection.settings_dict["NAME"], "JOBFLOW_TESTING": "1"}
    result = subprocess.run(
        [sys.executable, str(DEMO_DATA), "--devices", str(devices)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, f"demo_data.py failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def demo_password(role):
    """The demo user name and password of ``role`` ("requester" or "approver"), as development/dev.env sets them."""
    prefix = f"JOBFLOW_DEMO_{role.upper()}"
    return os.environ[prefix], os.environ[f"{prefix}_PASSWORD"]
