"""Events as dispatch sees them, and the Jinja2 context a rule's input template is rendered with.

Template names (documented in docs/user/hook-rules.md):

- a rule without batch mode: ``object`` (the object after the change; before it, for a delete) and ``change``
  (``action``, ``object_type``, ``object_id``, ``object_repr``, ``before``, ``after``, ``user``, ``request_id``,
  ``time``; with debounce, ``before`` is the state before the window's first change);
- a batch rule: ``objects``, ``changes`` (lists, one entry per object, its latest change) and ``object_ids``;
- a completion rule: ``completion`` (see ``completion_event``);
- every rule: ``rule`` (``name``, ``id``).
"""

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType

from nautobot_jobflow.lib.conditions import change_event


@dataclass
class ChangeEvent:
    """One object change, from Nautobot's event payload."""

    topic: str
    action: str
    app_label: str
    model: str
    object_id: str
    object_repr: str
    before: dict
    after: dict
    user_name: str
    request_id: str
    time: str
    task_id: str = None

    @classmethod
    def from_record(cls, record):
        """From a queued record: {"topic", "task_id", "payload": {prechange, postchange, differences, context}}."""
        _, action, app_label, model = record["topic"].split(".", 3)
        payload = record["payload"]
        before, after = payload.get("prechange"), payload.get("postchange")
        data = (before if action == "delete" else after) or {}
        context = payload.get("context") or {}
        return cls(
            topic=record["topic"],
            action=action,
            app_label=app_label,
            model=model,
            object_id=str(data.get("id", "")),
            object_repr=str(data.get("display") or data.get("name") or data.get("id", ""))[:200],
            before=before,
            after=after,
            user_name=context.get("user_name") or "",
            request_id=context.get("request_id") or None,
            time=context.get("timestamp") or "",
            task_id=record.get("task_id"),
        )

    @property
    def object_type(self):
        """``dcim.device``."""
        return f"{self.app_label}.{self.model}"

    def evaluation_view(self):
        """What conditions look at."""
        return change_event(self.action, self.before, self.after)

    def as_change(self):
        """The ``change`` template variable (also what a window stores)."""
        return {
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "object_repr": self.object_repr,
            "before": self.before,
            "after": self.after,
            "user": self.user_name,
            "request_id": self.request_id,
            "time": self.time,
        }


def object_of(change):
    """The ``object`` of a change: after it, or before it for a delete."""
    return (change["before"] if change["action"] == "delete" else change["after"]) or {}


def single_context(rule, change):
    """Context of a rule without batch mode."""
    return {"object": object_of(change), "change": change, "rule": rule_context(rule)}


def batch_context(rule, changes):
    """Context of a batch rule: one entry per object, in the order they first changed."""
    return {
        "objects": [object_of(change) for change in changes],
        "changes": changes,
        "object_ids": [change["object_id"] for change in changes],
        "rule": rule_context(rule),
    }


def completion_context(rule, completion):
    """Context of a completion rule."""
    return {"completion": completion, "rule": rule_context(rule)}


def rule_context(rule):
    """The ``rule`` template variable."""
    return {"name": rule.name, "id": str(rule.pk)}


def content_type(app_label, model):
    """The ContentType row, read from the database (a long-lived worker must not trust ids it cached)."""
    return ContentType.objects.filter(app_label=app_label, model=model).first()
