"""Evaluate queued change events against the rules, then fire or join a window.

Conditions, loop protection and object filters, in that order. Runs in a Celery worker (``drain``), a batch of
events at a time, with a fixed number of queries per batch (users, loop depths, one object-filter query per rule
and model), not per event.
"""

import logging
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType

from nautobot_jobflow.choices import HookFiringStatusChoices
from nautobot_jobflow.hooks import queue
from nautobot_jobflow.hooks.context import ChangeEvent, content_type, single_context
from nautobot_jobflow.hooks.depth import blocked_by_loop_protection, depths_of_job_results
from nautobot_jobflow.hooks.fire import fire, load_target, record
from nautobot_jobflow.hooks.registry import REGISTRY
from nautobot_jobflow.hooks.windows import join_windows, sweep_overdue
from nautobot_jobflow.lib.conditions import evaluate

logger = logging.getLogger(__name__)


def drain():
    """Process queued events until the queue is empty; then fire overdue windows. Returns events processed.

    Returns 0 at once when another drain holds the flag. A batch is deleted from the processing list only after it
    was evaluated; one that raised is tried again at once, and dropped (logged) after ``queue.MAX_ATTEMPTS`` tries,
    counting the drains that died with it.
    """
    token = queue.claim_drain()
    if token is None:
        return 0
    processed = 0
    while True:
        taken = queue.take_batch(token)
        if taken is None:
            logger.warning(
                "Hook rules: this drain lost its flag (a batch ran past %ds); stopping", queue.DRAIN_FLAG_SECONDS
            )
            break
        records, attempt = taken
        if not records:
            if queue.release_or_continue(token):
                continue
            break
        if attempt > queue.MAX_ATTEMPTS:
            logger.error("Hook rules: dropping a batch of %d events after %d attempts", len(records), attempt - 1)
        else:
            try:
                process(records)
            except Exception:
                logger.exception("Hook rules: a batch of %d events failed (attempt %d)", len(records), attempt)
                continue
            processed += len(records)
        if not queue.batch_done(token):
            break
    sweep_overdue()
    return processed


def process(records):
    """Evaluate one batch of queued records."""
    registry = REGISTRY.current()
    matches = []
    for raw in records:
        rules = registry.rules_for(raw["topic"])
        if not rules:
            continue
        event = ChangeEvent.from_record(raw)
        view = event.evaluation_view()
        matches.extend((event, rule) for rule in rules if evaluate(rule.conditions, rule.match_any, view)[0])
    if not matches:
        return
    users = {
        user.username: user
        for user in get_user_model().objects.filter(username__in={event.user_name for event, _ in matches})
    }
    depths = depths_of_job_results({event.task_id for event, _ in matches if event.task_id})
    allowed, blocked = [], defaultdict(list)
    for event, rule in matches:
        depth = depths.get(str(event.task_id), 0) if event.task_id else 0
        if blocked_by_loop_protection(depth, rule.allow_one_level):
            blocked[(rule.pk, event.request_id, depth)].append((event, rule))
        else:
            allowed.append((event, rule, depth))
    _record_loop_skips(blocked, users)
    allowed = _apply_object_filters(allowed)
    immediate = [item for item in allowed if not item[1].windowed]
    windowed = [item for item in allowed if item[1].windowed]
    targets = {}
    for event, rule, depth in immediate:
        key = (rule.job_id, rule.workflow_id)
        if key not in targets:
            targets[key] = load_target(rule)
        fire(rule, single_context(rule, event.as_change()), users.get(event.user_name), depth=depth,
             target=targets[key], **event_firing_fields(event))  # fmt: skip
    if windowed:
        join_windows(windowed, users)


def event_firing_fields(event):
    """What a firing records about the change that caused it."""
    return {
        "action": event.action,
        "changed_object_type": content_type(event.app_label, event.model),
        "changed_object_id": event.object_id or None,
        "object_repr": event.object_repr,
        "request_id": event.request_id,
    }


def _record_loop_skips(blocked, users):
    """One "skipped" firing per rule and change request that loop protection stopped."""
    for (_, _, depth), pairs in blocked.items():
        first, rule = pairs[0]
        events = [event for event, _ in pairs]
        fields = event_firing_fields(first)
        if len(events) > 1:
            fields["object_repr"] = f"{len(events)} object(s)"
        reason = f"Loop protection: the change was made by a run that hook rules started (depth {depth}); " + (
            "only one level is allowed." if rule.allow_one_level else "enable 'allow one level' to let it fire."
        )
        record(rule, HookFiringStatusChoices.SKIPPED, reason, depth=depth, user=users.get(first.user_name),
               object_count=len(events), **fields)  # fmt: skip


def _apply_object_filters(items):
    """Drop (event, rule, depth) whose object does not match the rule's filter: one query per rule and model.

    A deleted object is gone from the database, so a delete is matched by conditions only.
    """
    from nautobot.core.utils.lookup import get_filterset_for_model

    wanted = defaultdict(set)
    for event, rule, _ in items:
        if rule.object_filter and event.action != "delete":
            wanted[(rule.pk, event.app_label, event.model)].add(event.object_id)
    if not wanted:
        return items
    rules = {rule.pk: rule for _, rule, _ in items}
    matching = {}
    for (rule_pk, app_label, model_name), object_ids in wanted.items():
        model = ContentType.objects.get_by_natural_key(app_label, model_name).model_class()
        filterset = get_filterset_for_model(model)(
            rules[rule_pk].object_filter, model.objects.filter(pk__in=object_ids)
        )
        if not filterset.is_valid():
            logger.error("Hook rule %s: object filter no longer valid: %s", rules[rule_pk].name, filterset.errors)
            matching[(rule_pk, app_label, model_name)] = set()
            continue
        matching[(rule_pk, app_label, model_name)] = {str(pk) for pk in filterset.qs.values_list("pk", flat=True)}
    return [
        (event, rule, depth)
        for event, rule, depth in items
        if not rule.object_filter
        or event.action == "delete"
        or event.object_id in matching[(rule.pk, event.app_label, event.model)]
    ]
