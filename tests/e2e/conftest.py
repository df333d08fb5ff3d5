"""Browser tests: Chromium (Debian's package) driven by Playwright against a live Nautobot with a real worker.

The server is pytest-django's ``live_server``: Nautobot's WSGI application in a thread of the test process, on the
test database, serving static files through Django's ``StaticFilesHandler`` (the same finders as the development
server's ``runserver --insecure``). Runs started from the browser go through Redis to the session's real Celery
worker (``celery_worker`` in tests/conftest.py), which works on the same test database. ``live_server`` makes every
test transactional: data a test creates is committed, so the server thread and the worker see it, and every table
is emptied after the test (the ``nautobot`` fixture puts statuses and Job rows back first).

Fixtures for flows (add new flows as ``test_<flow>.py`` files in this folder):

- ``nautobot``: the live server with the worker, as a :class:`pages.Site` (``site.url(path)``).
- ``make_user(username, superuser=False, permissions=())``: a user with a password, optionally with object
  permissions (``"dcim.view_device"``, ...). Two users log in side by side with two ``login`` calls, which an
  approval flow (request as one user, approve as another) needs.
- ``login(user, password=PASSWORD)``: a fresh browser context logged in through the login form; returns a
  :class:`pages.Browser`. Users made by ``make_user`` have the e2e password; the demo's users pass their own.
- ``screenshot(browser, name)``: saves a full-page PNG under ``.dev/screenshots/<test name>/``.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.e2e import pages

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.getenv("JOBFLOW_CHROMIUM", "/usr/bin/chromium"))
# --disable-background-networking and friends: without them Chromium keeps trying to reach Google services, and this
# closed network refuses those connections (slowly). Playwright itself gives every launch a fresh, temporary
# user-data-dir (it refuses --user-data-dir in launch()).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = Path(os.getenv("JOBFLOW_SCREENSHOTS_DIR", ROOT / ".dev" / "screenshots"))
PASSWORD = "e2e-password-1"  # the throwaway password of throwaway test users

# Bind the live server to IPv4 loopback (the default "localhost" may resolve to ::1 first in Chromium).
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")


def pytest_collection_modifyitems(items):
    """Every test in this folder is an ``e2e`` test that needs the worker."""
    folder = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(folder):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.worker)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium per test module (each test gets its own context: cookies and storage are not shared).

    Playwright's sync API runs an asyncio loop (in a greenlet) on the main thread for as long as it is started, so
    Django's async-safety check would refuse the ORM calls of the test itself and of pytest-django's database
    teardown. DJANGO_ALLOW_ASYNC_UNSAFE is set for exactly that long: the tests create data and read it back between
    browser actions, never concurrently with them, and the live server answers the browser from its own threads.
    """
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing. `invoke tests` installs Debian's `chromium` package; or run "
            "`apt-get install -y chromium` (Playwright's own browser download cannot work here)."
        )
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def nautobot(chromium, live_server, celery_worker):
    """The live Nautobot (statuses and Job rows restored after the previous test's truncation), as a pages.Site."""
    from django.apps import apps
    from nautobot.extras import management

    from tests.fixtures import refresh_jobs

    management.populate_status_choices(apps, None, verbosity=0)
    refresh_jobs()
    return pages.Site(live_server.url)


@pytest.fixture
def make_user(nautobot):
    """Create a user with the e2e password: ``make_user("alice", superuser=True)`` or with permissions."""
    from django.contrib.auth import get_user_model
    from nautobot.core.utils import permissions as permission_utils
    from nautobot.users.models import ObjectPermission

    def make(username, superuser=False, permissions=()):
        user = get_user_model().objects.create_user(
            username=username, password=PASSWORD, is_superuser=superuser, is_staff=superuser
        )
        for name in permissions:
            content_type, action = permission_utils.resolve_permission_ct(name)
            permission = ObjectPermission.objects.create(name=f"{username}: {name}", actions=[action])
            permission.users.add(user)
            permission.object_types.add(content_type)
        return user

    return make


@pytest.fixture
def login(request, chromium, nautobot, screenshot):
    """``login(user, password=PASSWORD)``: a new browser context, logged in through Nautobot's login form.

    When the test fails, each of its browsers leaves a ``failure-<user>`` screenshot and HTML of the page it was on.
    """
    contexts = []
    browsers = []

    def open_as(user, password=PASSWORD):
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(20_000)
        contexts.append(context)
        browser = pages.Browser(context.new_page(), nautobot)
        browsers.append((user.username, browser))
        pages.LoginPage(browser).log_in(user.username, password)
        return browser

    yield open_as
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        for username, browser in browsers:
            path = screenshot(browser, f"failure-{username}")
            path.with_suffix(".html").write_text(browser.page.content())
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(request):
    """``screenshot(browser, "name")``: a full-page PNG in .dev/screenshots/<test>/NN-name.png (git-ignored)."""
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 100))

    def take(browser, name):
        path = folder / f"{next(counter):02d}-{name}.png"
        browser.page.screenshot(path=str(path), full_page=True)
        return path

    return take
