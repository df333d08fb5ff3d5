"""Nautobot configuration for the nautobot-jobflow development environment and test suite.

Every value comes from environment variables. ``development/dev.env`` holds the non-secret defaults and
``development/local.env`` (git-ignored, optional) local overrides; variables already set in the
environment win over both. They are loaded *before* Nautobot's settings are imported because those
read the environment at import time.
"""

import os
import sys
from pathlib import Path

DEVELOPMENT_DIR = Path(__file__).resolve().parent
CHECKOUT_DIR = DEVELOPMENT_DIR.parent
STATE_DIR = Path(os.getenv("JOBFLOW_STATE_DIR", CHECKOUT_DIR / ".dev"))


def _load_env_file(path):
    """Set each ``KEY=value`` of an env file into os.environ unless the variable is already set."""
    if not path.is_file():
        return
    for raw_line in path.read_text().splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        os.environ.setdefault(key.strip(), value.strip())


_load_env_file(DEVELOPMENT_DIR / "local.env")
_load_env_file(DEVELOPMENT_DIR / "dev.env")

# Running under pytest (or `nautobot-server test`) switches on test-only settings below.
TESTING_JOBFLOW = "pytest" in sys.modules or "test" in sys.argv or os.getenv("JOBFLOW_TESTING") == "1"

if TESTING_JOBFLOW:
    # Tests use their own Redis databases so that a running `invoke start` worker never picks up a test's
    # task (it would look for the JobResult in the development database). One number each for the broker
    # and the cache; set JOBFLOW_TEST_REDIS_DB to run two suites side by side.
    _test_redis_db = int(os.getenv("JOBFLOW_TEST_REDIS_DB", "2"))
    # JOBFLOW_TEST_BROKER_URL puts the broker alone on another Redis (fault tests restart that one).
    os.environ["NAUTOBOT_CELERY_BROKER_URL"] = os.getenv("JOBFLOW_TEST_BROKER_URL") or (
        f"redis://{os.environ['NAUTOBOT_REDIS_HOST']}:{os.environ['NAUTOBOT_REDIS_PORT']}/{_test_redis_db}"
    )

os.environ.setdefault("NAUTOBOT_ROOT", str(STATE_DIR / "nautobot_root"))

# `nautobot-server` imports nautobot.core.settings before it reads this file, so its values were computed from
# the environment as it was then: reload it now that the env files are applied.
import importlib  # noqa: E402

import nautobot.core.settings  # noqa: E402

importlib.reload(nautobot.core.settings)

from nautobot.core.settings import *  # noqa: E402
from nautobot.core.settings_funcs import parse_redis_connection  # noqa: E402

# A development secret: NAUTOBOT_SECRET_KEY wins; otherwise one is generated once and kept in the state folder.
SECRET_KEY = os.getenv("NAUTOBOT_SECRET_KEY", "")
if not SECRET_KEY:
    _secret_file = STATE_DIR / "secret_key"
    if not _secret_file.exists():
        import secrets

        _secret_file.parent.mkdir(parents=True, exist_ok=True)
        _secret_file.write_text(secrets.token_urlsafe(50))
    SECRET_KEY = _secret_file.read_text().strip()

ALLOWED_HOSTS = os.getenv("NAUTOBOT_ALLOWED_HOSTS", "*").split(" ")

# The demo Jobs (`invoke demo-data` builds example workflows on them) are the development environment's JOBS_ROOT,
# unless NAUTOBOT_JOBS_ROOT names another directory.
DEMO_JOBS_DIR = DEVELOPMENT_DIR / "jobs"
if not os.getenv("NAUTOBOT_JOBS_ROOT"):
    JOBS_ROOT = str(DEMO_JOBS_DIR)


def _assemble_jobs_root(*sources):
    """One directory holding a copy of every module of ``sources`` (test mode; Nautobot loads one JOBS_ROOT).

    Copies, not symlinks: Nautobot refuses a JOBS_ROOT module whose real path lies outside JOBS_ROOT. The folder is
    per checkout and refreshed by every process that loads these settings (a file is rewritten only when it
    differs, atomically), so the test process and its Celery workers load the same, current code.
    """
    import hashlib
    import shutil

    target = STATE_DIR / "run" / f"test_jobs_root-{hashlib.sha1(str(CHECKOUT_DIR).encode()).hexdigest()[:10]}"
    target.mkdir(parents=True, exist_ok=True)
    wanted = {}
    for source in sources:
        for module in sorted(source.glob("*.py")):
            if module.name in wanted:
                raise RuntimeError(f"Jobs module {module.name} is in two jobs roots: {wanted[module.name]}, {module}")
            wanted[module.name] = module
    for name, module in wanted.items():
        copy = target / name
        if not copy.exists() or copy.read_bytes() != module.read_bytes():
            partial = target / f".{name}.{os.getpid()}"
            shutil.copyfile(module, partial)
            os.replace(partial, copy)
    for stale in target.glob("*.py"):
        if stale.name not in wanted:
            stale.unlink(missing_ok=True)
    return str(target)


# Celery health files live with the other service state, not in /tmp shared with other checkouts.
CELERY_BEAT_HEARTBEAT_FILE = str(STATE_DIR / "run" / "celery_beat_heartbeat")
CELERY_WORKER_HEARTBEAT_FILE = str(STATE_DIR / "run" / "celery_worker_heartbeat")
CELERY_WORKER_READINESS_FILE = str(STATE_DIR / "run" / "celery_worker_ready")

# The shared template database holds Nautobot's own migrations only (JOBFLOW_WITHOUT_APP=1 while it is built), so
# a test database cloned from it always applies the app's migrations of the checkout being tested.
PLUGINS = [] if os.getenv("JOBFLOW_WITHOUT_APP") == "1" else ["nautobot_jobflow"]
PLUGINS_CONFIG = {"nautobot_jobflow": {}}

if TESTING_JOBFLOW:
    TESTING = True
    # Test databases are cloned from a template migrated once by `invoke tests`; cloning takes a second
    # where migrating from scratch takes minutes. The name can be changed to run two suites side by side.
    DATABASES["default"]["TEST"] = {"NAME": os.getenv("JOBFLOW_TEST_DB_NAME", "test_nautobot")}
    if os.getenv("JOBFLOW_TEST_DB_TEMPLATE"):
        DATABASES["default"]["TEST"]["TEMPLATE"] = os.environ["JOBFLOW_TEST_DB_TEMPLATE"]
    CACHES["default"]["LOCATION"] = parse_redis_connection(redis_database=_test_redis_db + 1)
    # Test mode loads the test-only Jobs (tests/jobs_root: no-ops, failures, sleeps) and the demo Jobs
    # (development/jobs, for the new-user test): Nautobot reads one JOBS_ROOT, so both are copied into one.
    JOBS_ROOT = _assemble_jobs_root(CHECKOUT_DIR / "tests" / "jobs_root", DEMO_JOBS_DIR)

    def _fresh_content_types(**kwargs):
        """Transactional tests flush the database between tests, giving content types new ids; the worker
        outlives them, so it forgets its cached ids before each task (test mode only)."""
        from django.contrib.contenttypes.models import ContentType

        ContentType.objects.clear_cache()

    from celery.signals import task_prerun

    task_prerun.connect(_fresh_content_types, weak=False)
    LOGGING = {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"console": {"level": "WARNING", "class": "logging.StreamHandler"}},
        "loggers": {"nautobot": {"handlers": ["console"], "level": "WARNING"}},
    }
