"""Helpers for fault tests: a queue only a dedicated worker consumes, a private Redis, waiting for steps to start."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import redis
from kombu import pools as kombu_pools
from nautobot.extras.choices import JobQueueTypeChoices, JobResultStatusChoices
from nautobot.extras.models import JobQueue

from nautobot_jobflow.models import WorkflowStepRun
from tests.fixtures import wait_for

FAULT_QUEUE = "jobflow-faults"


def fault_queue():
    """The JobQueue that only the test's own (killable) worker consumes, so no other worker takes its steps."""
    queue, _ = JobQueue.objects.get_or_create(
        name=FAULT_QUEUE, defaults={"queue_type": JobQueueTypeChoices.TYPE_CELERY}
    )
    return queue


def wait_until_started(run, step_names, timeout=150):
    """Wait until each named step's Job is running on a worker (its JobResult is STARTED)."""

    def started():
        return set(
            WorkflowStepRun.objects.filter(
                run=run, step_name__in=step_names, job_result__status=JobResultStatusChoices.STATUS_STARTED
            ).values_list("step_name", flat=True)
        ) == set(step_names)

    wait_for(started, timeout=timeout, message=f"steps {sorted(step_names)} started on the worker")


def free_port():
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of the test's own (never the shared one), started, SIGKILLed and started again on one port.

    Like the development Redis it keeps no data on disk, so a restart loses every queued message.
    """

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="jobflow-redis-"))
        self.process = None

    def url(self, db):
        """Connection URL of one of its databases."""
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self, timeout=15):
        """Start redis-server and wait until it answers PING."""
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir), "--logfile", str(self.dir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        wait_for(lambda: _pings(client), timeout=timeout, interval=0.05, message=f"redis-server on port {self.port}")

    def kill(self):
        """SIGKILL: the server is gone at once, with everything it held."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self):
        """Kill the server and remove its folder (cleanup)."""
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def _pings(client):
    try:
        return client.ping()
    except redis.exceptions.ConnectionError:
        return False


@contextmanager
def celery_broker(url):
    """Point this process's Celery app (task publishing and worker inspection) at another broker for a while."""
    from nautobot.core.celery import app

    def switch(new_url):
        # kombu keeps pools in a process-wide registry keyed by URL: close and forget them all, or switching back
        # would hand out the closed pool of the first URL.
        kombu_pools.reset()
        app._pool = None
        app.amqp._producer_pool = None
        # The app reads its settings from Django's with the CELERY_ namespace, which wins over the plain key.
        app.conf.CELERY_BROKER_URL = app.conf.broker_url = new_url

    previous = app.conf.broker_url
    switch(url)
    try:
        yield app
    finally:
        switch(previous)
