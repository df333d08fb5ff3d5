"""Local development services for nautobot-jobflow, without Docker.

Used by ``tasks.py``; standard library only, because invoke runs it with the system Python before the
virtualenv exists. Every ``ensure_*`` function is idempotent: it checks what is there, does only what is
missing and says what it did. Problems with the machine end in :class:`EnvironmentProblem` with a
sentence that tells the user what to do, never a traceback.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT = ROOT / "development"
STATE = Path(os.getenv("JOBFLOW_STATE_DIR", ROOT / ".dev"))
RUN = STATE / "run"
LOGS = STATE / "logs"
PGDATA = STATE / "pgdata"
VENV = Path(os.getenv("JOBFLOW_VENV", ROOT / ".venv"))
CONFIG = DEVELOPMENT / "nautobot_config.py"
TEMPLATE_DB = "nautobot_template"
# Processes started in the background by `invoke start`, in the order they are stopped.
BACKGROUND = ("web", "beat", "worker")


class EnvironmentProblem(Exception):
    """Something about the machine stops us; the message says what and what to do about it."""


def say(message):
    """Print a progress line the way every task does."""
    print(f"==> {message}", flush=True)


def load_env():
    """Return the environment for our processes: dev.env, then local.env, then the real environment on top."""
    env = {}
    for name in ("dev.env", "local.env"):
        path = DEVELOPMENT / name
        if path.is_file():
            for raw in path.read_text().splitlines():
                line = raw.strip()
                if line and not line.startswith("#") and "=" in line:
                    key, value = line.split("=", 1)
                    env[key.strip()] = value.strip()
    env.update(os.environ)
    env["NAUTOBOT_CONFIG"] = str(CONFIG)
    env["JOBFLOW_STATE_DIR"] = str(STATE)
    env["PYTHONUNBUFFERED"] = "1"
    return env


ENV = load_env()


def setting(name):
    """One value of the merged environment."""
    return ENV[name]


# --------------------------------------------------------------------------------------------------------------
# Small process helpers
# --------------------------------------------------------------------------------------------------------------
def run(argv, *, env=None, check=True, capture=False, cwd=ROOT, user=None, quiet=False):
    """Run a command in the foreground; as ``user`` through runuser when we are root."""
    if user and os.geteuid() == 0:
        argv = ["runuser", "-u", user, "--", *argv]
    result = subprocess.run(
        [str(a) for a in argv],
        env=env or ENV,
        cwd=cwd,
        text=True,
        stdout=subprocess.PIPE if (capture or quiet) else None,
        stderr=subprocess.STDOUT if (capture or quiet) else None,
        check=False,
    )
    if check and result.returncode != 0:
        output = (result.stdout or "").strip()
        raise EnvironmentProblem(
            f"`{' '.join(str(a) for a in argv)}` failed with exit code {result.returncode}"
            + (f":\n{output}" if output else "")
        )
    return result


def stream(argv, *, env=None, line_filter=None, log_file=None):
    """Run a command, printing its output line by line (optionally rewritten by ``line_filter``)."""
    process = subprocess.Popen(
        [str(a) for a in argv],
        env=env or ENV,
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        bufsize=1,
    )
    log = open(log_file, "a") if log_file else None  # noqa: SIM115
    try:
        for line in process.stdout:
            if log:
                log.write(line)
            shown = line_filter(line) if line_filter else line
            if shown:
                print(shown, end="" if shown.endswith("\n") else "\n", flush=True)
    finally:
        if log:
            log.close()
    return process.wait()


def pid_from_file(path):
    """The PID recorded in ``path`` if that process is alive, else None."""
    try:
        pid = int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    # A zombie is not running.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return None
    return pid


def port_in_use(port, host="127.0.0.1"):
    """True when something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, int(port))) == 0


def who_listens(port):
    """A short description of the process listening on ``port``, when the machine can tell us."""
    if shutil.which("ss"):
        result = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, check=False)
        match = re.search(r'users:\(\("([^"]+)",pid=(\d+)', result.stdout)
        if match:
            return f"{match.group(1)} (pid {match.group(2)})"
    return "another program"


