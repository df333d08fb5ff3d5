"""A real Celery worker subprocess for tests, pointed at the test database and the test broker."""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "development" / "nautobot_config.py"
NAUTOBOT_SERVER = Path(sys.executable).parent / "nautobot-server"


def purge_test_broker():
    """Drop tasks left in the test broker by an earlier, interrupted run."""
    import redis

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


def wait_until_workers_idle(timeout=30):
    """Wait until the test broker holds no task and no worker runs or has reserved one.

    For a transactional test whose code sends a task it does not wait for (the hook-queue drain the reconciler
    schedules): the test's flush would otherwise race that task's queries, and PostgreSQL may end the flush with a
    deadlock, leaving the rows for the next test.
    """
    import redis
    from nautobot.core.celery import app

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queued = sum(broker.llen(key) for key in broker.scan_iter(f"{settings.CELERY_TASK_DEFAULT_QUEUE}*"))
        inspect = app.control.inspect(timeout=1)
        busy = [task for tasks in (inspect.active() or {}).values() for task in tasks]
        busy += [task for tasks in (inspect.reserved() or {}).values() for task in tasks]
        if not queued and not busy:
            return
        time.sleep(0.2)
    raise AssertionError(f"the test workers were still busy after {timeout}s")


class WorkerProcess:
    """Start, check and stop one `nautobot-server celery worker` for the test session."""

    def __init__(self, name, concurrency=2, queues=None, env=None, purge_broker=False):
        self.name = name
        self.purge_broker = purge_broker  # only the session's first worker empties the test broker
        self.concurrency = concurrency
        self.queues = queues  # Celery queues to consume (default: the default queue)
        self.extra_env = env or {}  # e.g. another Redis port, or PGAPPNAME to find its database connections
        self.process = None
        self.log_path = Path(tempfile.gettempdir()) / f"{name}-{os.getpid()}.log"

    def start(self, timeout=90):
        """Start the worker and wait until it reports ready."""
        if self.purge_broker:
            purge_test_broker()
        env = {
            **os.environ,
            "NAUTOBOT_DB_NAME": connection.settings_dict["NAME"],
            "JOBFLOW_TESTING": "1",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        self.log_path.write_text("")
        self._log = open(self.log_path, "a")  # noqa: SIM115
        self.process = subprocess.Popen(
            [str(NAUTOBOT_SERVER), "--config", str(CONFIG), "celery", "worker", "--loglevel", "INFO",
             "--concurrency", str(self.concurrency), "-n", f"{self.name}@%h", "--without-heartbeat",
             "--without-gossip", "--without-mingle", *(["-Q", ",".join(self.queues)] if self.queues else [])],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Celery worker exited early:\n{self.log_path.read_text()[-3000:]}")
            if " ready." in self.log_path.read_text():
                return
            time.sleep(0.2)
        raise RuntimeError(f"Celery worker not ready after {timeout}s:\n{self.log_path.read_text()[-3000:]}")

    @property
    def pid(self):
        """PID of the worker's main process."""
        return self.process.pid

    def alive(self):
        """True while the worker's main process runs."""
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout=30):
        """Warm shutdown, then kill if it does not end in time."""
        if not self.alive():
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait()
        self._log.close()

    def kill(self):
        """SIGKILL the worker and its pool processes at once, as the kernel's OOM killer or `docker kill` would."""
        if self.alive():
            os.killpg(self.process.pid, 9)
            self.process.wait()
        self._log.close()

    def log_text(self):
        """The worker's output so far (for assertion messages)."""
        return self.log_path.read_text()
