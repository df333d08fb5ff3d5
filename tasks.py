"""Development tasks for nautobot-jobflow (`invoke --list`). Local mode only: no Docker.

`invoke start` brings up PostgreSQL, Redis, Nautobot's web server, a Celery worker and Celery beat with the app
and demo data; `invoke tests` runs lint and the whole pytest suite against the same kind of services.
"""

import functools
import os
import sys
import time

from invoke import Exit, task

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "development"))

import distributions
import services
from services import ENV, LOGS, ROOT, RUN, VENV, say


def friendly(function):
    """Turn EnvironmentProblem into a clear message and exit code 1 instead of a traceback."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except services.EnvironmentProblem as problem:
            print(f"\nERROR: {problem}", file=sys.stderr, flush=True)
            raise Exit(code=1) from None

    return wrapper


def _venv_bin(name):
    return str(VENV / "bin" / name)


def _nautobot(context, *args, **kwargs):
    argv = " ".join(str(a) for a in services.nautobot_server(*args))
    return context.run(argv, env=ENV, pty=False, **kwargs)


def _ensure_backing_services():
    services.ensure_venv()
    services.ensure_postgres()
    services.ensure_redis()
    services.ensure_template_database()


def _python_script(context, script, *args):
    argv = [_venv_bin("python"), str(ROOT / "development" / script), *args]
    return context.run(" ".join(argv), env=ENV)


@task
@friendly
def start(context):
    """Install what is missing, start PostgreSQL, Redis, Nautobot (http://127.0.0.1:8080), a worker and beat."""
    started = time.monotonic()
    _ensure_backing_services()
    services.ensure_dev_database()
    say("Making sure the development superuser exists")
    _python_script(context, "bootstrap.py", "superuser")
    demo_data(context)
    say("Building the documentation served at /docs/jobflow/ (the app's Documentation link)")
    docs(context)
    web_pid = None
    for name in ("worker", "beat", "web"):
        pid = services.start_background(name)
        if name == "web":
            web_pid = pid
    url = f"http://{ENV['NAUTOBOT_WEB_HOST']}:{ENV['NAUTOBOT_WEB_PORT']}"
    say(f"Waiting for {url}/login/ to answer")
    services.wait_for_http(f"{url}/login/", timeout=180, watch_pid=web_pid, log_path=LOGS / "web.log")
    print(
        f"\nNautobot with nautobot-jobflow is up at {url}/ (ready in {time.monotonic() - started:.0f}s)\n"
        f"  user: {ENV['NAUTOBOT_SUPERUSER_NAME']}   password: {ENV['NAUTOBOT_SUPERUSER_PASSWORD']}\n"
        f"  demo requester: {ENV['JOBFLOW_DEMO_REQUESTER']} / {ENV['JOBFLOW_DEMO_REQUESTER_PASSWORD']}   "
        f"demo approver: {ENV['JOBFLOW_DEMO_APPROVER']} / {ENV['JOBFLOW_DEMO_APPROVER_PASSWORD']}\n"
        f"  logs: {LOGS}   stop everything: invoke stop\n"
        f"  first: open {url}/plugins/jobflow/ , sign in as {ENV['JOBFLOW_DEMO_REQUESTER']}, press Run on "
        f"'Demo: check and back up a device', then Run (that page links the Getting started guide); or press "
        f"'Check and back up' on any device's page\n",
        flush=True,
    )


@task
@friendly
def stop(context):
    """Stop exactly what `invoke start` started (by recorded PID), then Redis and PostgreSQL."""
    for name in services.BACKGROUND:
        services.stop_background(name)
    services.stop_redis()
    services.stop_postgres()
    say("Everything stopped")


@task
@friendly
def status(context):
    """Show which of our services run."""
    for line in services.status_lines():
        print(line)


@task(help={"service": "web, worker, beat, postgresql, redis or migrate", "lines": "how many lines"})
def logs(context, service="web", lines=50):
    """Show the end of a service's log."""
    path = LOGS / f"{service}.log"
    if not path.exists():
        raise Exit(f"No log for {service!r} yet at {path}", code=1)
    context.run(f"tail -n {int(lines)} {path}")


@task
@friendly
def migrate(context):
    """Apply migrations to the development database (and keep the test template current)."""
    _ensure_backing_services()
    services.ensure_dev_database()
    _nautobot(context, "migrate", "--no-input")


@task(help={"name": "optional migration name"})
@friendly
def makemigrations(context, name=""):
    """Create migrations for the app."""
    _ensure_backing_services()
    _nautobot(context, "makemigrations", "nautobot_jobflow", *(["--name", name] if name else []))


@task
@friendly
def nbshell(context):
    """Nautobot's interactive shell against the development database."""
    _ensure_backing_services()
    context.run(" ".join(str(a) for a in services.nautobot_server("nbshell")), env=ENV, pty=True)


@task
@friendly
def createsuperuser(context):
    """Create another superuser interactively."""
    _ensure_backing_services()
    context.run(" ".join(str(a) for a in services.nautobot_server("createsuperuser")), env=ENV, pty=True)


@task(name="demo-data", help={"devices": "how many devices (default 300)"})
@friendly
def demo_data(context, devices=300):
    """Load demo data (idempotent): a location tree, roles, device types, devices with interfaces."""
    _ensure_backing_services()
    services.ensure_dev_database()
    say(f"Loading demo data ({devices} devices; existing objects are kept)")
    _python_script(context, "demo_data.py", "--devices", str(int(devices)))


@task
@friendly
def lint(context):
    """Ruff check, ruff format --check, the layer rule (lint-imports), and makemigrations --check."""
    services.ensure_venv()
    context.run(f"{_venv_bin('ruff')} check .", env=ENV)
    context.run(f"{_venv_bin('ruff')} format --check .", env=ENV)
    context.run(f"{_venv_bin('lint-imports')} --no-cache", env=ENV)  # the layers contract in pyproject.toml
    services.ensure_postgres()
    services.ensure_redis()
    services.ensure_template_database()
    # Read-only check against the template database (it exists as soon as the test services do).
    argv = " ".join(
        str(a) for a in services.nautobot_server("makemigrations", "nautobot_jobflow", "--check", "--dry-run")
    )
    context.run(argv, env={**ENV, "NAUTOBOT_DB_NAME": services.TEMPLATE_DB})


@task
@friendly
def docs(context):
    """Build the documentation (mkdocs --strict) into the package: nautobot_jobflow/docs/, served at /docs/jobflow/."""
    services.ensure_venv()
    say(f"Built the documentation into {distributions.build_docs()}")


@task(help={"outdir": "where the sdist and the wheel go (default: dist)"})
@friendly
def build(context, outdir="dist"):
    """Build the docs, then the sdist and the wheel (python -m build), both with the docs inside; check them."""
    services.ensure_venv()
    distributions.build_distributions(ROOT / outdir)


@task(
    help={
        "keyword": "only tests matching this pytest -k expression",
        "path": "a test file or folder (default: tests)",
        "failfast": "stop at the first failure",
        "lint_first": "run `invoke lint` before the tests (default on)",
    }
)
@friendly
def tests(context, keyword="", path="tests", failfast=False, lint_first=True):
    """Start what the tests need, run `invoke lint`, then the whole pytest suite."""
    started = time.monotonic()
    _ensure_backing_services()
    services.ensure_chromium()  # the browser tests in tests/e2e drive Debian's Chromium
    services.ensure_git()  # the Git datasource tests make a real repository
    if lint_first:
        lint(context)
    env = {**ENV, "JOBFLOW_TEST_DB_TEMPLATE": services.TEMPLATE_DB, "JOBFLOW_TESTING": "1"}
    argv = [_venv_bin("pytest"), path, "--create-db", "-p", "no:cacheprovider"]
    if keyword:
        argv += ["-k", f'"{keyword}"']
    if failfast:
        argv.append("-x")
    result = context.run(" ".join(argv), env=env, warn=True)
    elapsed = time.monotonic() - started
    if result.exited == 5:
        raise Exit(f"pytest collected no tests from {path}: that is a failure, not a pass.", code=1)
    if result.exited != 0:
        raise Exit(f"Tests failed (pytest exit code {result.exited}) after {elapsed:.0f}s.", code=result.exited)
    say(f"All tests passed in {elapsed:.0f}s")


@task(
    help={
        "devices": "devices to build",
        "interfaces": "interfaces per device",
        "only": "report, workflows, hooks or for_each",
    }
)
@friendly
def benchmark(context, devices=2000, interfaces=48, only=""):
    """Run the benchmarks under benchmarks/ and print times and ratios."""
    _ensure_backing_services()
    env = {**ENV, "JOBFLOW_TEST_DB_TEMPLATE": services.TEMPLATE_DB, "JOBFLOW_TESTING": "1"}
    argv = [_venv_bin("python"), str(ROOT / "benchmarks" / "run.py"), "--devices", str(devices)]
    argv += ["--interfaces", str(interfaces)]
    if only:
        argv += ["--only", only]
    context.run(" ".join(argv), env=env)


@task
def clean(context):
    """Remove build outputs (keeps the virtualenv and service data)."""
    context.run(f"rm -rf {ROOT / 'build'} {ROOT / 'dist'} {ROOT / 'site'} {distributions.DOCS_SITE} {RUN / 'celery_*'}")