def require_free_port(port, what, variable):
    """Refuse to start ``what`` on a port that something else already holds."""
    if port_in_use(port):
        raise EnvironmentProblem(
            f"Port {port} is already in use by {who_listens(port)}, so {what} cannot start there. "
            f"Stop that program, or choose another port with {variable}=<port> in development/local.env."
        )


def stop_pid(pid, name, timeout=30):
    """SIGTERM a process group, then SIGKILL it if it has not ended within ``timeout`` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    say(f"{name} (pid {pid}) did not stop within {timeout}s; killing it")
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    return False


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            return False
    return True


# --------------------------------------------------------------------------------------------------------------
# System packages
# --------------------------------------------------------------------------------------------------------------
_APT_UPDATED = False


def apt_install(*packages, reason):
    """Install Debian packages, or explain why we cannot and what the user should do."""
    global _APT_UPDATED
    if not shutil.which("apt-get"):
        raise EnvironmentProblem(
            f"{reason}, and apt-get is not available on this machine to install it. "
            "Install these packages with your system's package manager, then run the command again: "
            f"{' '.join(packages)}"
        )
    if os.geteuid() != 0:
        raise EnvironmentProblem(
            f"{reason}. Installing it needs root: run `sudo apt-get install -y {' '.join(packages)}`, then run the "
            "command again."
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not _APT_UPDATED:
        say("apt-get update")
        run(["apt-get", "update", "-qq"], env=env, quiet=True)
        _APT_UPDATED = True
    say(f"apt-get install {' '.join(packages)} ({reason})")
    run(["apt-get", "install", "-y", "-qq", *packages], env=env, quiet=True)


def postgres_bin_dir():
    """The newest PostgreSQL server binaries on this machine, installing them when none are there."""
    for attempt in range(2):
        candidates = sorted(
            Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name), reverse=True
        )
        if candidates:
            return candidates[0].parent
        if attempt == 0:
            apt_install("postgresql", reason="The PostgreSQL server is not installed")
    raise EnvironmentProblem("The PostgreSQL server binaries are still missing after installing `postgresql`.")


def redis_server_bin():
    """Path of redis-server, installing it when missing."""
    found = shutil.which("redis-server")
    if not found:
        apt_install("redis-server", reason="Redis is not installed")
        found = shutil.which("redis-server")
    if not found:
        raise EnvironmentProblem("redis-server is still missing after installing the `redis-server` package.")
    return found


CHROMIUM = Path(os.getenv("JOBFLOW_CHROMIUM", "/usr/bin/chromium"))


def ensure_chromium():
    """Debian's Chromium for the browser tests (tests/e2e), installed with apt-get when missing.

    Playwright drives this browser through ``executable_path``; its own browser download (``playwright install``)
    is never used. ``chromium-driver`` comes along for tools that speak WebDriver.
    """
    if CHROMIUM.exists():
        return CHROMIUM
    apt_install("chromium", "chromium-driver", reason=f"The browser tests need Chromium ({CHROMIUM} is missing)")
    if not CHROMIUM.exists():
        raise EnvironmentProblem(
            f"{CHROMIUM} is still missing after installing the `chromium` package. Install Chromium and set "
            "JOBFLOW_CHROMIUM=<path of its executable>, or run the other tests with `invoke tests --keyword 'not e2e'`."
        )
    return CHROMIUM


def ensure_git():
    """The git binary for the Git datasource tests (a real repository in a temporary folder), installed when missing."""
    if shutil.which("git"):
        return shutil.which("git")
    apt_install("git", reason="The Git datasource tests need the git binary")
    if not shutil.which("git"):
        raise EnvironmentProblem("git is still missing after installing the `git` package; install it, then rerun.")
    return shutil.which("git")


# --------------------------------------------------------------------------------------------------------------
# Virtualenv
# --------------------------------------------------------------------------------------------------------------
def venv_python():
    """The virtualenv's Python interpreter."""
    return VENV / "bin" / "python"


