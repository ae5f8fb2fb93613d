"""The one generic recovery: messages handed to the broker whose work never got done.

A message that is handed over and not completed is in one of three places:

- **waiting in its queue** behind others: left alone, however long the backlog;
- **running**: started by a worker less than ``OUTBOX_LEASE_SECONDS`` ago (longer than
  Celery's hard time limit, after which no worker is still on it): left alone;
- **lost**: the broker forgot it (restarted without persistence, a worker killed while holding
  it unacknowledged), or its worker died while running it.

Queues are first in, first out, so the broker's count of messages waiting in a queue says
which of the messages handed over to that queue and not yet started are still in it: the most
recently handed over that many. Older ones that no worker started within
``OUTBOX_LOST_AFTER_SECONDS`` of being handed over are not in the queue, and are lost. A
running message whose lease ran out is lost too. Lost messages go back to waiting and the due
dispatcher hands them over again; their tasks are idempotent and run under the message's
lock, so a late original does no harm.

Recovery and the due dispatcher run on their own queue (``OUTBOX_HOUSEKEEPING_QUEUE``, with
its own worker), so they never wait behind the backlog they are meant to clear.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from typing import Any

from celery import current_app
from celery.signals import worker_ready
from django.conf import settings
from django.db import close_old_connections
from django.db.models import F, Q
from django.utils import timezone

from orders.models import OutboxMessage
from orders.outbox.dispatch import BROKER_ERRORS, outbox_dispatch_due
from orders.signals import worker_restarted

logger = logging.getLogger(__name__)


def broker_waiting(queues: set[str]) -> dict[str, int]:
    """How many messages wait in each queue, as the broker counts them (raises a broker
    error when it cannot be asked)."""
    counts: dict[str, int] = {}
    with current_app.connection_for_write() as connection:
        channel = connection.default_channel
        for name in sorted(queues):
            # Declaring is idempotent and, unlike a passive declare, answers for a queue the
            # broker dropped along with its messages (then 0).
            counts[name] = int(
                channel.queue_declare(queue=name, durable=True, auto_delete=False).message_count
            )
    return counts


def _not_started_since_dispatch() -> Q:
    return Q(started_at__isnull=True) | Q(started_at__lt=F("dispatched_at"))


def outbox_find_lost(*, now: datetime.datetime | None = None, limit: int = 5000) -> list[int]:
    """The messages that are lost (see the module docstring), oldest first."""
    now = now or timezone.now()
    in_flight = OutboxMessage.objects.filter(
        dispatched_at__isnull=False, completed_at__isnull=True, failed_at__isnull=True
    )
    lease_cutoff = now - datetime.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    died_running = list(
        in_flight.filter(started_at__gte=F("dispatched_at"), started_at__lt=lease_cutoff)
        .order_by("started_at")
        .values_list("pk", flat=True)[:limit]
    )
    queued = in_flight.filter(_not_started_since_dispatch())
    queues = set(queued.values_list("queue", flat=True).distinct())
    if not queues:
        return died_running
    waiting = broker_waiting(queues)
    lost_cutoff = now - datetime.timedelta(seconds=settings.OUTBOX_LOST_AFTER_SECONDS)
    lost_queued: dict[str, list[int]] = defaultdict(list)
    for queue in queues:
        # Newest first: the first ``waiting[queue]`` are the ones still in the queue.
        candidates = (
            queued.filter(queue=queue)
            .order_by("-dispatched_at", "-id")
            .values_list("pk", "dispatched_at")[waiting[queue] : waiting[queue] + limit]
        )
        lost_queued[queue] = [pk for pk, at in candidates if at is not None and at < lost_cutoff]
    lost = died_running + [pk for pks in lost_queued.values() for pk in pks]
    return sorted(set(lost))


def outbox_recover(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Put lost messages back to waiting and hand over everything due. Returns counts."""
    now = now or timezone.now()
    try:
        lost = outbox_find_lost(now=now)
    except BROKER_ERRORS as exc:
        logger.warning("outbox recovery: broker unavailable (%s); trying again later", exc)
        return {"lost": 0, "dispatched": 0}
    # Only those nothing moved meanwhile (started, completed, or handed over anew).
    requeued = (
        OutboxMessage.objects.filter(
            pk__in=lost,
            dispatched_at__isnull=False,
            completed_at__isnull=True,
            failed_at__isnull=True,
        )
        .filter(
            Q(started_at__lt=now - datetime.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS))
            | _not_started_since_dispatch()
        )
        .update(
            dispatched_at=None,
            not_before=timezone.now(),
            last_error="recovery: lost, sent again",
        )
        if lost
        else 0
    )
    if requeued:
        logger.warning("outbox recovery: %d lost message(s) sent again", requeued)
    return {"lost": requeued, "dispatched": outbox_dispatch_due()}


def outbox_recover_from_restart(worker: str, *, booted_at: datetime.datetime) -> int:
    """A worker started under ``worker``'s node name: what a previous worker of that name
    started and never completed (it was killed) is lost now, without waiting for the lease.
    Node names are unique among running workers, so no live worker is on those messages."""
    if not worker:
        return 0
    requeued = OutboxMessage.objects.filter(
        started_by=worker,
        started_at__lt=booted_at,
        started_at__gte=F("dispatched_at"),
        dispatched_at__isnull=False,
        completed_at__isnull=True,
        failed_at__isnull=True,
    ).update(
        dispatched_at=None,
        not_before=timezone.now(),
        last_error=f"recovery: {worker} restarted before finishing it, sent again",
    )
    if requeued:
        logger.warning("outbox: %d message(s) left by %s's last run sent again", requeued, worker)
    return requeued


@worker_ready.connect(dispatch_uid="orders.outbox.recover_from_restart")
def _worker_ready(sender: Any = None, **kwargs: Any) -> None:
    hostname = str(getattr(sender, "hostname", "") or "")
    booted_at = timezone.now()
    try:
        if hostname:
            # First what the dead worker left marked running (provisioning's task attempts),
            # so that the messages sent again below find it settled, not "still running".
            worker_restarted.send(sender=None, worker=hostname, booted_at=booted_at)
        if outbox_recover_from_restart(hostname, booted_at=booted_at):
            outbox_dispatch_due()
    except Exception:  # never keep a worker from starting; recovery's lease still covers it
        logger.exception("outbox: could not look for work left by %s's last run", hostname)
    finally:
        close_old_connections()


def outbox_purge_completed(*, now: datetime.datetime | None = None, batch: int = 5000) -> int:
    """Delete completed messages older than OUTBOX_KEEP_COMPLETED_DAYS, a batch at a time."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.OUTBOX_KEEP_COMPLETED_DAYS)
    old = list(
        OutboxMessage.objects.filter(completed_at__lt=cutoff)
        .order_by("completed_at")
        .values_list("pk", flat=True)[:batch]
    )
    if not old:
        return 0
    deleted, _ = OutboxMessage.objects.filter(pk__in=old).delete()
    return deleted
