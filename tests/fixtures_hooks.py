"""Builders for hook rule tests: rules, devices changed the way people change them, waiting for firings."""

import itertools
import uuid

from django.contrib.contenttypes.models import ContentType
from nautobot.dcim.models import Device
from nautobot.extras.context_managers import web_request_context

from nautobot_jobflow.models import HookFiring, HookRule, Workflow
from nautobot_jobflow.models.hook_rule_checks import validate_for_content_types
from tests.fixtures import get_test_job, wait_for
from tests.fixtures_dcim import create_devices, create_location_tree, role

_names = itertools.count(1)


def content_type(label):
    """ContentType from "app_label.model"."""
    app_label, model = label.split(".")
    return ContentType.objects.get_by_natural_key(app_label, model)


def create_rule(target="Echo", content_types=("dcim.device",), actions=("update",), name=None, **fields):
    """A validated, saved HookRule. ``target``: a test Job class name or a Workflow."""
    rule = HookRule(name=name or f"rule-{next(_names)}-{uuid.uuid4().hex[:6]}", **fields)
    if isinstance(target, Workflow):
        rule.workflow = target
    else:
        rule.job = get_test_job(target)
    for action in actions:
        setattr(rule, f"type_{action}", True)
    cts = [content_type(label) for label in content_types]
    rule.full_clean()
    validate_for_content_types(rule, cts)
    rule.save()
    rule.content_types.set(cts)
    return rule


def create_test_devices(count=1, prefix="hk"):
    """``count`` devices at a fresh location (bulk-created, so no change log yet)."""
    tree = create_location_tree(prefix=f"{prefix}{next(_names)}")
    return create_devices(count, tree["site_a"], role("leaf"), prefix=prefix)


def change(user, function):
    """Run ``function`` inside a change context of ``user``: changes are logged and published as in a request."""
    with web_request_context(user):
        return function()


def update_device(device, user, **fields):
    """Change fields of a device as ``user``; returns it."""

    def apply():
        obj = Device.objects.get(pk=device.pk)
        for name, value in fields.items():
            setattr(obj, name, value)
        obj.validated_save()
        return obj

    return change(user, apply)


def firings(rule, **filters):
    """The rule's firings, oldest first."""
    return list(HookFiring.objects.filter(rule=rule, **filters).order_by("created"))


def wait_for_firings(rule, count, timeout=60, **filters):
    """Wait until the rule has at least ``count`` firings (matching ``filters``); returns them."""
    return wait_for(
        lambda: (found := firings(rule, **filters)) and len(found) >= count and found,
        timeout=timeout,
        message=f"{count} firing(s) of {rule}",
    )


def clear_hook_queue():
    """Empty the event queue, the processing list and the drain flag (left by an earlier test)."""
    from nautobot_jobflow.hooks import queue

    queue.connection().delete(queue.EVENTS_KEY, queue.PROCESSING_KEY, queue.ATTEMPTS_KEY, queue.DRAIN_FLAG_KEY)
