"""Telling open pages that an order changed, the moment the change commits.

Every page that shows an order (orders.live) carries the id of the order's newest OrderEvent, its
version. When an event is written, ``order_changed`` schedules one message per order and
transaction, sent after the commit (nothing about a rolled-back change leaves), carrying only the
order ID and the new version: never what changed, so a message tells nobody anything they could
not see. Each web process has one notifier (orders.live_notifier) that hears these messages and
wakes the streams of the pages showing that order; the page then asks its own fragment URL, where
the permission checks are, for what changed.

With Redis (``LIVE_PUSH_REDIS_URL``) the message is published on one pub/sub channel. Without
Redis (the embedded default) nothing is sent: each web process's notifier reads the new events
from the table itself every ``LIVE_PUSH_DB_POLL_MS``, one indexed query per process, not one per
page, and only committed rows are there to read.

Each message also names the sort of change (``event_topics``: the event's kind, the status it
moved to) for the worklists that wait for orders to come into them: those are told "your list
may have changed", never which order, and read themselves again.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from orders.models import OrderEvent

logger = logging.getLogger(__name__)

# A publish waits at most this long for Redis: after a commit, in the request or task that made
# the change, so a Redis outage must cost the change little (the pages' polling covers it).
PUBLISH_TIMEOUT_SECONDS = 0.5

_local = threading.local()
_client_lock = threading.Lock()
_clients: dict[str, Any] = {}


def push_redis_url() -> str:
    return str(settings.LIVE_PUSH_REDIS_URL or "")


def push_channel() -> str:
    """The pub/sub channel. Redis channels ignore the database number, so the channel carries
    it: two deployments (or test runs) sharing one server on different databases keep apart."""
    database = urlsplit(push_redis_url()).path.strip("/") or "0"
    return f"order-live:{database}"


def event_topics(kind: str, to_status: str = "") -> tuple[str, ...]:
    """What sort of change an event is, for the worklists waiting for orders to come into
    them (orders.live_notifier): ``kind:<its kind>`` and, for a status change,
    ``status:<the status it moved the order to>``."""
    return (f"kind:{kind}", f"status:{to_status}") if to_status else (f"kind:{kind}",)


def encode_message(order_id: str, version: int, topics: tuple[str, ...] = ()) -> str:
    """The message on the channel (with its topics), or, without topics, what a page's stream
    says about one of its orders: never what changed, only that it did."""
    data: dict[str, Any] = {"order": order_id, "version": version}
    if topics:
        data["topics"] = sorted(topics)
    return json.dumps(data, separators=(",", ":"))


def decode_message(raw: bytes | str) -> tuple[str, int, tuple[str, ...]] | None:
    """(order ID, version, topics) from a message, or None for one that is not ours."""
    try:
        data = json.loads(raw)
        topics = tuple(str(topic) for topic in data.get("topics", ()))
        return str(data["order"]), int(data["version"]), topics
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


class _Batch:
    """The orders changed in one transaction, sent once it commits (its on_commit callback)."""

    def __init__(self) -> None:
        self.versions: dict[str, int] = {}
        self.topics: dict[str, set[str]] = {}
        self.sent = False

    def add(self, order_id: str, version: int, topics: tuple[str, ...]) -> None:
        self.versions[order_id] = max(version, self.versions.get(order_id, 0))
        self.topics.setdefault(order_id, set()).update(topics)

    def __call__(self) -> None:
        self.sent = True
        for order_id, version in self.versions.items():
            publish(order_id, version, tuple(self.topics.get(order_id, ())))


def order_changed(*, order_id: str, version: int, topics: tuple[str, ...] = ()) -> None:
    """Tell the pages showing ``order_id`` that it is now at ``version``, and the worklists
    waiting for changes of the sorts in ``topics`` (``event_topics``), after the current
    transaction commits: once per order and transaction however many events it wrote, with the
    newest version and every topic, and not at all if it rolls back."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        publish(order_id, version, topics)
        return
    batch: _Batch | None = getattr(_local, "batch", None)
    # The batch of this transaction is the one still waiting among its commit callbacks; one
    # from a transaction that committed (sent) or rolled back has left that list.
    if (
        batch is None
        or batch.sent
        or not any(entry[1] is batch for entry in connection.run_on_commit)
    ):
        batch = _Batch()
        _local.batch = batch
        transaction.on_commit(batch, robust=True)
    batch.add(order_id, version, topics)


def publish(order_id: str, version: int, topics: tuple[str, ...] = ()) -> None:
    """Send one message now (Redis), or nothing where the notifiers read the table."""
    if not settings.LIVE_PUSH_ENABLED or not push_redis_url():
        return
    try:
        _redis().publish(push_channel(), encode_message(order_id, version, topics))
    except Exception as error:  # a Redis outage must not fail the change that committed
        logger.warning("live push: could not publish %s v%s: %s", order_id, version, error)


def _redis() -> Any:
    url = push_redis_url()
    with _client_lock:
        if url not in _clients:
            import redis

            # One pool per process; redis-py opens a new one in a forked worker child.
            _clients[url] = redis.Redis.from_url(
                url,
                socket_timeout=PUBLISH_TIMEOUT_SECONDS,
                socket_connect_timeout=PUBLISH_TIMEOUT_SECONDS,
            )
        return _clients[url]


@receiver(post_save, sender=OrderEvent, dispatch_uid="orders.live_push.event_saved")
def _event_saved(
    sender: type[OrderEvent], instance: OrderEvent, created: bool, **kwargs: Any
) -> None:
    if created and not kwargs.get("raw"):
        order_changed(
            order_id=instance.order_id,
            version=instance.pk,
            topics=event_topics(instance.kind, instance.to_status),
        )