def ensure_venv():
    """Create the virtualenv and install the app editable with its dev extra when pyproject.toml changed."""
    if not venv_python().exists():
        say(f"Creating the virtualenv in {VENV}")
        run([sys.executable, "-m", "venv", VENV])
    stamp = VENV / ".jobflow-installed"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    say("Installing nautobot-jobflow (editable) with its dev dependencies; the first time takes about two minutes")
    run([venv_python(), "-m", "pip", "install", "-q", "--upgrade", "pip"], quiet=True)
    code = stream(
        [venv_python(), "-m", "pip", "install", "--progress-bar", "off", "-e", f"{ROOT}[dev]"],
        line_filter=lambda line: line if line.startswith(("Collecting", "Successfully", "ERROR", "error")) else None,
    )
    if code != 0:
        raise EnvironmentProblem("pip could not install the app and its dependencies (see the lines above).")
    stamp.write_text(wanted)


def nautobot_server(*args):
    """argv for `nautobot-server` with our config."""
    return [VENV / "bin" / "nautobot-server", "--config", CONFIG, *args]


# --------------------------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------------------------
def _pg_user():
    # PostgreSQL refuses to run as root: as root we run it as the `postgres` system user.
    return "postgres" if os.geteuid() == 0 else None


def psql(sql, database="postgres", capture=True):
    """Run SQL as the cluster's superuser over TCP on our private port."""
    argv = ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", setting("NAUTOBOT_DB_HOST"), "-p", setting("NAUTOBOT_DB_PORT")]
    argv += ["-U", "postgres", "-d", database, "-tAc", sql]
    return run(argv, capture=capture).stdout.strip() if capture else run(argv)


def ensure_postgres():
    """Initialise (once) and start our PostgreSQL cluster on its private port; create the role."""
    bin_dir = postgres_bin_dir()
    major = bin_dir.parent.name
    user = _pg_user()
    RUN.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    version_file = PGDATA / "PG_VERSION"
    if PGDATA.exists() and version_file.exists():
        data_major = version_file.read_text().strip()
        if data_major != major:
            raise EnvironmentProblem(
                f"The PostgreSQL data folder {PGDATA} was created by PostgreSQL {data_major}, but this machine has "
                f"PostgreSQL {major}. Install postgresql-{data_major} to keep that data, or move the folder away "
                f"(it holds only development data: `mv {PGDATA} {PGDATA}.old`) and run the command again."
            )
    elif PGDATA.exists() and any(PGDATA.iterdir()):
        raise EnvironmentProblem(
            f"{PGDATA} exists but is not a PostgreSQL data folder (no PG_VERSION). Move it away and run again."
        )
    else:
        say(f"Initialising a PostgreSQL {major} cluster in {PGDATA}")
        PGDATA.mkdir(parents=True, exist_ok=True)
        if user:
            shutil.chown(PGDATA, user, user)
        run([bin_dir / "initdb", "-D", PGDATA, "-U", "postgres", "--auth=trust", "-E", "UTF8"], user=user, quiet=True)
    socket_dir = RUN / "pg"
    socket_dir.mkdir(parents=True, exist_ok=True)
    if user:
        shutil.chown(socket_dir, user, user)
    status = run([bin_dir / "pg_ctl", "-D", PGDATA, "status"], user=user, check=False, quiet=True)
    if status.returncode == 0:
        return
    port = setting("NAUTOBOT_DB_PORT")
    require_free_port(port, "PostgreSQL", "NAUTOBOT_DB_PORT")
    log_file = LOGS / "postgresql.log"
    log_file.touch()
    if user:
        shutil.chown(log_file, user, user)
    say(f"Starting PostgreSQL on {setting('NAUTOBOT_DB_HOST')}:{port}")
    options = f"-h {setting('NAUTOBOT_DB_HOST')} -p {port} -k {socket_dir}"
    run(
        [bin_dir / "pg_ctl", "-D", PGDATA, "-l", log_file, "-o", options, "-w", "-t", "60", "start"],
        user=user,
        quiet=True,
    )
    _ensure_role()


def _ensure_role():
    name, password = setting("NAUTOBOT_DB_USER"), setting("NAUTOBOT_DB_PASSWORD")
    if psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{name}'") != "1":
        say(f"Creating database role {name}")
        psql(f"CREATE ROLE \"{name}\" LOGIN CREATEDB PASSWORD '{password}'")


