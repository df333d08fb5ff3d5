"""The app's settings, read through one module (``PLUGINS_CONFIG["nautobot_jobflow"]`` or Constance).

Every key has its default in ``NautobotJobflowConfig.default_settings`` (``DEFAULTS`` here) and is documented on the
admin guide's configuration page. Values are read when used, never at import time.
"""

from django.conf import settings
from nautobot.apps.config import get_app_settings_or_config

APP_NAME = "nautobot_jobflow"

DEFAULTS = {
    # A superuser may approve their own launch requests (a policy's allow_self_approval applies to everyone).
    "superuser_self_approval": False,
    # Redis URL of the hook rules' event queue; empty: the Redis of Celery's broker.
    "hook_queue_redis_url": "",
    # The most items one for-each step may run; a longer list fails the step with a message.
    "for_each_max_items": 1000,
}


def get(name):
    """One setting's value, its default when the administrator set none."""
    if name not in DEFAULTS:
        raise KeyError(f"nautobot-jobflow has no setting {name!r}")
    if name not in settings.PLUGINS_CONFIG.get(APP_NAME, {}):
        return DEFAULTS[name]
    return get_app_settings_or_config(APP_NAME, name, fallback=DEFAULTS[name])


def superuser_self_approval():
    """True when superusers may approve their own requests."""
    return bool(get("superuser_self_approval"))


def for_each_max_items():
    """The most items a for-each step may have."""
    return int(get("for_each_max_items"))


def hook_queue_redis_url():
    """The Redis URL for the hook event queue, or "" for the broker's."""
    return get("hook_queue_redis_url") or ""
