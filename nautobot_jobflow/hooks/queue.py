"""The event queue between a change and its evaluation: a Redis list, drained by one Celery task at a time.

The request (or Job) that made a change only appends the event (one round trip); a worker evaluates the rules. A
flag key with a time-to-live says a drain is scheduled, so a burst of events schedules one drain, and a drain lost
with its worker is rescheduled by the next event after the flag expires (or by the reconciler's sweep).
"""

import functools
import json

import redis
from django.conf import settings
from django_redis import get_redis_connection

EVENTS_KEY = "nautobot_jobflow:hook_events"
DRAIN_FLAG_KEY = "nautobot_jobflow:hook_drain_scheduled"
DRAIN_FLAG_SECONDS = 120
BATCH_SIZE = 500


@functools.cache
def _broker_client(url):
    return redis.Redis.from_url(url)


def connection():
    """The Redis of Celery's broker: it must keep what it holds (a cache Redis may evict or be flushed).

    ``PLUGINS_CONFIG["nautobot_jobflow"]["hook_queue_redis_url"]`` overrides it; a broker that is not Redis falls back
    to the Redis of Nautobot's cache.
    """
    url = settings.PLUGINS_CONFIG.get("nautobot_jobflow", {}).get("hook_queue_redis_url") or settings.CELERY_BROKER_URL
    if str(url).startswith(("redis://", "rediss://", "unix://")):
        return _broker_client(url)
    return get_redis_connection("default")


def encode(topic, payload, task_id):
    """One queued event; ``payload`` is the JSON text Nautobot's publish_event already serialized."""
    return f'{{"topic": {json.dumps(topic)}, "task_id": {json.dumps(task_id)}, "payload": {payload}}}'


def push(records):
    """Append events and schedule a drain unless one is scheduled."""
    if not records:
        return
    redis = connection()
    pipeline = redis.pipeline()
    pipeline.rpush(EVENTS_KEY, *records)
    pipeline.set(DRAIN_FLAG_KEY, "1", nx=True, ex=DRAIN_FLAG_SECONDS)
    _, scheduled_now = pipeline.execute()
    if scheduled_now:
        schedule_drain()


def schedule_drain():
    """Ask any worker to drain the queue."""
    from nautobot_jobflow.hooks.tasks import drain_hook_events

    drain_hook_events.apply_async()


def pop_batch():
    """Up to BATCH_SIZE events, oldest first, as dicts."""
    redis = connection()
    redis.expire(DRAIN_FLAG_KEY, DRAIN_FLAG_SECONDS)
    raw = redis.lpop(EVENTS_KEY, BATCH_SIZE) or []
    return [json.loads(item) for item in raw]


def release_or_continue():
    """The queue looked empty: drop the flag; keep draining only if events arrived meanwhile and we re-take it."""
    redis = connection()
    redis.delete(DRAIN_FLAG_KEY)
    if redis.llen(EVENTS_KEY) == 0:
        return False
    return bool(redis.set(DRAIN_FLAG_KEY, "1", nx=True, ex=DRAIN_FLAG_SECONDS))


def reschedule_if_stuck():
    """Reconciler: events waiting and no drain scheduled (its worker died) → schedule one."""
    redis = connection()
    if redis.llen(EVENTS_KEY) and redis.set(DRAIN_FLAG_KEY, "1", nx=True, ex=DRAIN_FLAG_SECONDS):
        schedule_drain()
        return True
    return False


def pending():
    """How many events wait."""
    return connection().llen(EVENTS_KEY)