def database_exists(name):
    """True when the cluster has a database of that name."""
    return psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"


def stop_postgres():
    """Stop our cluster (fast shutdown) if it runs."""
    if not PGDATA.exists():
        return
    bin_dir = postgres_bin_dir()
    user = _pg_user()
    if run([bin_dir / "pg_ctl", "-D", PGDATA, "status"], user=user, check=False, quiet=True).returncode == 0:
        say("Stopping PostgreSQL")
        run([bin_dir / "pg_ctl", "-D", PGDATA, "-m", "fast", "-w", "stop"], user=user, quiet=True)


# --------------------------------------------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------------------------------------------
def ensure_redis():
    """Start our Redis (no persistence: it holds only queues and caches) on its private port."""
    binary = redis_server_bin()
    pidfile = RUN / "redis.pid"
    if pid_from_file(pidfile):
        return
    port = setting("NAUTOBOT_REDIS_PORT")
    require_free_port(port, "Redis", "NAUTOBOT_REDIS_PORT")
    say(f"Starting Redis on {setting('NAUTOBOT_REDIS_HOST')}:{port}")
    run(
        [binary, "--port", port, "--bind", setting("NAUTOBOT_REDIS_HOST"), "--daemonize", "yes", "--save", "",
         "--appendonly", "no", "--pidfile", pidfile, "--logfile", LOGS / "redis.log", "--dir", RUN],
        quiet=True,
    )  # fmt: skip
    deadline = time.monotonic() + 15
    while not port_in_use(port):
        if time.monotonic() > deadline:
            raise EnvironmentProblem(f"Redis did not start; see {LOGS / 'redis.log'}")
        time.sleep(0.1)


def stop_redis():
    """Stop our Redis by its pidfile."""
    pid = pid_from_file(RUN / "redis.pid")
    if pid:
        say(f"Stopping Redis (pid {pid})")
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)


# --------------------------------------------------------------------------------------------------------------
# Databases: a migrated template, cloned for development and for tests
# --------------------------------------------------------------------------------------------------------------
def _nautobot_version():
    return run([venv_python(), "-c", "import nautobot; print(nautobot.__version__)"], capture=True).stdout.strip()


