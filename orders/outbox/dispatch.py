"""Writing work down and handing it to the broker.

A message is handed over by claiming it first (``dispatched_at`` set where it was empty), so
the after-commit dispatch, the due dispatcher and recovery never hand the same message over
twice at once. The broker never holds a delayed message: one whose ``not_before`` is still
ahead waits in the table and the due dispatcher sends it when its time comes (a worker killed
while holding a delayed message would otherwise keep it out of sight for the broker's whole
visibility timeout).
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from celery import current_app
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from orders.models import Order, OutboxMessage

logger = logging.getLogger(__name__)

# What a broker outage looks like from the sending side.
BROKER_ERRORS: tuple[type[BaseException], ...] = (KombuOperationalError, ConnectionError, OSError)
TASK_ID_PREFIX = "outbox-"
# The after-commit dispatch may run a moment before ``not_before`` a countdown of 0 set.
DUE_TOLERANCE = datetime.timedelta(milliseconds=500)


def task_id_for(message_id: int) -> str:
    """The Celery task id of a message: every copy of it (and Celery's own retries) carries
    it, so a worker always knows which record it is working on."""
    return f"{TASK_ID_PREFIX}{message_id}"


def message_id_from_task_id(task_id: str | None) -> int | None:
    if not task_id or not task_id.startswith(TASK_ID_PREFIX):
        return None
    try:
        return int(task_id.removeprefix(TASK_ID_PREFIX))
    except ValueError:
        return None


def outbox_queue_for(task_name: str) -> str:
    """The queue Celery's routes send ``task_name`` to."""
    route = current_app.amqp.router.route({}, task_name)
    queue = route.get("queue")
    return str(getattr(queue, "name", queue) or current_app.conf.task_default_queue)


def outbox_enqueue(
    task_name: str,
    *,
    order: Order | None = None,
    countdown: float = 0,
    key: str = "",
    **kwargs: Any,
) -> OutboxMessage:
    """Record ``task_name(**kwargs)`` in the current transaction, to be handed to a worker
    once it commits (or ``countdown`` seconds later). With ``key``, work already recorded
    under the same key is returned instead of a second message: one e-mail per event."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_enqueue must run inside the transaction that causes the work")
    if task_name not in current_app.tasks:
        raise LookupError(f"outbox_enqueue: no task named {task_name!r}")
    if order is not None:
        kwargs.setdefault("order_id", order.pk)
    if key:
        existing = OutboxMessage.objects.filter(key=key).first()
        if existing is not None:
            return existing
    fields = {
        "task_name": task_name,
        "order": order,
        "kwargs": kwargs,
        "key": key,
        "queue": outbox_queue_for(task_name),
        "not_before": timezone.now() + datetime.timedelta(seconds=max(0.0, countdown)),
    }
    if key:
        try:
            with transaction.atomic():
                message = OutboxMessage.objects.create(**fields)
        except IntegrityError:  # the same key, written by a concurrent transaction
            return OutboxMessage.objects.get(key=key)
    else:
        message = OutboxMessage.objects.create(**fields)
    if countdown <= 0:
        transaction.on_commit(lambda: outbox_dispatch(message.pk))
    return message


def outbox_enqueue_many(
    task_name: str,
    kwargs_list: list[dict[str, Any]],
    *,
    order: Order | None = None,
    countdown: float = 0,
) -> list[OutboxMessage]:
    """``outbox_enqueue`` for several messages of one task at once: one insert, one hand-over
    after commit, however many there are (a plan's tasks that become ready together)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_enqueue must run inside the transaction that causes the work")
    if task_name not in current_app.tasks:
        raise LookupError(f"outbox_enqueue: no task named {task_name!r}")
    if not kwargs_list:
        return []
    queue = outbox_queue_for(task_name)
    not_before = timezone.now() + datetime.timedelta(seconds=max(0.0, countdown))
    messages = OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                task_name=task_name,
                order=order,
                kwargs={**({"order_id": order.pk} if order is not None else {}), **kwargs},
                queue=queue,
                not_before=not_before,
            )
            for kwargs in kwargs_list
        ]
    )
    if countdown <= 0:
        ids = [message.pk for message in messages]
        transaction.on_commit(lambda: outbox_dispatch_many(ids))
    return messages


def outbox_dispatch_many(message_ids: list[int]) -> int:
    """Hand several due messages to the broker: one claim for all of them. Returns how many
    were handed over; any the broker refused wait for the due dispatcher."""
    now = timezone.now()
    claimed = OutboxMessage.objects.filter(
        pk__in=message_ids,
        dispatched_at__isnull=True,
        completed_at__isnull=True,
        failed_at__isnull=True,
        not_before__lte=now + DUE_TOLERANCE,
    ).update(dispatched_at=now, send_attempts=F("send_attempts") + 1)
    if not claimed:
        return 0
    sent = 0
    for message in OutboxMessage.objects.filter(pk__in=message_ids, dispatched_at=now).only(
        "pk", "task_name", "kwargs", "queue", "order_id"
    ):
        if _hand_over(message, claimed_at=now):
            sent += 1
    return sent


def _hand_over(message: OutboxMessage, *, claimed_at: datetime.datetime) -> bool:
    try:
        task = current_app.tasks[message.task_name]
        task.apply_async(
            kwargs=message.kwargs, task_id=task_id_for(message.pk), queue=message.queue
        )
    except BROKER_ERRORS as exc:
        logger.warning(
            "outbox: broker unavailable for %s (order %s): %s; it will be sent again",
            message.task_name,
            message.order_id,
            exc,
        )
        OutboxMessage.objects.filter(pk=message.pk, dispatched_at=claimed_at).update(
            dispatched_at=None, last_error=f"broker: {exc}"[:2000]
        )
        return False
    return True


def outbox_dispatch(message_id: int) -> bool:
    """Hand one message to the broker if it is due and nobody has handed it over yet.
    True when this call handed it over; False when there was nothing to do or the broker is
    unavailable (then it stays waiting and the due dispatcher tries again)."""
    now = timezone.now()
    claimed = OutboxMessage.objects.filter(
        pk=message_id,
        dispatched_at__isnull=True,
        completed_at__isnull=True,
        failed_at__isnull=True,
        not_before__lte=now + DUE_TOLERANCE,
    ).update(dispatched_at=now, send_attempts=F("send_attempts") + 1)
    if not claimed:
        return False
    message = OutboxMessage.objects.only("pk", "task_name", "kwargs", "queue", "order_id").get(
        pk=message_id
    )
    return _hand_over(message, claimed_at=now)


def outbox_due(*, limit: int = 500) -> list[int]:
    """Messages waiting to be handed over whose time has come, oldest first."""
    return list(
        OutboxMessage.objects.filter(
            dispatched_at__isnull=True,
            completed_at__isnull=True,
            failed_at__isnull=True,
            not_before__lte=timezone.now(),
        )
        .order_by("not_before")
        .values_list("pk", flat=True)[:limit]
    )


def outbox_dispatch_due(*, limit: int = 500) -> int:
    """Hand over messages whose time has come and that nobody handed over (new ones whose
    after-commit dispatch failed, delayed ones, rescheduled ones, ones found lost), oldest
    first. Stops at the first broker failure. Returns how many were handed over."""
    sent = 0
    for pk in outbox_due(limit=limit):
        if outbox_dispatch(pk):
            sent += 1
        elif OutboxMessage.objects.filter(pk=pk, dispatched_at__isnull=True).exists():
            break  # the broker refused: the next round tries again
    if sent:
        logger.info("outbox: %d due message(s) handed to the broker", sent)
    return sent
