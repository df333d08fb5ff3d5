"""Events on Nautobot's event broker (``nautobot.core.events.publish_event``) under the topics ``nautobot.jobflow.*``.

Published when a workflow run starts and completes, a step attempt fails or times out, a launch is held for approval,
a launch request is decided or expires, and a hook rule fires. Core's brokers configured in ``EVENT_BROKERS``
(Redis, syslog, or any other ``EventBroker``) receive them; docs/admin/events-and-metrics.md lists every payload.

This module only observes: ``post_save`` receivers on the rows the engine, the approvals and the hooks write detect
the transitions, and publish once the transaction commits (an event for a rolled-back change is never sent). A
transition is found without any query: ``post_init`` remembers the status a row had when it was loaded (or created
in memory), and ``post_save`` compares it with the saved one (``update_fields`` without "status" is no transition).
``refresh_from_db()`` does not renew what ``post_init`` kept: an instance refreshed and then saved with a status that
changed meanwhile would publish that change again (nothing in the app saves a refreshed row; load a fresh one).
Names that a payload shows and a row only references (the run's user, the step's workflow, the firing's rule) come
from the related object when it is already loaded, else from one query after the commit, and only when some broker
listens to the topic.

Payloads carry ids, names, states, timestamps and the object's URL path, never inputs, rendered inputs, results,
error texts or reasons: those may hold secrets, and a subscriber that needs them reads the object with its own
permissions.
"""

import logging

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import reverse
from nautobot.core import events as core_events

from nautobot_jobflow.choices import LaunchRequestStatusChoices, StepRunStatusChoices, WorkflowRunStatusChoices
from nautobot_jobflow.hooks.broker import BROKER as HOOK_RULES_BROKER
from nautobot_jobflow.models import HookFiring, HookRule, LaunchRequest, WorkflowRun, WorkflowStepRun

logger = logging.getLogger(__name__)

RUN = WorkflowRunStatusChoices
STEP = StepRunStatusChoices
REQUEST = LaunchRequestStatusChoices

RUN_STARTED = "nautobot.jobflow.workflow_run.started"
RUN_COMPLETED = "nautobot.jobflow.workflow_run.completed"
STEP_FAILED = "nautobot.jobflow.step_run.failed"
REQUEST_HELD = "nautobot.jobflow.launch_request.held"
REQUEST_APPROVED = "nautobot.jobflow.launch_request.approved"
REQUEST_DENIED = "nautobot.jobflow.launch_request.denied"
REQUEST_CANCELED = "nautobot.jobflow.launch_request.canceled"
REQUEST_EXPIRED = "nautobot.jobflow.launch_request.expired"
HOOK_RULE_FIRED = "nautobot.jobflow.hook_rule.fired"
TOPICS = (
    RUN_STARTED,
    RUN_COMPLETED,
    STEP_FAILED,
    REQUEST_HELD,
    REQUEST_APPROVED,
    REQUEST_DENIED,
    REQUEST_CANCELED,
    REQUEST_EXPIRED,
    HOOK_RULE_FIRED,
)
# A request's final status → its topic. "failed" is an approved request whose launch could not start.
DECISION_TOPICS = {
    REQUEST.LAUNCHED: REQUEST_APPROVED,
    REQUEST.FAILED: REQUEST_APPROVED,
    REQUEST.DENIED: REQUEST_DENIED,
    REQUEST.CANCELED: REQUEST_CANCELED,
    REQUEST.EXPIRED: REQUEST_EXPIRED,
}

_LOADED_STATUS = "_jobflow_loaded_status"
_UNKNOWN = object()  # the row was loaded without its status (``.only()``): any saved status counts as a change


# ---------------------------------------------------------------------------------------------- transitions
def remember_status(sender, instance, **kwargs):
    """``post_init``: keep the status the row has now (loaded from the database, or built in memory)."""
    instance.__dict__[_LOADED_STATUS] = instance.__dict__.get("status", _UNKNOWN)


def status_change(instance, created, update_fields):
    """(old, new) status when this save changed it (old is None for a new row), else None. No query."""
    if update_fields is not None and "status" not in update_fields:
        return None
    old = None if created else instance.__dict__.get(_LOADED_STATUS, _UNKNOWN)
    new = instance.status
    instance.__dict__[_LOADED_STATUS] = new  # the next save of this instance compares with what it saved
    return None if old == new else (old, new)


