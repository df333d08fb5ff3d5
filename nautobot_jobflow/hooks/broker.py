"""Where changes come in: an event broker on Nautobot's own event bus (``nautobot.core.events``).

At the end of every change context (web request, REST call, Job, ``web_request_context``), Nautobot publishes one
``nautobot.<action>.<app_label>.<model>`` event per ObjectChange with its pre- and post-change snapshots, including
changes that bulk edits log in bulk (no ObjectChange post_save fires for those). The broker's topics are exactly the
(action, type) pairs some enabled rule watches, so Nautobot does not even serialize events of other models for it.
A matching event is queued after the transaction commits.
"""

from django.db import transaction
from nautobot.core.events import EventBroker, register_event_broker

from nautobot_jobflow.hooks import queue
from nautobot_jobflow.hooks.registry import REGISTRY


def current_task_id():
    """The Celery task running this code (a Job's task id is its JobResult's id), or None outside a worker task."""
    from celery import current_task

    request = getattr(current_task, "request", None)
    return getattr(request, "id", None) if current_task else None


class HookRuleEventBroker(EventBroker):
    """Queues the change events that hook rules watch."""

    def __init__(self):
        super().__init__(include_topics=["-"], exclude_topics=[])

    @property
    def include_topics(self):
        """The topics enabled rules watch (checked by publish_event before it serializes anything for us)."""
        return REGISTRY.current().topics

    @include_topics.setter
    def include_topics(self, value):
        """Topics come from the rules, not from configuration."""

    def publish(self, *, topic, payload):
        """Queue the event once the change is committed."""
        record = queue.encode(topic, payload, current_task_id())
        transaction.on_commit(lambda: queue.push([record]))

    def __str__(self):
        return "nautobot-jobflow hook rules"


BROKER = HookRuleEventBroker()


def connect():
    """Register the broker (from the AppConfig's ready())."""
    register_event_broker(BROKER)
