"""Debounce and batch windows, held in the database (``HookWindow``), never in a process.

The first matching event of a group opens a window (one open row per rule and group, enforced by a partial unique
constraint) that closes ``debounce_seconds`` later; later events of the group join it. A Celery task scheduled with
that countdown fires the window exactly once (the row is locked and marked fired in the same transaction as the
launch). If that task is lost with its worker, the sweep (run after every drain and by the reconciler Job) fires
overdue windows. A group is one object (debounce) or one user's changes (batch: one run needs one user).
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from nautobot_jobflow.choices import HookWindowStatusChoices
from nautobot_jobflow.hooks.context import batch_context, single_context
from nautobot_jobflow.hooks.fire import fire
from nautobot_jobflow.models import HookRule, HookWindow

logger = logging.getLogger(__name__)
OPEN = HookWindowStatusChoices.OPEN
OVERDUE_GRACE = timedelta(seconds=30)
ATTEMPTS = 3


def group_key(rule, event, user):
    """One window per object (debounce) or per user (batch)."""
    if rule.batch:
        return f"batch:{user.pk if user else event.user_name}"
    return f"object:{event.object_type}:{event.object_id}"


def join_windows(items, users):
    """Add matched events (event, rule, depth) to their open windows, opening (and scheduling) new ones."""
    groups = {}
    for event, rule, depth in items:
        user = users.get(event.user_name)
        group = groups.setdefault((rule.pk, group_key(rule, event, user)), {"rule": rule, "events": [], "depth": 0})
        group["events"].append(event)
        group["depth"] = max(group["depth"], depth)
        group["user"] = user
    for _ in range(ATTEMPTS):
        if not groups:
            return
        groups = _join(groups)
    logger.error("Hook windows: %d group(s) could not join a window", len(groups))


def _join(groups):
    """One attempt; returns the groups whose window closed under us (to retry)."""
    now = timezone.now()
    to_schedule = []
    with transaction.atomic():
        HookWindow.objects.bulk_create(
            [
                HookWindow(
                    rule_id=rule_pk,
                    key=key,
                    opened=now,
                    fires_at=now + timedelta(seconds=group["rule"].debounce_seconds),
                )
                for (rule_pk, key), group in groups.items()
            ],
            ignore_conflicts=True,
        )
        lookup = Q()
        for rule_pk, key in groups:
            lookup |= Q(rule_id=rule_pk, key=key)
        windows = list(HookWindow.objects.select_for_update().filter(lookup, status=OPEN))
        for window in windows:
            group = groups.pop((window.rule_id, window.key))
            if window.event_count == 0:
                to_schedule.append(window)
            _merge(window, group)
        HookWindow.objects.bulk_update(windows, ["events", "event_count", "user", "depth"])
    for window in to_schedule:
        schedule_fire(window, now)
    return groups


def _merge(window, group):
    """Latest change per object; a change's ``before`` stays the state before the window's first change."""
    changes = {(change["object_type"], change["object_id"]): change for change in window.events}
    for event in group["events"]:
        change = event.as_change()
        previous = changes.pop((change["object_type"], change["object_id"]), None)
        if previous is not None:
            change["before"] = previous["before"]
            if previous["action"] == "create" and change["action"] == "update":
                change["action"] = "create"
        changes[(change["object_type"], change["object_id"])] = change
    window.events = list(changes.values())
    window.event_count += len(group["events"])
    window.depth = max(window.depth, group["depth"])
    if group["user"] is not None:
        window.user = group["user"]


def schedule_fire(window, now=None):
    """Fire the window when it closes (after commit)."""
    from nautobot_jobflow.hooks.tasks import fire_hook_window

    countdown = max(0.0, (window.fires_at - (now or timezone.now())).total_seconds())
    window_id = str(window.pk)
    transaction.on_commit(lambda: fire_hook_window.apply_async(args=[window_id], countdown=countdown))


def fire_window(window_id):
    """Close the window and launch once; safe to call any number of times, from any worker."""
    with transaction.atomic():
        window = HookWindow.objects.select_for_update().filter(pk=window_id, status=OPEN).first()
        if window is None:
            return None
        now = timezone.now()
        if window.fires_at > now + timedelta(seconds=1):  # woke early (clock skew, manual call): later
            schedule_fire(window, now)
            return None
        window.status = HookWindowStatusChoices.FIRED
        window.fired = now
        window.save(update_fields=["status", "fired"])
        rule = HookRule.objects.select_related("job", "workflow").get(pk=window.rule_id)
        return fire(rule, window_context(rule, window), window.user, depth=window.depth, window=window,
                    **window_firing_fields(rule, window))  # fmt: skip


def window_context(rule, window):
    """Template context of a closing window."""
    if rule.batch:
        return batch_context(rule, window.events)
    return single_context(rule, window.events[-1])


def window_firing_fields(rule, window):
    """What the firing records about the window's objects."""
    from nautobot_jobflow.hooks.dispatch import content_type

    fields = {"object_count": len(window.events)}
    if rule.batch:
        fields.update(action="batch", object_repr=f"{len(window.events)} object(s), {window.event_count} change(s)")
        return fields
    change = window.events[-1]
    app_label, model = change["object_type"].split(".", 1)
    fields.update(
        action=change["action"],
        changed_object_type=content_type(app_label, model),
        changed_object_id=change["object_id"] or None,
        object_repr=change["object_repr"],
        request_id=change["request_id"],
    )
    if window.event_count > 1:
        fields["reason"] = f"Debounced {window.event_count} changes into one run."
    return fields


def sweep_overdue(grace=OVERDUE_GRACE):
    """Fire windows whose task was lost (worker restarted or killed). Returns how many fired."""
    cutoff = timezone.now() - grace
    fired = 0
    for window_id in list(HookWindow.objects.filter(status=OPEN, fires_at__lte=cutoff).values_list("pk", flat=True)):
        try:
            if fire_window(window_id) is not None:
                fired += 1
        except Exception:
            logger.exception("Could not fire hook window %s", window_id)
    return fired
