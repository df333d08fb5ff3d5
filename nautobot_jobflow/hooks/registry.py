"""Enabled hook rules, compiled once and cached per process, keyed by (action, object type).

A change to any HookRule stores a new random generation token in Nautobot's Redis cache; every process compares its
copy's token with it before using the copy (one Redis GET, no database query) and reloads only when it differs. A
token (not a counter) also makes a flushed or evicted cache force a reload everywhere. So a
change to a model no rule watches costs a dictionary lookup and no query, and a rule saved in the web server is
seen by every worker at their next event.
"""

import logging
import threading
import uuid
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import DatabaseError, transaction

from nautobot_jobflow.choices import HookEventSourceChoices
from nautobot_jobflow.lib.conditions import ConditionProblem, parse_conditions
from nautobot_jobflow.models import HookRule

logger = logging.getLogger(__name__)

GENERATION_KEY = "nautobot_jobflow:hook_rules:generation"
ACTIONS = {"type_create": "create", "type_update": "update", "type_delete": "delete"}


@dataclass
class CompiledRule:
    """What dispatch needs of a rule, parsed once."""

    pk: object
    name: str
    event_source: str
    conditions: list
    match_any: bool
    object_filter: dict
    debounce_seconds: int
    batch: bool
    allow_one_level: bool
    job_id: object
    workflow_id: object
    input_template: dict
    models: set = field(default_factory=set)  # {(app_label, model)}
    actions: set = field(default_factory=set)
    completion_job_ids: set = field(default_factory=set)
    completion_workflow_ids: set = field(default_factory=set)
    completion_statuses: set = field(default_factory=set)

    @property
    def windowed(self):
        """True when events wait in a debounce/batch window instead of firing at once."""
        return bool(self.debounce_seconds) or self.batch


def compile_rule(rule):
    """A HookRule (with its many-to-many values prefetched) → CompiledRule; ConditionProblem if it is broken."""
    return CompiledRule(
        pk=rule.pk,
        name=rule.name,
        event_source=rule.event_source,
        conditions=parse_conditions(rule.conditions),
        match_any=rule.match == "any",
        object_filter=rule.object_filter or {},
        debounce_seconds=rule.debounce_seconds,
        batch=rule.batch,
        allow_one_level=rule.allow_one_level,
        job_id=rule.job_id,
        workflow_id=rule.workflow_id,
        input_template=rule.input_template or {},
        models={(ct.app_label, ct.model) for ct in rule.content_types.all()},
        actions={action for flag, action in ACTIONS.items() if getattr(rule, flag)},
        completion_job_ids={str(job.pk) for job in rule.completion_jobs.all()},  # a worker's JobResult may hold str ids
        completion_workflow_ids={str(workflow.pk) for workflow in rule.completion_workflows.all()},
        completion_statuses=set(rule.completion_statuses or []),
    )


class RuleRegistry:
    """The process's compiled copy of the enabled rules."""

    def __init__(self):
        self._lock = threading.Lock()
        self._generation = object()  # never equal to a stored generation: first use loads
        self.by_topic = {}
        self.topics = []
        self.completion = {HookEventSourceChoices.JOB_COMPLETION: [], HookEventSourceChoices.WORKFLOW_COMPLETION: []}

    def current(self):
        """Reload when another process changed a rule; returns self."""
        generation = _stored_generation()
        if generation != self._generation:
            with self._lock:
                if generation != self._generation:
                    try:
                        self._load()
                    except DatabaseError:  # tables not migrated yet (publish_event during migrate)
                        logger.debug("Hook rules: cannot load rules yet", exc_info=True)
                        return self
                    self._generation = generation
        return self

    def _load(self):
        by_topic, completion = {}, {key: [] for key in self.completion}
        rules = HookRule.objects.filter(enabled=True).prefetch_related(
            "content_types", "completion_jobs", "completion_workflows"
        )
        for rule in rules:
            try:
                compiled = compile_rule(rule)
            except ConditionProblem as problem:  # saved before a validation existed, or edited in the database
                logger.error("Hook rule %s is ignored: %s", rule, problem)
                continue
            if compiled.event_source == HookEventSourceChoices.OBJECT_CHANGE:
                for app_label, model in compiled.models:
                    for action in compiled.actions:
                        by_topic.setdefault(f"nautobot.{action}.{app_label}.{model}", []).append(compiled)
            else:
                completion[compiled.event_source].append(compiled)
        self.by_topic = by_topic
        self.topics = sorted(by_topic)
        self.completion = completion

    def rules_for(self, topic):
        """Object-change rules listening to ``nautobot.<action>.<app_label>.<model>``."""
        return self.by_topic.get(topic, ())

    def forget(self):
        """Drop this process's copy (the next use reloads)."""
        self._generation = object()


def _stored_generation():
    try:
        generation = cache.get(GENERATION_KEY)
        if generation is None:
            cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
            generation = cache.get(GENERATION_KEY)
        return generation
    except Exception:  # Redis away: Nautobot itself is degraded; keep the copy we have
        logger.warning("Hook rules: cannot read the rule generation from the cache", exc_info=True)
        return REGISTRY._generation


def bump_generation(**kwargs):
    """Signal receiver: any HookRule change makes this process reload now, and every process once it commits."""
    REGISTRY.forget()
    transaction.on_commit(_new_generation)


def _new_generation():
    REGISTRY.forget()
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


REGISTRY = RuleRegistry()
