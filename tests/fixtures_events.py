"""A subscriber to the app's events as an operator's consumer would run it: Redis pub/sub on ``nautobot.jobflow.*``.

The test configuration (development/nautobot_config.py) gives the test process and the worker Nautobot's own
``RedisEventBroker`` in ``EVENT_BROKERS``; this subscriber listens on the same Redis.
"""

import json
import time

import redis
from django.conf import settings

PATTERN = "nautobot.jobflow.*"


def events_url():
    """The Redis URL the test configuration's event broker publishes to."""
    return settings.EVENT_BROKERS["jobflow-tests"]["OPTIONS"]["url"]


class EventSubscriber:
    """Collects every ``nautobot.jobflow.*`` message published after it was created, as (topic, payload, raw)."""

    def __init__(self):
        self.client = redis.Redis.from_url(events_url())
        self.pubsub = self.client.pubsub()
        self.pubsub.psubscribe(PATTERN)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # subscribed once Redis confirms it: nothing published after is missed
            message = self.pubsub.get_message(timeout=1)
            if message and message["type"] == "psubscribe":
                break
        else:
            raise AssertionError("Redis did not confirm the subscription")
        self.received = []

    def poll(self, timeout=0.2):
        """Read what has arrived."""
        while True:
            message = self.pubsub.get_message(timeout=timeout)
            if message is None:
                return
            if message["type"] == "pmessage":
                raw = message["data"].decode()
                self.received.append((message["channel"].decode(), json.loads(raw), raw))
            timeout = 0.01

    def events(self, **match):
        """Events whose payload has every ``key=value`` of ``match`` (other suites share Redis pub/sub)."""
        self.poll()
        return [
            (topic, payload, raw)
            for topic, payload, raw in self.received
            if all(payload.get(key) == value for key, value in match.items())
        ]

    def topics(self, **match):
        """The topics of the matching events, in the order they were published."""
        return [topic for topic, _, _ in self.events(**match)]

    def wait_for_topic(self, topic, timeout=60, **match):
        """Wait until an event of ``topic`` matching ``match`` arrived; returns its payload."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for found, payload, _ in self.events(**match):
                if found == topic:
                    return payload
            time.sleep(0.1)
        raise AssertionError(f"no {topic} event matching {match}; received: {self.topics(**match)}")

    def close(self):
        """Unsubscribe and disconnect."""
        self.pubsub.close()
        self.client.close()
