"""A Nautobot installed from scratch the way an administrator would, for tests/test_clean_install.py.

Nothing here uses the development environment's virtualenv, config or editable install: a fresh virtualenv
(``python -m venv``, no system site-packages) gets the wheel and Nautobot from the package index, ``nautobot-server
init`` writes the config, the environment variables of Nautobot's install guide point it at a database cloned from
the test template and at a private Redis. Every process it starts runs in its own session and is stopped by PID.
"""

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "development"))

import distributions  # development/distributions.py: what `invoke build` runs
import services

from tests.fixtures_faults import PrivateRedis, free_port

ADMIN = "install-admin"
# Nautobot's uwsgi.ini from its install guide (Installation → Services), with `http =` instead of `socket =`
# because no nginx stands in front here, and uWSGI serving /static/ from STATIC_ROOT as the guide's nginx does.
UWSGI_INI = """[uwsgi]
http = 127.0.0.1:{port}
static-map = /static={static_root}
strict = true
master = true
enable-threads = true
vacuum = true
single-interpreter = true
die-on-term = true
need-app = true
disable-logging = true
log-4xx = true
log-5xx = true
http-keepalive = 1
"""
# What the administrator adds to the config `nautobot-server init` wrote (docs/admin/install.md).
CONFIG_ADDITIONS = """
# --- added by tests/test_clean_install.py, as docs/admin/install.md says ---
PLUGINS = ["nautobot_jobflow"]
PLUGINS_CONFIG = {"nautobot_jobflow": {}}
"""


class CommandFailed(AssertionError):
    """A step of the install failed; the message has the end of its output."""


