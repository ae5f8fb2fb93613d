"""Writes and reads of the tallies (observability.models): counts kept in step with the events
they count, so a scrape never counts the orders table."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Count, F, QuerySet, Sum
from django.utils import timezone

from observability.models import Tally, TallyDelta

# Deltas folded per transaction: a backlog (beat stopped for a while) is folded in steps.
FOLD_BATCH = 5000


class Metric(enum.StrEnum):
    """The tallied metrics (the label each one's rows carry is in brackets)."""

    ORDERS_BY_STATE = "orders_by_state"  # [state]
    TASK_ATTEMPTS = "task_attempts"  # [task type]
    TASK_FAILURES = "task_failures"  # [reason code]
    EMAILS_SENT = "emails_sent"  # [notice kind]
    # ["retrying": a try failed, it is tried again; "given_up": it will not be sent]
    EMAILS_FAILED = "emails_failed"
    OUTBOX_GIVEN_UP = "outbox_given_up"  # [task name]
    HUB_ATTEMPTS = "hub_delivery_attempts"  # ["delivered" or "failed"]
    HUB_GIVEN_UP = "hub_deliveries_given_up"  # [event type]


def tally_add(metric: Metric, label: str, delta: int = 1) -> None:
    """Count ``delta`` for ``metric``/``label`` in the caller's transaction: it commits (or rolls
    back) with the event it counts."""
    if delta:
        TallyDelta.objects.create(metric=metric, label=label[:120], delta=delta)


def tally_fold(*, batch: int = FOLD_BATCH) -> int:
    """Move up to ``batch`` deltas, oldest first, into their tallies and delete them, in one
    transaction; safe beside a concurrent fold (each delta is taken by one: SKIP LOCKED).
    Returns how many it folded."""
    with transaction.atomic():
        rows = list(
            TallyDelta.objects.select_for_update(skip_locked=True)
            .order_by("id")
            .values_list("id", "metric", "label", "delta")[:batch]
        )
        if not rows:
            return 0
        sums: dict[tuple[str, str], int] = defaultdict(int)
        for _, metric, label, delta in rows:
            sums[(metric, label)] += delta
        now = timezone.now()
        for (metric, label), delta in sorted(sums.items()):
            updated = Tally.objects.filter(metric=metric, label=label).update(
                value=F("value") + delta, updated_at=now
            )
            if not updated:
                tally, created = Tally.objects.get_or_create(
                    metric=metric, label=label, defaults={"value": delta, "updated_at": now}
                )
                if not created:
                    Tally.objects.filter(pk=tally.pk).update(
                        value=F("value") + delta, updated_at=now
                    )
        TallyDelta.objects.filter(id__in=[row[0] for row in rows]).delete()
        return len(rows)


def tally_values(metrics: Iterable[Metric] | None = None) -> dict[str, dict[str, int]]:
    """Each metric's count per label: the tallies plus the deltas not folded yet (exact at the
    moment of reading). Reads two small tables."""
    names = [str(m) for m in (metrics if metrics is not None else Metric)]
    values: dict[str, dict[str, int]] = {name: {} for name in names}
    for metric, label, value in Tally.objects.filter(metric__in=names).values_list(
        "metric", "label", "value"
    ):
        values[metric][label] = value
    pending = (
        TallyDelta.objects.filter(metric__in=names)
        .order_by()
        .values_list("metric", "label")
        .annotate(total=Sum("delta"))
    )
    for metric, label, total in pending:
        values[metric][label] = values[metric].get(label, 0) + (total or 0)
    return values


def tally_pending() -> int:
    """Deltas not folded yet (a growing number means the fold does not run)."""
    return TallyDelta.objects.count()


def tally_rebuild() -> dict[str, dict[str, int]]:
    """Count everything tallied from scratch, in one transaction, and replace the tallies (and
    the pending deltas) with the counts: after a bulk load (bench data, an import) that wrote
    rows without their events. Failed e-mail tries that were retried are on record nowhere:
    their count starts again from 0 (a counter reset, which Prometheus expects). Costs a full
    count of each table: run by hand (``manage.py metrics_tally_rebuild``), never per scrape.
    Returns the new counts."""
    from notices.models import CustomerNotice
    from orders.models import Order, OutboxMessage
    from provisioning.models import TaskAttempt
    from tmf.models import DeliveryAttempt, EventDelivery

    def grouped(qs: QuerySet[Any], field: str) -> dict[str, int]:
        rows = qs.order_by().values_list(field).annotate(n=Count("pk"))
        return {str(label or ""): n for label, n in rows}

    from notices.services import NOTICE_EMAIL_TASK

    with transaction.atomic():
        counts: dict[str, dict[str, int]] = {
            Metric.ORDERS_BY_STATE: grouped(Order.objects.all(), "status"),
            Metric.TASK_ATTEMPTS: grouped(TaskAttempt.objects.all(), "task__task_type"),
            Metric.TASK_FAILURES: grouped(
                TaskAttempt.objects.filter(outcome=TaskAttempt.Outcome.FAILED), "error_code"
            ),
            Metric.EMAILS_SENT: grouped(
                CustomerNotice.objects.filter(sent_at__isnull=False), "kind"
            ),
            # Only the give-ups are on record; failed tries that were retried are not.
            Metric.EMAILS_FAILED: {
                "given_up": OutboxMessage.objects.filter(
                    task_name=NOTICE_EMAIL_TASK, failed_at__isnull=False
                ).count()
            },
            Metric.OUTBOX_GIVEN_UP: grouped(
                OutboxMessage.objects.filter(failed_at__isnull=False), "task_name"
            ),
            Metric.HUB_ATTEMPTS: {
                "delivered": DeliveryAttempt.objects.filter(
                    status_code__gte=200, status_code__lt=300
                ).count(),
                "failed": DeliveryAttempt.objects.count()
                - DeliveryAttempt.objects.filter(status_code__gte=200, status_code__lt=300).count(),
            },
            Metric.HUB_GIVEN_UP: grouped(
                EventDelivery.objects.filter(status=EventDelivery.Status.FAILED), "event_type"
            ),
        }
        TallyDelta.objects.all().delete()
        Tally.objects.all().delete()
        now = timezone.now()
        Tally.objects.bulk_create(
            Tally(metric=metric, label=label, value=n, updated_at=now)
            for metric, labels in counts.items()
            for label, n in labels.items()
            if n
        )
    return {
        str(metric): {k: v for k, v in labels.items() if v} for metric, labels in counts.items()
    }