def on_workflow_run_saved(sender, instance, created=False, update_fields=None, raw=False, **kwargs):
    """A run started (pending → running) or reached a final state."""
    change = None if raw else status_change(instance, created, update_fields)
    if change is None:
        return
    old, new = change
    if new == RUN.RUNNING:
        # running again after a held step was decided (awaiting approval → running) or a resume is no start
        first_start = old in (None, RUN.PENDING) or (old is _UNKNOWN and "started" in (update_fields or ()))
        if first_start:
            publish_on_commit(RUN_STARTED, run_payload, instance)
    elif new in RUN.FINAL and old not in RUN.FINAL:
        publish_on_commit(RUN_COMPLETED, run_payload, instance)


def on_step_run_saved(sender, instance, created=False, update_fields=None, raw=False, **kwargs):
    """A step attempt failed or timed out (started steps are bulk-inserted: no signal, and no event is needed)."""
    change = None if raw else status_change(instance, created, update_fields)
    if change is not None and change[1] in STEP.FAILURES and change[0] not in STEP.FAILURES:
        publish_on_commit(STEP_FAILED, step_payload, instance)


def on_launch_request_saved(sender, instance, created=False, update_fields=None, raw=False, **kwargs):
    """A launch was held (a new pending request), or its request reached a final state."""
    change = None if raw else status_change(instance, created, update_fields)
    if change is None:
        return
    old, new = change
    if created and new == REQUEST.PENDING:
        publish_on_commit(REQUEST_HELD, request_payload, instance)
    elif new in DECISION_TOPICS and old not in REQUEST.FINAL:
        publish_on_commit(DECISION_TOPICS[new], request_payload, instance)


def on_hook_firing_saved(sender, instance, created=False, raw=False, **kwargs):
    """A rule matched an event and its firing was recorded.

    A firing with a dedupe key is inserted first (to claim the key) and saved again with its outcome in the same
    transaction, so its payload is built when the transaction commits: the outcome, sent once.
    """
    if created and not raw:
        publish_on_commit(HOOK_RULE_FIRED, firing_payload, instance, at_commit=True)


RECEIVERS = {
    WorkflowRun: on_workflow_run_saved,
    WorkflowStepRun: on_step_run_saved,
    LaunchRequest: on_launch_request_saved,
    HookFiring: on_hook_firing_saved,
}
STATUS_MODELS = (WorkflowRun, WorkflowStepRun, LaunchRequest)  # the models whose loaded status post_init keeps


# ---------------------------------------------------------------------------------------------- publishing
def listened(topic):
    """True when a registered broker takes ``topic`` (the app's hook-rule broker only takes object changes)."""
    brokers = getattr(core_events, "_EVENT_BROKERS", None)  # core keeps no public accessor for its list
    if brokers is None:
        return True
    return any(
        core_events.is_topic_match(topic, broker.include_topics)
        and not core_events.is_topic_match(topic, broker.exclude_topics)
        for broker in brokers
        if broker is not HOOK_RULES_BROKER  # its topics cost a cache read and never include ours
    )


def publish_on_commit(topic, build, instance, at_commit=False):
    """Publish ``build(instance)`` on ``topic`` once the transaction commits (built now, or then: ``at_commit``)."""
    if not listened(topic):
        return
    payload = None if at_commit else build(instance)

    def send():
        try:
            core_events.publish_event(topic=topic, payload=resolve(payload if payload is not None else build(instance)))
        except Exception:  # a broker that is down must never fail the run, the decision or the firing
            logger.exception("Could not publish event %s", topic)

    transaction.on_commit(send)


class Lookup:
    """A name the payload shows that the row only references: read after the commit (one query)."""

    def __init__(self, model, pk, field):
        self.model, self.pk, self.field = model, pk, field

    def value(self):
        """The field of the referenced row ("" when there is none)."""
        if self.pk is None:
            return ""
        return self.model.objects.filter(pk=self.pk).values_list(self.field, flat=True).first() or ""


def resolve(payload):
    """The payload with its lookups read."""
    return {key: value.value() if isinstance(value, Lookup) else value for key, value in payload.items()}