class CleanInstall:
    """A temp folder with a virtualenv, a NAUTOBOT_ROOT, logs; a database and a Redis of its own; its processes."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="jobflow-install-", dir=scratch_parent()))
        (self.dir / "tmp").mkdir()
        self.venv = self.dir / "venv"
        self.root = self.dir / "nautobot-root"
        self.config = self.root / "nautobot_config.py"
        self.logs = self.dir / "logs"
        self.logs.mkdir()
        self.database = f"jobflow_install_{os.getpid()}"
        self.template = os.getenv("JOBFLOW_TEST_DB_TEMPLATE") or services.TEMPLATE_DB
        self.password = secrets.token_urlsafe(16)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.redis = PrivateRedis()
        self.processes = {}  # name -> (Popen, log path, open log file)
        self.database_created = False
        self.environment = self._environment()  # one secret key for every process

    # ---------------------------------------------------------------------------------------------- environment
    def _environment(self):
        """The environment of every command: built from scratch, so no PYTHONPATH, dev config or test setting leaks."""
        env = {key: value for key, value in os.environ.items() if key.startswith("PIP_")}  # the machine's index
        env.update(
            PATH=f"{self.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            HOME=os.environ.get("HOME", str(self.dir)),
            LANG="C.UTF-8",
            TMPDIR=str(self.dir / "tmp"),
            PYTHONUNBUFFERED="1",
            NAUTOBOT_ROOT=str(self.root),
            NAUTOBOT_CONFIG=str(self.config),
            NAUTOBOT_SECRET_KEY=secrets.token_urlsafe(50),
            NAUTOBOT_ALLOWED_HOSTS="127.0.0.1 localhost",
            NAUTOBOT_INSTALLATION_METRICS_ENABLED="False",
            NAUTOBOT_DB_ENGINE="django.db.backends.postgresql",
            NAUTOBOT_DB_HOST=services.setting("NAUTOBOT_DB_HOST"),
            NAUTOBOT_DB_PORT=services.setting("NAUTOBOT_DB_PORT"),
            NAUTOBOT_DB_USER=services.setting("NAUTOBOT_DB_USER"),
            NAUTOBOT_DB_PASSWORD=services.setting("NAUTOBOT_DB_PASSWORD"),
            NAUTOBOT_DB_NAME=self.database,
            NAUTOBOT_REDIS_HOST="127.0.0.1",
            NAUTOBOT_REDIS_PORT=str(self.redis.port),
            DJANGO_SUPERUSER_PASSWORD=self.password,
        )
        return env

    def run(self, name, *argv, timeout=600):
        """Run one command to its end (output in logs/<name>.log); raise CommandFailed with its output's end."""
        log = self.logs / f"{name}.log"
        with open(log, "w") as out:
            done = subprocess.run(
                [str(arg) for arg in argv], env=self.environment, cwd=self.dir, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, timeout=timeout, check=False,
            )  # fmt: skip
        if done.returncode != 0:
            raise CommandFailed(f"`{' '.join(map(str, argv))}` exited {done.returncode}:\n{tail(log)}")
        return log.read_text()

    def bin(self, name):
        """A command of the fresh virtualenv."""
        return self.venv / "bin" / name

    # ----------------------------------------------------------------------------------------------- the phases
    def build_wheel(self):
        """`invoke build`'s function, from this working tree, into the temp folder; the wheel's Distribution."""
        _sdist, wheel = distributions.build_distributions(self.dir / "dist", bin_dir=Path(sys.executable).parent)
        return wheel

    def install(self, wheel_path):
        """A fresh virtualenv, pip upgraded (as Nautobot's install guide does), then the wheel; Nautobot's version."""
        self.run("venv", sys.executable, "-m", "venv", self.venv)
        self.run("pip-upgrade", self.bin("python"), "-m", "pip", "install", "--progress-bar", "off", "-U", "pip")
        # --no-compile: pip would byte-compile all of Nautobot and its dependencies (minutes of CPU on a busy machine);
        # the processes below write the .pyc files of what they import, as any install does on first use.
        pip = [self.bin("python"), "-m", "pip", "install", "--progress-bar", "off", "--no-compile"]
        self.run("pip-install", *pip, wheel_path)
        return self.python("import importlib.metadata as m; print(m.version('nautobot'))").strip()

    def python(self, code):
        """Run Python code in the fresh virtualenv (without Django); its output."""
        return self.run("python", self.bin("python"), "-c", code)

    def configure(self):
        """`nautobot-server init` writes the config; the app goes into PLUGINS."""
        self.root.mkdir()
        self.run("init", self.bin("nautobot-server"), "init", "--disable-installation-metrics", self.config)
        with open(self.config, "a") as config:
            config.write(CONFIG_ADDITIONS)
        # STATIC_ROOT is $NAUTOBOT_ROOT/static (Nautobot's default), filled by post_upgrade's collectstatic.
        (self.root / "uwsgi.ini").write_text(UWSGI_INI.format(port=self.port, static_root=self.root / "static"))

    def start_redis(self):
        """The install's own redis-server (cache, Celery broker, the app's hook queue), empty and on a free port."""
        self.redis.start()

    def create_database(self, timeout=120):
        """Clone the template (Nautobot's migrations only; the app's run in post_upgrade), retrying while in use."""
        owner = services.setting("NAUTOBOT_DB_USER")
        deadline = time.monotonic() + timeout
        while True:
            try:
                services.psql(f'CREATE DATABASE "{self.database}" TEMPLATE "{self.template}" OWNER "{owner}"')
                self.database_created = True
                return
            except services.EnvironmentProblem as problem:  # another suite is cloning the template right now
                if "being accessed by other users" not in str(problem) or time.monotonic() > deadline:
                    raise
                time.sleep(2)

    def nautobot(self, name, *args, timeout=900):
        """`nautobot-server <args>` of the fresh install, to its end."""
        return self.run(name, self.bin("nautobot-server"), *args, timeout=timeout)

    def start(self, name, *args):
        """Start `nautobot-server <args>` in the background, in its own session."""
        log = self.logs / f"{name}.log"
        out = open(log, "w")  # noqa: SIM115 - closed in stop_processes()
        process = subprocess.Popen(
            [str(self.bin("nautobot-server")), *map(str, args)], env=self.environment, cwd=self.root, stdout=out,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        self.processes[name] = (process, log, out)
        return process

    def start_services(self):
        """The web server (uWSGI, `nautobot-server start`) and a Celery worker."""
        self.start("web", "start", "--ini", self.root / "uwsgi.ini")
        self.start("worker", "celery", "worker", "--loglevel", "INFO", "--concurrency", "1", "-n", "install@%h")

    def wait_until_ready(self, timeout=180):
        """Until /login/ answers 200 and the worker logged `ready.`; fail early when one of them exits."""
        deadline = time.monotonic() + timeout
        web_up = worker_up = False
        while not (web_up and worker_up):
            for name, (process, log, _out) in self.processes.items():
                if process.poll() is not None:
                    raise CommandFailed(f"{name} exited with {process.returncode} while starting:\n{tail(log)}")
            if time.monotonic() > deadline:
                raise CommandFailed(f"not ready in {timeout}s (web {web_up}, worker {worker_up}):\n{self.log_tails()}")
            worker_up = worker_up or " ready." in (self.logs / "worker.log").read_text()
            web_up = web_up or _answers(f"{self.url}/login/")
            time.sleep(0.5)

    # ------------------------------------------------------------------------------------------------- clean up
    def stop_processes(self, timeout=30):
        """SIGTERM each process group we started (uWSGI: die-on-term; Celery: warm shutdown), SIGKILL the late."""
        for process, _log, _out in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process, _log, out in self.processes.values():
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            out.close()
        self.redis.stop()

    def drop_database(self):
        """Drop the clone (closing connections the stopped processes may have left)."""
        if self.database_created:
            services.psql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            self.database_created = False

    def remove(self):
        """Delete the temp folder (the virtualenv, the config, the logs) unless JOBFLOW_INSTALL_KEEP is set."""
        if os.getenv("JOBFLOW_INSTALL_KEEP"):
            print(f"clean install kept in {self.dir}", flush=True)
            return
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tails(self):
        """The end of every background process's log (for failure messages)."""
        return "\n".join(f"--- {name} ---\n{tail(log)}" for name, (_p, log, _o) in self.processes.items())

    # --------------------------------------------------------------------------------------------- HTTP clients
    def browser(self):
        """A requests session logged in through the login form, as a person in a browser."""
        session = requests.Session()
        session.get(f"{self.url}/login/", timeout=30).raise_for_status()
        answer = session.post(
            f"{self.url}/login/",
            data={"username": ADMIN, "password": self.password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
            headers={"Referer": f"{self.url}/login/"},
            timeout=30,
        )
        if "sessionid" not in session.cookies:
            raise CommandFailed(f"login as {ADMIN} failed: HTTP {answer.status_code} at {answer.url}")
        return session

    def api(self):
        """A requests session with an API token, created through the REST API with the password (basic auth)."""
        answer = requests.post(
            f"{self.url}/api/users/tokens/", auth=(ADMIN, self.password), json={}, timeout=30,
            headers={"Accept": "application/json"},
        )  # fmt: skip
        if answer.status_code != 201:
            raise CommandFailed(f"token not created: HTTP {answer.status_code} {answer.text[:500]}")
        session = requests.Session()
        session.headers.update({"Authorization": f"Token {answer.json()['key']}", "Accept": "application/json"})
        return session


def scratch_parent(needed=2 * 1024**3):
    """Where the install goes: JOBFLOW_INSTALL_TMPDIR, else /dev/shm when it has room, else the temp folder.

    The install writes and later deletes some 750 MB in many small files (the virtualenv, collectstatic); in RAM
    that takes seconds, on a disk that other processes keep busy it took minutes.
    """
    chosen = os.getenv("JOBFLOW_INSTALL_TMPDIR")
    if chosen:
        return chosen
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > needed:
        return str(shm)
    return None  # tempfile's default


def tail(path, lines=40):
    """The last lines of a log file."""
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return f"({path} is missing)"


def _answers(url):
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False
