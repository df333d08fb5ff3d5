"""The wheel installs into a clean Nautobot and works there: pages, docs, Jobs enabled, a workflow runs.

The wheel is built from this working tree by `invoke build`'s function (docs, sdist, wheel from the sdist), then
installed with pip into a fresh virtualenv together with Nautobot from the package index. The config is the one
`nautobot-server init` writes plus the app in PLUGINS; settings come from the environment variables of Nautobot's
install guide. `post_upgrade` runs against a database cloned from the test template (Nautobot's migrations; the
app's are applied here), then uWSGI (`nautobot-server start`, as Nautobot's install guide runs it) and a Celery
worker start. Nothing of the development environment is used: no editable install, no PYTHONPATH, no dev config.

Run alone with `pytest -m install` (2.5 to 4 minutes on a busy 2-core machine); it prints each phase's time and the
Nautobot version it installed (docs/admin/install.md's compatibility table lists the versions it passed with).
"""

import re
import signal
import time
from contextlib import contextmanager

import pytest
import requests

from tests.fixtures_install import ADMIN, CleanInstall, distributions

pytestmark = [pytest.mark.install, pytest.mark.integration]

APP_PAGES = [
    "/plugins/jobflow/",
    "/plugins/jobflow/workflows/",
    "/plugins/jobflow/workflow-runs/",
    "/plugins/jobflow/approval-policies/",
    "/plugins/jobflow/launch-requests/",
    "/plugins/jobflow/hook-rules/",
]
APP_JOBS = {
    "Run Workflow",
    "Reconcile Workflow Runs",
    "Interface Utilization Report",
    "Interface Utilization Report (job button)",
}
API = "/api/plugins/jobflow"
FINAL_RUN_STATES = {"succeeded", "failed", "canceled"}


class Phases:
    """Times of the test's phases, printed at the end."""

    def __init__(self):
        self.times = []

    @contextmanager
    def __call__(self, name):
        started = time.monotonic()
        try:
            yield
        finally:
            self.times.append((name, time.monotonic() - started))

    def report(self, nautobot_version):
        lines = [f"clean install: Nautobot {nautobot_version or '(not installed)'} from the package index"]
        lines += [f"  {seconds:6.1f}s  {name}" for name, seconds in self.times]
        lines.append(f"  {sum(seconds for _name, seconds in self.times):6.1f}s  total")
        return "\n".join(lines)


@pytest.fixture
def sigterm_raises():
    """A SIGTERM to pytest raises SystemExit in the test, so its clean-up still stops what it started."""

    def terminate(signum, frame):
        raise SystemExit(f"pytest got signal {signum} during the clean-install test")

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.usefixtures("sigterm_raises")
def test_wheel_installs_and_works_in_a_clean_nautobot(capsys):
    install = CleanInstall()
    phases = Phases()
    version = None
    try:
        with phases("build: docs (mkdocs --strict), sdist, wheel"):
            wheel = install.build_wheel()
        assert distributions.DOCS_INDEX in wheel.files, "the wheel carries the built documentation"

        with phases("fresh virtualenv, pip install the wheel (Nautobot from the index)"):
            version = install.install(wheel.path)
        where = install.python("import nautobot_jobflow; print(nautobot_jobflow.__file__)")
        assert where.startswith(str(install.venv)), f"the app is imported from the wheel's install, not {where}"

        with phases("nautobot-server init, database from the template, post_upgrade"):
            install.configure()
            install.start_redis()
            install.create_database()
            upgrade_log = install.nautobot("post_upgrade", "post_upgrade")
        assert "Applying nautobot_jobflow.0001" in upgrade_log, "post_upgrade applied the app's migrations"

        with phases("start uWSGI (nautobot-server start) and a Celery worker; createsuperuser meanwhile"):
            install.start_services()
            install.nautobot(
                "createsuperuser", "createsuperuser", "--noinput", "--username", ADMIN, "--email", "admin@example.com"
            )
            install.wait_until_ready()

        with phases("the app's pages and its documentation"):
            browser = install.browser()
            check_pages(install, browser)
            check_docs(install, browser)

        with phases("the app's Jobs are enabled; a workflow runs on the worker"):
            api = install.api()
            jobs = check_jobs(install, api)
            run = run_workflow(install, api, jobs["Reconcile Workflow Runs"])
            for page in (
                f"/plugins/jobflow/workflow-runs/{run['id']}/",
                f"/plugins/jobflow/workflows/{run['workflow']}/",
            ):
                assert browser.get(install.url + page, timeout=30).status_code == 200, page
    finally:
        try:
            try:
                with phases("stop the web server, the worker and Redis"):
                    install.stop_processes()
            finally:
                with phases("drop the database, remove the folder"):
                    install.drop_database()
                    install.remove()
        finally:
            with capsys.disabled():
                print("\n" + phases.report(version), flush=True)


