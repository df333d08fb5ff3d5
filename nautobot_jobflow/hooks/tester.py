"""The rule tester: would this rule fire for that change, which condition failed, and with what inputs.

It evaluates exactly as dispatch does (same conditions, same object filter, same template context) but launches
nothing. Input: a recorded ObjectChange, or a change described by hand (``action``, ``object_type``, ``before``,
``after``), or for a completion rule a ``completion`` mapping.
"""

from django.core.exceptions import ValidationError

from nautobot_jobflow.choices import HookEventSourceChoices
from nautobot_jobflow.hooks.context import batch_context, completion_context, single_context
from nautobot_jobflow.lib.conditions import ConditionProblem, change_event, evaluate, parse_conditions
from nautobot_jobflow.lib.sandbox import TemplateProblem, render_mapping

ACTIONS = ("create", "update", "delete")
UNKNOWN_BEFORE = (
    "The state before this update is unknown here: the change log holds no earlier record of the object (it was "
    "bulk-created, or older records were pruned by changelog retention). A live change carries that state, so "
    "conditions and templates that use it (changed, changed_from, changed_to, change.before) may judge differently "
    "for the live change than here, where it is taken as empty."
)


def change_from_object_change(object_change):
    """The ``change`` mapping of a recorded ObjectChange (snapshots computed as Nautobot computes them)."""
    snapshots = object_change.get_snapshots()
    content_type = object_change.changed_object_type
    return {
        "action": object_change.action,
        "object_type": f"{content_type.app_label}.{content_type.model}",
        "object_id": str(object_change.changed_object_id),
        "object_repr": object_change.object_repr,
        "before": snapshots["prechange"],
        "after": snapshots["postchange"],
        "user": object_change.user_name,
        "request_id": str(object_change.request_id),
        "time": str(object_change.time),
        "before_unknown": object_change.action == "update" and snapshots["prechange"] is None,
    }


def change_from_body(body):
    """A hand-written change: {"action", "object_type", "before", "after", "user"?}; ValidationError names the key."""
    if not isinstance(body, dict):
        raise ValidationError({"change": "A change is an object with action, object_type, before and after."})
    action = body.get("action")
    if action not in ACTIONS:
        raise ValidationError({"change": f"change.action must be one of {', '.join(ACTIONS)}."})
    object_type = body.get("object_type")
    if not isinstance(object_type, str) or object_type.count(".") != 1:
        raise ValidationError({"change": "change.object_type is app_label.model, e.g. dcim.device."})
    before, after = body.get("before"), body.get("after")
    for key, value in (("before", before), ("after", after)):
        if value is not None and not isinstance(value, dict):
            raise ValidationError({"change": f"change.{key} must be an object (or null)."})
    data = (before if action == "delete" else after) or {}
    return {
        "action": action,
        "object_type": object_type.lower(),
        "object_id": str(data.get("id", "")),
        "object_repr": str(data.get("display") or data.get("name") or data.get("id", "")),
        "before": before,
        "after": after,
        "user": str(body.get("user") or ""),
        "request_id": None,
        "time": "",
    }


def run_test(rule, change=None, completion=None):
    """The tester's verdict as a JSON-able dict (see docs/user/hook-rules.md, "Test a rule")."""
    verdict = {
        "would_fire": False,
        "problems": [],
        "notes": [],
        "conditions": [],
        "object_filter": None,
        "inputs": None,
    }
    try:
        conditions = parse_conditions(rule.conditions)
    except ConditionProblem as problem:
        verdict["problems"].append(str(problem))
        return verdict
    if rule.event_source == HookEventSourceChoices.OBJECT_CHANGE:
        if change is None:
            verdict["problems"].append("Give an object change to test an object-change rule.")
            return verdict
        view = change_event(change["action"], change["before"], change["after"])
        if change.get("before_unknown"):
            verdict["notes"].append(UNKNOWN_BEFORE)  # the verdict stands, but what depends on "before" may differ
        _check_watched(rule, change, verdict)
        context = batch_context(rule, [change]) if rule.batch else single_context(rule, change)
    else:
        if completion is None:
            verdict["problems"].append("Give a completion (job, workflow, status, ...) to test a completion rule.")
            return verdict
        view = {"action": "completion", "data": completion, "before": None, "after": None}
        context = completion_context(rule, completion)
    matched, details = evaluate(conditions, rule.match == "any", view)
    verdict["conditions"] = [
        {"index": condition.index, "condition": condition.describe(), "passed": passed, "actual": actual}
        for condition, passed, actual in details
    ]
    if not matched:
        failed = [row["condition"] for row in verdict["conditions"] if not row["passed"]]
        verdict["problems"].append(
            "No condition holds." if rule.match == "any" else f"Condition failed: {failed[-1] if failed else '?'}"
        )
    if change is not None and rule.object_filter:
        verdict["object_filter"] = _object_filter(rule, change)
        if verdict["object_filter"]["matched"] is False:
            verdict["problems"].append("The object does not match the object filter.")
    try:
        verdict["inputs"] = render_mapping(rule.input_template, context)
    except TemplateProblem as problem:
        verdict["problems"].append(f"Input template: {problem}")
    verdict["would_fire"] = not verdict["problems"]
    return verdict


def _check_watched(rule, change, verdict):
    if not getattr(rule, f"type_{change['action']}", False):
        verdict["problems"].append(f"The rule does not watch {change['action']} changes.")
    app_label, model = change["object_type"].split(".", 1)
    if rule.present_in_database and not rule.content_types.filter(app_label=app_label, model=model).exists():
        verdict["problems"].append(f"The rule does not watch {change['object_type']} objects.")


def _object_filter(rule, change):
    """Does the object (as it is now in the database) match the rule's filter? Deletes are not filtered."""
    from django.contrib.contenttypes.models import ContentType
    from nautobot.core.utils.lookup import get_filterset_for_model

    if change["action"] == "delete":
        return {"applied": False, "matched": None, "note": "Object filters do not apply to deletes."}
    app_label, model_name = change["object_type"].split(".", 1)
    model = ContentType.objects.get_by_natural_key(app_label, model_name).model_class()
    filterset = get_filterset_for_model(model)(rule.object_filter, model.objects.filter(pk=change["object_id"] or None))
    if not filterset.is_valid():
        return {"applied": True, "matched": False, "note": f"Invalid filter: {dict(filterset.errors)}"}
    return {"applied": True, "matched": filterset.qs.exists(), "note": "Evaluated against the object as it is now."}
