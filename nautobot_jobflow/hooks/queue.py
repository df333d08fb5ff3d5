"""The event queue between a change and its evaluation: a Redis list, drained by one Celery task at a time.

The request (or Job) that made a change only appends the event (one round trip); a worker evaluates the rules.

Delivery is at least once. A drain moves a batch from the queue to a processing list in one atomic step (a Lua
script), evaluates it, then deletes it; a worker killed in between leaves the batch there, and the next drain
evaluates it again before taking new events.

One key, the drain flag, both schedules drains and says who drains. ``push`` sets it to ``scheduled`` (only if it
is absent) and then sends one drain task, so a burst of events schedules one drain. A drain task takes the flag by
writing its own token over ``scheduled`` (or over nothing); any other value means a live drain holds it, and the task
ends at once. The holder renews the flag's time-to-live before every batch, and the batch is deleted, the next one
taken and the flag released only while the flag still holds its token (checked inside the same script). A drain
whose worker died stops renewing; the flag expires, the next event (or the reconciler) schedules a drain, and that
one finds the dead drain's batch in the processing list. A drain that was only slow (one batch longer than the
time-to-live) notices that it lost the flag and stops without touching the processing list: the batch may then be
evaluated twice, never lost.
"""

import functools
import json
import uuid

import redis
from django.conf import settings
from django_redis import get_redis_connection
from nautobot.core.celery import app

from nautobot_jobflow import app_settings

EVENTS_KEY = "nautobot_jobflow:hook_events"
DRAIN_FLAG_KEY = "nautobot_jobflow:hook_drain_scheduled"
DRAIN_TASK = "nautobot_jobflow.drain_hook_events"  # defined in nautobot_jobflow.tasks, sent by name
PROCESSING_KEY = "nautobot_jobflow:hook_events_processing"
ATTEMPTS_KEY = "nautobot_jobflow:hook_events_processing_attempts"
DRAIN_FLAG_SECONDS = 120
SCHEDULED = "scheduled"
BATCH_SIZE = 500
MAX_ATTEMPTS = 3


@functools.cache
def _broker_client(url):
    return redis.Redis.from_url(url)


def connection():
    """The Redis of Celery's broker: it must keep what it holds (a cache Redis may evict or be flushed).

    The app setting ``hook_queue_redis_url`` overrides it; a broker that is not Redis falls back to the Redis of
    Nautobot's cache.
    """
    url = app_settings.hook_queue_redis_url() or settings.CELERY_BROKER_URL
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
    pipeline.set(DRAIN_FLAG_KEY, SCHEDULED, nx=True, ex=DRAIN_FLAG_SECONDS)
    _, scheduled_now = pipeline.execute()
    if scheduled_now:
        schedule_drain()


def schedule_drain():
    """Ask any worker to drain the queue."""
    app.send_task(DRAIN_TASK)


# KEYS[1] flag, KEYS[2] queue, KEYS[3] processing list, KEYS[4] attempts; ARGV[1] token, ARGV[2] ttl, ARGV[3] size.
# Returns nil when the flag is not ours, else {attempt, record...}: the processing list's batch if one is left
# there (attempt counts how many drains took it), else a new batch moved from the queue (attempt 1).
_TAKE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return nil end
redis.call('EXPIRE', KEYS[1], ARGV[2])
local left = redis.call('LRANGE', KEYS[3], 0, -1)
if #left > 0 then
  local attempt = redis.call('INCR', KEYS[4])
  table.insert(left, 1, tostring(attempt))
  return left
end
local batch = redis.call('LRANGE', KEYS[2], 0, tonumber(ARGV[3]) - 1)
if #batch > 0 then
  redis.call('LTRIM', KEYS[2], #batch, -1)
  for start = 1, #batch, 1000 do
    redis.call('RPUSH', KEYS[3], unpack(batch, start, math.min(start + 999, #batch)))
  end
  redis.call('SET', KEYS[4], '1')
end
table.insert(batch, 1, '1')
return batch
"""
# KEYS[1] flag, KEYS[3] processing list, KEYS[4] attempts; ARGV[1] token. 1: deleted; 0: the flag is not ours.
_DONE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[3], KEYS[4])
return 1
"""
# KEYS[1] flag, KEYS[2] queue, KEYS[3] processing list; ARGV[1] token. 1: keep draining; 0: released (or not ours).
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('LLEN', KEYS[2]) > 0 or redis.call('LLEN', KEYS[3]) > 0 then return 1 end
redis.call('DEL', KEYS[1])
return 0
"""
# KEYS[1] flag; ARGV[1] token, ARGV[2] ttl. 1: the flag was absent or only "scheduled", and is ours now ("1" is
# what versions before the processing list wrote for "scheduled").
_CLAIM = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= 'scheduled' and holder ~= '1' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""
_KEYS = (DRAIN_FLAG_KEY, EVENTS_KEY, PROCESSING_KEY, ATTEMPTS_KEY)


def _run(script, token, *args):
    return connection().eval(script, len(_KEYS), *_KEYS, token, *args)


def claim_drain():
    """Take the drain flag for this drain: its token, or None while another drain holds it."""
    token = f"drain:{uuid.uuid4().hex}"
    return token if _run(_CLAIM, token, DRAIN_FLAG_SECONDS) else None


def take_batch(token):
    """The next batch as (records, attempt), moved to the processing list; None when the flag is no longer ours.

    A batch left in the processing list by a drain that died comes first (attempt 2, 3, ...).
    """
    reply = _run(_TAKE, token, DRAIN_FLAG_SECONDS, BATCH_SIZE)
    if reply is None:
        return None
    attempt, *raw = reply
    return [json.loads(item) for item in raw], int(attempt)


def batch_done(token):
    """The batch in the processing list is evaluated: delete it. False when the flag is no longer ours."""
    return bool(_run(_DONE, token))


def release_or_continue(token):
    """Nothing more to take: release the flag and return False; True when events arrived meanwhile (keep going).

    Atomic, so an event pushed after the release finds no flag and schedules a drain of its own.
    """
    return bool(_run(_RELEASE, token))


def reschedule_if_stuck():
    """Reconciler: events waiting (or a dead drain's batch) and no drain scheduled or running → schedule one."""
    redis = connection()
    waiting = redis.llen(EVENTS_KEY) or redis.llen(PROCESSING_KEY)
    if waiting and redis.set(DRAIN_FLAG_KEY, SCHEDULED, nx=True, ex=DRAIN_FLAG_SECONDS):
        schedule_drain()
        return True
    return False


def pending():
    """How many events wait (in the queue or in a batch being evaluated)."""
    redis = connection()
    return redis.llen(EVENTS_KEY) + redis.llen(PROCESSING_KEY)
