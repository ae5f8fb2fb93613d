"""Transactional outbox (DESIGN invariant 3).

``outbox_enqueue`` writes the message in the caller's transaction and sends it to the broker
only after that transaction commits. If the broker is down at that moment the row stays
undispatched and ``outbox_sweep`` (Celery beat) sends it later. Nothing leaves before commit;
nothing committed is lost.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from orders.models import Order, OutboxMessage

logger = logging.getLogger(__name__)

# What a broker outage looks like from the sending side.
BROKER_ERRORS: tuple[type[BaseException], ...] = (OperationalError, ConnectionError, OSError)


def outbox_enqueue(
    task_name: str, *, order: Order | None = None, countdown: float = 0, **kwargs: Any
) -> OutboxMessage:
    """Record ``task_name(**kwargs)`` for dispatch after the current transaction commits."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_enqueue must run inside the transaction that causes the work")
    if order is not None:
        kwargs.setdefault("order_id", order.pk)
    message = OutboxMessage.objects.create(
        task_name=task_name,
        order=order,
        kwargs=kwargs,
        not_before=timezone.now() + datetime.timedelta(seconds=countdown),
    )
    transaction.on_commit(lambda: outbox_dispatch(message.pk))
    return message


def outbox_dispatch(message_id: int) -> bool:
    """Send one message to the broker; True when it was handed over (now or before)."""
    message = OutboxMessage.objects.filter(pk=message_id, dispatched_at__isnull=True).first()
    if message is None:
        return True
    task = current_app.tasks[message.task_name]
    countdown = max(0.0, (message.not_before - timezone.now()).total_seconds())
    try:
        task.apply_async(kwargs=message.kwargs, countdown=countdown or None)
    except BROKER_ERRORS as exc:
        logger.warning(
            "outbox: broker unavailable for %s (order %s): %s; the sweeper will resend",
            message.task_name,
            message.order_id,
            exc,
        )
        OutboxMessage.objects.filter(pk=message.pk).update(
            send_attempts=message.send_attempts + 1, last_error=str(exc)[:2000]
        )
        return False
    OutboxMessage.objects.filter(pk=message.pk, dispatched_at__isnull=True).update(
        dispatched_at=timezone.now(), send_attempts=message.send_attempts + 1
    )
    return True


def outbox_sweep(*, limit: int = 500) -> int:
    """Send messages that missed their after-commit dispatch. Returns how many were sent."""
    cutoff = timezone.now() - datetime.timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS)
    pending = list(
        OutboxMessage.objects.filter(dispatched_at__isnull=True, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    sent = sum(1 for pk in pending if outbox_dispatch(pk))
    if pending:
        logger.info("outbox sweep: %d of %d pending messages sent", sent, len(pending))
    return sent