def check_pages(install, browser):
    """Each list page of the app answers 200 to a logged-in user, and the installed-apps page links the docs."""
    for page in APP_PAGES:
        answer = browser.get(install.url + page, timeout=60)
        assert answer.status_code == 200, f"{page}: HTTP {answer.status_code}\n{install.log_tails()}"
        assert "/login/" not in answer.url, f"{page} sent the logged-in user to the login page"
    script = browser.get(f"{install.url}/static/nautobot_jobflow/js/target_inputs.js", timeout=30)
    assert script.status_code == 200, "the app's static files are packaged and collected by post_upgrade"
    detail = browser.get(f"{install.url}/apps/installed-apps/nautobot_jobflow/", timeout=30)
    assert detail.status_code == 200
    assert 'href="/plugins/jobflow/docs/"' in detail.text, "the installed-apps page has the Documentation link"


def check_docs(install, browser):
    """The Documentation link leads to the packaged site; its pages, links and assets answer; login required."""
    index = browser.get(f"{install.url}/plugins/jobflow/docs/", timeout=30)
    assert index.status_code == 200, f"docs: HTTP {index.status_code} at {index.url}"
    assert index.url == f"{install.url}/docs/jobflow/index.html", index.url
    assert "<title>nautobot-jobflow</title>" in index.text
    stylesheet = re.search(r'href="(assets/stylesheets/main\.[^"]+\.css)"', index.text)
    assert stylesheet, "the index page links mkdocs-material's stylesheet"
    css = browser.get(f"{install.url}/docs/jobflow/{stylesheet.group(1)}", timeout=30)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert 'href="admin/install.html"' in index.text, "pages are linked as files (use_directory_urls: false)"
    page = browser.get(f"{install.url}/docs/jobflow/admin/install.html", timeout=30)
    assert page.status_code == 200 and "Compatibility" in page.text
    home = browser.get(f"{install.url}/plugins/jobflow/", timeout=30)
    started = re.search(r'href="([^"]+)">Getting started<', home.text)
    assert started, "the app's home page links the Getting started page"
    assert browser.get(install.url + started.group(1), timeout=30).status_code == 200, started.group(1)
    anonymous = install.url + "/docs/jobflow/index.html"
    answer = requests.get(anonymous, timeout=30, allow_redirects=False)
    assert answer.status_code == 302 and "/login/" in answer.headers["Location"], "the docs need a login"


def check_jobs(install, api):
    """post_upgrade installed and enabled every Job of the app; their ids by name."""
    answer = api.get(f"{install.url}/api/extras/jobs/", params={"module_name__isw": "nautobot_jobflow", "limit": 0})
    assert answer.status_code == 200, answer.text[:500]
    jobs = {job["name"]: job for job in answer.json()["results"]}
    assert set(jobs) >= APP_JOBS, f"the app's Jobs are installed: {sorted(jobs)}"
    disabled = sorted(name for name, job in jobs.items() if not (job["enabled"] and job["installed"]))
    assert not disabled, f"Jobs not enabled after post_upgrade: {disabled}"
    return {name: job["id"] for name, job in jobs.items()}


def run_workflow(install, api, job_id, timeout=120):
    """A one-step workflow of the app's reconciler Job, made and run through the REST API; the finished run."""
    workflow = api.post(f"{install.url}{API}/workflows/", json={"name": "clean-install-check"}, timeout=30)
    assert workflow.status_code == 201, workflow.text[:500]
    workflow_id = workflow.json()["id"]
    step = api.post(
        f"{install.url}{API}/workflow-steps/",
        json={"workflow": workflow_id, "name": "reconcile", "job": job_id},  # no inputs: the Job's defaults
        timeout=30,
    )
    assert step.status_code == 201, step.text[:500]
    launched = api.post(f"{install.url}{API}/workflows/{workflow_id}/run/", json={"inputs": {}}, timeout=30)
    assert launched.status_code == 201, launched.text[:500]
    run_url = f"{install.url}{API}/workflow-runs/{launched.json()['id']}/"
    deadline = time.monotonic() + timeout
    run = launched.json()
    while run["status"] not in FINAL_RUN_STATES:
        assert time.monotonic() < deadline, f"run still {run['status']} after {timeout}s:\n{install.log_tails()}"
        time.sleep(1)
        run = api.get(run_url, timeout=30).json()
    steps = api.get(f"{install.url}{API}/workflow-step-runs/", params={"run": run["id"]}, timeout=30).json()
    errors = [run["error"], *(f"{step['step_name']}: {step['status']} {step['error']}" for step in steps["results"])]
    assert run["status"] == "succeeded", f"run {run['status']}: {errors}\n{install.log_tails()}"
    assert [step["status"] for step in steps["results"]] == ["succeeded"], steps
    job_result = steps["results"][0]["job_result"]
    job_result_id = job_result["id"] if isinstance(job_result, dict) else job_result
    result = api.get(f"{install.url}/api/extras/job-results/{job_result_id}/", timeout=30).json()
    status = result["status"]["value"] if isinstance(result["status"], dict) else result["status"]
    assert status == "SUCCESS", result
    return {"id": run["id"], "workflow": workflow_id}