def _migrations_key():
    """Changes when Nautobot's version or the app's migrations change."""
    digest = hashlib.sha256(_nautobot_version().encode())
    for path in sorted((ROOT / "nautobot_jobflow" / "migrations").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _migrate(database, why, without_app=False):
    say(f"Migrating database {database} ({why})")
    counter = {"applied": 0}
    started = time.monotonic()

    def show(line):
        if line.lstrip().startswith("Applying "):
            counter["applied"] += 1
            return f"    [{counter['applied']:>3} applied, {time.monotonic() - started:5.0f}s] {line.strip()}"
        if "is ignored" in line:
            return None
        return line

    env = {**ENV, "NAUTOBOT_DB_NAME": database, "JOBFLOW_WITHOUT_APP": "1" if without_app else "0"}
    code = stream(nautobot_server("migrate", "--no-input"), env=env, line_filter=show, log_file=LOGS / "migrate.log")
    if code != 0:
        raise EnvironmentProblem(f"Migrating {database} failed (see above and {LOGS / 'migrate.log'}).")
    say(f"{database} migrated: {counter['applied']} migrations in {time.monotonic() - started:.0f}s")


def ensure_template_database():
    """Create and migrate the template database (Nautobot's migrations only) once per Nautobot version.

    The app's own migrations are not in the template: every database cloned from it (tests, development) applies
    them itself, so the template never has to be rebuilt when the app's migrations change.
    """
    stamp = STATE / "template.stamp"
    key = _nautobot_version()
    if database_exists(TEMPLATE_DB) and stamp.exists() and stamp.read_text() == key:
        return
    if not database_exists(TEMPLATE_DB):
        psql(f'CREATE DATABASE "{TEMPLATE_DB}" OWNER "{setting("NAUTOBOT_DB_USER")}"')
        _migrate(TEMPLATE_DB, "first time only: about 7 minutes on 2 cores", without_app=True)
    else:
        _migrate(TEMPLATE_DB, f"Nautobot is now {key}", without_app=True)
    stamp.write_text(key)


def ensure_dev_database():
    """Clone the development database from the template when it is missing; apply new migrations."""
    name = setting("NAUTOBOT_DB_NAME")
    stamp = STATE / f"{name}.stamp"
    key = _migrations_key()
    if not database_exists(name):
        say(f"Creating database {name} from {TEMPLATE_DB}")
        psql(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}" OWNER "{setting("NAUTOBOT_DB_USER")}"')
        stamp.unlink(missing_ok=True)
    if not (stamp.exists() and stamp.read_text() == key):
        _migrate(name, "apply what the template does not have and run post-migrate seeding")
        stamp.write_text(key)


# --------------------------------------------------------------------------------------------------------------
# Background processes: web server, Celery worker, Celery beat
# --------------------------------------------------------------------------------------------------------------
def background_commands():
    """argv of each background process."""
    host, port = setting("NAUTOBOT_WEB_HOST"), setting("NAUTOBOT_WEB_PORT")
    return {
        "web": nautobot_server("runserver", f"{host}:{port}", "--insecure", "--noreload"),
        "worker": nautobot_server(
            "celery", "worker", "--loglevel", "INFO", "--concurrency", "2", "-n", "jobflow-dev@%h"
        ),
        "beat": nautobot_server("celery", "beat", "--loglevel", "INFO", "--pidfile", ""),
    }


def start_background(name):
    """Start one background process unless ours already runs; its PID goes to .dev/run/<name>.pid."""
    pidfile = RUN / f"{name}.pid"
    pid = pid_from_file(pidfile)
    if pid:
        say(f"{name} already running (pid {pid})")
        return pid
    if name == "web":
        require_free_port(setting("NAUTOBOT_WEB_PORT"), "the Nautobot web server", "NAUTOBOT_WEB_PORT")
    log_path = LOGS / f"{name}.log"
    with open(log_path, "a") as log:
        process = subprocess.Popen(
            [str(a) for a in background_commands()[name]],
            env=ENV,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pidfile.write_text(str(process.pid))
    say(f"Started {name} (pid {process.pid}), log: {log_path}")
    return process.pid


def stop_background(name):
    """Stop one background process by its recorded PID."""
    pidfile = RUN / f"{name}.pid"
    pid = pid_from_file(pidfile)
    if pid:
        say(f"Stopping {name} (pid {pid})")
        stop_pid(pid, name)
    pidfile.unlink(missing_ok=True)


def wait_for_http(url, timeout, watch_pid=None, log_path=None):
    """Poll ``url`` until it answers 200; fail early if the process serving it died."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        if watch_pid and not _alive(watch_pid):
            raise EnvironmentProblem(f"The web server exited while starting; see {log_path}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            last_error = error
        time.sleep(1)
    raise EnvironmentProblem(f"{url} did not answer 200 within {timeout}s ({last_error}); see {log_path}")


def status_lines():
    """One line per service: running or not, with PIDs and ports."""
    lines = []
    bin_dir = postgres_bin_dir() if Path("/usr/lib/postgresql").exists() else None
    pg_running = False
    if bin_dir and PGDATA.exists():
        pg_running = (
            run([bin_dir / "pg_ctl", "-D", PGDATA, "status"], user=_pg_user(), check=False, quiet=True).returncode == 0
        )
    lines.append(f"postgresql  {'running' if pg_running else 'stopped'}  port {setting('NAUTOBOT_DB_PORT')}")
    redis_pid = pid_from_file(RUN / "redis.pid")
    redis_state = f"running (pid {redis_pid})" if redis_pid else "stopped"
    lines.append(f"redis       {redis_state}  port {setting('NAUTOBOT_REDIS_PORT')}")
    for name in BACKGROUND:
        pid = pid_from_file(RUN / f"{name}.pid")
        lines.append(f"{name:<11} {f'running (pid {pid})' if pid else 'stopped'}")
    return lines
