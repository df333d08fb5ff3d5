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
from nautobot.core.celery import app

from nautobot_jobflow.choices import HookWindowStatusChoices
from nautobot_jobflow.hooks.context import batch_context, content_type, single_context
from nautobot_jobflow.hooks.fire import fire
from nautobot_jobflow.models import HookRule, HookWindow, HookWindowEvent

logger = logging.getLogger(__name__)
OPEN = HookWindowStatusChoices.OPEN
OVERDUE_GRACE = timedelta(seconds=30)
ATTEMPTS = 3
FIRE_WINDOW_TASK = "nautobot_jobflow.fire_hook_window"  # defined in nautobot_jobflow.tasks, sent by name


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
        rows = []
        for window in windows:
            group = groups.pop((window.rule_id, window.key))
            if window.event_count == 0:
                to_schedule.append(window)
            rows.extend(_event_rows(window, group, now))
            window.event_count += len(group["events"])
            window.depth = max(window.depth, group["depth"])
            if group["user"] is not None:
                window.user = group["user"]
        _add_earlier_counts(rows, [window for window in windows if window not in to_schedule])
        HookWindowEvent.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["window", "object_type", "object_id"],
            update_fields=["latest", "latest_action", "count", "last_seen"],
        )
        HookWindow.objects.bulk_update(windows, ["event_count", "user", "depth"])
    for window in to_schedule:
        schedule_fire(window, now)
    return groups


def _event_rows(window, group, now):
    """One HookWindowEvent per object of the group, its changes of this batch merged (one upsert row per object).

    A row that exists keeps its ``before``, first action and position (the upsert does not touch them).
    """
    rows = {}
    for index, event in enumerate(group["events"]):
        change = event.as_change()
        latest = {name: value for name, value in change.items() if name != "before"}
        row = rows.get((event.object_type, event.object_id))
        if row is None:
            rows[(event.object_type, event.object_id)] = HookWindowEvent(
                window=window,
                object_type=event.object_type,
                object_id=event.object_id,
                before=change["before"],
                latest=latest,
                first_action=event.action,
                latest_action=event.action,
                count=1,
                first_position=window.event_count + index,
                first_seen=now,
                last_seen=now,
            )
        else:
            row.latest, row.latest_action, row.count = latest, event.action, row.count + 1
    return list(rows.values())


def _add_earlier_counts(rows, windows):
    """Add the counts of objects already in the windows (one query; the windows are locked, so they hold)."""
    if not windows:
        return
    earlier = {
        (window_id, object_type, object_id): count
        for window_id, object_type, object_id, count in HookWindowEvent.objects.filter(
            window__in=windows, object_id__in={row.object_id for row in rows}
        ).values_list("window_id", "object_type", "object_id", "count")
    }
    for row in rows:
        row.count += earlier.get((row.window_id, row.object_type, row.object_id), 0)


def schedule_fire(window, now=None):
    """Fire the window when it closes (after commit)."""
    countdown = max(0.0, (window.fires_at - (now or timezone.now())).total_seconds())
    window_id = str(window.pk)
    transaction.on_commit(lambda: app.send_task(FIRE_WINDOW_TASK, args=[window_id], countdown=countdown))


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
        changes = window.changes()
        return fire(rule, window_context(rule, changes), window.user, depth=window.depth, window=window,
                    **window_firing_fields(rule, window, changes))  # fmt: skip


def window_context(rule, changes):
    """Template context of a closing window, from its changes (``HookWindow.changes()``)."""
    if rule.batch:
        return batch_context(rule, changes)
    return single_context(rule, changes[-1])


def window_firing_fields(rule, window, changes):
    """What the firing records about the window's objects."""
    fields = {"object_count": len(changes)}
    if rule.batch:
        fields.update(action="batch", object_repr=f"{len(changes)} object(s), {window.event_count} change(s)")
        return fields
    change = changes[-1]
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
