"""One notifier per web process, and the server-sent event stream of an open page.

The notifier runs in the ASGI server's event loop from the first open stream on. It hears every
order change once for the whole process (one Redis pub/sub subscription, or one query of the
event table every ``LIVE_PUSH_DB_POLL_MS`` where there is no Redis) and wakes the streams of the
pages showing that order; a thousand open pages cost one connection, not a thousand.

A stream says only "order X is at version N" (``event: change``); the page then asks its
fragment URL for what changed, so every permission check stays in the views. The view that
opens the stream has already checked that the user may see the order (orders.live).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections

from orders.live_push import (
    decode_message,
    encode_message,
    event_topics,
    push_channel,
    push_redis_url,
)
from orders.models import OrderEvent

logger = logging.getLogger(__name__)

# Redis gone: the notifier tries again this often; pages are woken when it is back (a resync),
# and meanwhile their stream stays open (its keep-alives) or they poll.
RECONNECT_SECONDS = 1.0
# New events read per poll of the table at most; more are read on the next poll at once.
DB_POLL_BATCH = 500
# Every page is woken with this version after the notifier may have missed messages: each asks
# its fragment URL with its own version (a cheap 204 where nothing changed).
RESYNC = 0


class Subscription:
    """One open stream's interest: in its orders (one for an order's page, the rows of a
    worklist) and in sorts of change (``topics``, a worklist's: an order may have come into it).
    Holds the newest version heard of each of its orders changed since last read, whether a
    change of one of its topics was heard, and a wake-up."""

    def __init__(self, order_ids: tuple[str, ...], topics: tuple[str, ...] = ()) -> None:
        self.order_ids = order_ids
        self.topics = topics
        self.changes: dict[str, int] = {}
        self.listed = False
        self.changed = asyncio.Event()

    def notify(self, order_id: str, version: int) -> None:
        self.changes[order_id] = max(version, self.changes.get(order_id, RESYNC))
        self.changed.set()

    def notify_listed(self) -> None:
        self.listed = True
        self.changed.set()

    def take(self) -> dict[str, int]:
        changes, self.changes = self.changes, {}
        self.changed.clear()
        return changes


class LiveNotifier:
    def __init__(self) -> None:
        self._subscriptions: dict[str, set[Subscription]] = {}
        self._by_topic: dict[str, set[Subscription]] = {}
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor: ThreadPoolExecutor | None = None

    def subscribe(self, *order_ids: str, topics: tuple[str, ...] = ()) -> Subscription:
        self._ensure_running()
        subscription = Subscription(order_ids, topics)
        for order_id in order_ids:
            self._subscriptions.setdefault(order_id, set()).add(subscription)
        for topic in topics:
            self._by_topic.setdefault(topic, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        for key, index in (
            *((order_id, self._subscriptions) for order_id in subscription.order_ids),
            *((topic, self._by_topic) for topic in subscription.topics),
        ):
            subs = index.get(key)
            if subs is not None:
                subs.discard(subscription)
                if not subs:
                    del index[key]

    def dispatch(self, order_id: str, version: int, topics: tuple[str, ...] = ()) -> None:
        told = self._subscriptions.get(order_id, set())
        for subscription in told:
            subscription.notify(order_id, version)
        for topic in topics:
            for subscription in self._by_topic.get(topic, ()):
                if subscription not in told:
                    subscription.notify_listed()

    def resync(self) -> None:
        for order_id, subs in self._subscriptions.items():
            for subscription in subs:
                subscription.notify(order_id, RESYNC)
        for subs in self._by_topic.values():
            for subscription in subs:
                subscription.notify_listed()

    async def aclose(self) -> None:
        """Stop listening (the server shutting down, a test's loop ending)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, 2)

    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is not None and not self._task.done() and self._loop is loop:
            return
        self._loop = loop
        self._task = loop.create_task(self._run(), name="live-notifier")

    async def _run(self) -> None:
        if push_redis_url():
            await self._listen_redis()
        else:
            await self._poll_table()

    async def _listen_redis(self) -> None:
        import redis.asyncio as aioredis

        first = True
        while True:
            client = aioredis.Redis.from_url(push_redis_url())
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(push_channel())
                    if not first:
                        self.resync()  # messages sent while we were away are lost
                    first = False
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        decoded = decode_message(message["data"])
                        if decoded is not None:
                            self.dispatch(*decoded)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("live push: Redis subscription lost (%s); retrying", error)
                await asyncio.sleep(RECONNECT_SECONDS)
            finally:
                # Bounded: a connection cut while subscribing must not hold up a shutdown.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.aclose(), 2)

    async def _poll_table(self) -> None:
        # One thread of its own: the poll never waits behind request threads, and keeps one
        # database connection for the process.
        self._executor = self._executor or ThreadPoolExecutor(1, "live-notifier")
        loop = asyncio.get_running_loop()
        interval = settings.LIVE_PUSH_DB_POLL_MS / 1000
        after: int | None = None
        while True:
            if self._subscriptions or after is None:
                try:
                    after, changes = await loop.run_in_executor(self._executor, _read, after)
                except Exception as error:
                    logger.warning("live push: reading new events failed (%s)", error)
                    self.resync()
                else:
                    for order_id, version, topics in changes:
                        self.dispatch(order_id, version, topics)
                    if len(changes) >= DB_POLL_BATCH:
                        continue
            await asyncio.sleep(interval)


def _read(after: int | None) -> tuple[int, list[tuple[str, int, tuple[str, ...]]]]:
    """The newest event id and (order ID, version, topics) of the events after ``after`` (None:
    from now on)."""
    close_old_connections()
    try:
        if after is None:
            newest = OrderEvent.objects.order_by("-id").values_list("id", flat=True).first()
            return newest or 0, []
        rows = list(
            OrderEvent.objects.filter(id__gt=after)
            .order_by("id")
            .values_list("id", "order_id", "kind", "to_status")[:DB_POLL_BATCH]
        )
    except Exception:
        connections["default"].close()
        raise
    changes = [
        (order_id, pk, event_topics(kind, to_status)) for pk, order_id, kind, to_status in rows
    ]
    return (rows[-1][0] if rows else after), changes


notifier = LiveNotifier()


async def order_event_stream(
    order_id: str, *, version: int, until: float | None = None
) -> AsyncIterator[bytes]:
    """The server-sent events of one open page of ``order_id``: ``change`` with the order's
    new version whenever it changes, a comment as keep-alive, and the end of the stream after
    ``LIVE_PUSH_STREAM_SECONDS`` (or at ``until``, a wall-clock time) for the page to open
    another, so that its permission is checked again."""
    async for chunk in orders_event_stream((order_id,), ready=str(version), until=until):
        yield chunk


async def orders_event_stream(
    order_ids: tuple[str, ...],
    *,
    topics: tuple[str, ...] = (),
    ready: str = "",
    until: float | None = None,
) -> AsyncIterator[bytes]:
    """As ``order_event_stream``, for every order in ``order_ids`` (a worklist's rows): one
    ``change`` per order that changed; and, for a change of a sort in ``topics`` to an order
    not listed (one that may have come into the list), a ``change`` that names no order, at
    most once every ``LIVE_PUSH_LIST_MIN_SECONDS`` (a busy network moves orders all the time;
    each such change costs the page a read of itself)."""
    # The request's thread holds no database connection while the page listens (it would hold
    # it for as long as the stream is open).
    await sync_to_async(connections.close_all)()
    subscription = notifier.subscribe(*order_ids, topics=topics)
    deadline = time.time() + settings.LIVE_PUSH_STREAM_SECONDS
    if until is not None:
        deadline = min(deadline, until)
    keepalive = settings.LIVE_PUSH_KEEPALIVE_SECONDS
    list_gap = settings.LIVE_PUSH_LIST_MIN_SECONDS
    listed_at = -math.inf
    try:
        yield f"retry: {settings.LIVE_STATUS_POLL_MS}\nevent: ready\ndata: {ready}\n\n".encode()
        while (left := deadline - time.time()) > 0:
            wait = min(keepalive, left)
            if subscription.listed:  # told at once unless the last was told just now
                wait = min(wait, max(0.0, listed_at + list_gap - time.monotonic()))
            if not subscription.changes and wait > 0:
                subscription.changed.clear()
                try:
                    await asyncio.wait_for(subscription.changed.wait(), timeout=wait)
                except TimeoutError:
                    if not subscription.listed:
                        yield b": keep-alive\n\n"
                    continue
            for order_id, version in subscription.take().items():
                data = encode_message(order_id, version)
                yield f"event: change\ndata: {data}\n\n".encode()
            if subscription.listed and time.monotonic() >= listed_at + list_gap:
                subscription.listed = False
                listed_at = time.monotonic()
                yield b'event: change\ndata: {"list":true}\n\n'
    finally:
        notifier.unsubscribe(subscription)


def stream_headers() -> dict[str, Any]:
    return {
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-store",
        # A buffering proxy (nginx) would hold the events back.
        "X-Accel-Buffering": "no",
    }