def related_value(instance, relation, field, model):
    """``instance.<relation>.<field>`` if the related row is loaded already, else a Lookup."""
    if getattr(type(instance), relation).is_cached(instance):
        related = getattr(instance, relation)
        return getattr(related, field) if related is not None else ""
    return Lookup(model, getattr(instance, f"{relation}_id"), field)


def iso(value):
    """A timestamp as ISO 8601 text (None stays None)."""
    return value.isoformat() if value is not None else None


def text_id(value):
    """A primary key as text (None stays None)."""
    return str(value) if value is not None else None


# ---------------------------------------------------------------------------------------------- payloads
def run_payload(run):
    """What a run's events say: no inputs, no error text."""
    return {
        "run_id": text_id(run.pk),
        "workflow_id": text_id(run.workflow_id),
        "workflow_name": run.workflow_name,
        "status": run.status,
        "user_name": related_value(run, "user", "username", get_user_model()),
        "origin": run.origin,
        "dryrun": run.dryrun,
        "is_preview": run.is_preview,
        "parent_step_run_id": text_id(run.parent_step_run_id),
        "rerun_of_id": text_id(run.rerun_of_id),
        "created": iso(run.created),
        "started": iso(run.started),
        "finished": iso(run.finished),
        "url": reverse("plugins:nautobot_jobflow:workflowrun", kwargs={"pk": run.pk}),
    }


def step_payload(step_run):
    """What a failed step's event says: no rendered inputs, no result, no error text (and no for-each item)."""
    return {
        "step_run_id": text_id(step_run.pk),
        "run_id": text_id(step_run.run_id),
        "workflow_name": related_value(step_run, "run", "workflow_name", WorkflowRun),
        "step_name": step_run.step_name,
        "attempt": step_run.attempt,
        "item_index": step_run.item_index,
        "status": step_run.status,
        "job_result_id": text_id(step_run.job_result_id),
        "started": iso(step_run.started),
        "finished": iso(step_run.finished),
        "url": reverse("plugins:nautobot_jobflow:workflowrun", kwargs={"pk": step_run.run_id}),
    }


def request_payload(request):
    """What a launch request's events say: no inputs, no message (it may quote an approver's comment)."""
    target_type = "step" if request.step_run_id else ("job" if request.job_id else "workflow")
    return {
        "request_id": text_id(request.pk),
        "status": request.status,
        "policy_id": text_id(request.policy_id),
        "policy_name": request.policy_name,
        "target_type": target_type,
        "target_name": request.target_name,
        "job_id": text_id(request.job_id),
        "workflow_id": text_id(request.workflow_id),
        "workflow_run_id": text_id(request.workflow_run_id),
        "step_run_id": text_id(request.step_run_id),
        "job_result_id": text_id(request.job_result_id),
        "origin": request.origin,
        "dryrun": request.dryrun,
        "user_name": request.user_name,
        "created": iso(request.created),
        "expires_at": iso(request.expires_at),
        "decided": iso(request.decided),
        "url": request.get_absolute_url(),
    }


def firing_payload(firing):
    """What a firing's event says: no inputs, no reason (it may quote rendered inputs)."""
    object_type = ""
    if firing.changed_object_type_id:
        content_type = ContentType.objects.get_for_id(firing.changed_object_type_id)  # cached by Django
        object_type = f"{content_type.app_label}.{content_type.model}"
    return {
        "firing_id": text_id(firing.pk),
        "rule_id": text_id(firing.rule_id),
        "rule_name": related_value(firing, "rule", "name", HookRule),
        "status": firing.status,
        "action": firing.action,
        "object_type": object_type,
        "object_id": text_id(firing.changed_object_id),
        "object_repr": firing.object_repr,
        "object_count": firing.object_count,
        "request_id": text_id(firing.request_id),
        "source_job_result_id": text_id(firing.source_job_result_id),
        "source_workflow_run_id": text_id(firing.source_workflow_run_id),
        "window_id": text_id(firing.window_id),
        "depth": firing.depth,
        "user_name": related_value(firing, "user", "username", get_user_model()),
        "job_result_id": text_id(firing.job_result_id),
        "workflow_run_id": text_id(firing.workflow_run_id),
        "created": iso(firing.created),
        "url": firing.get_absolute_url(),
    }
