"""Reads about orders, shaped for the people who look at them."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from orders.events import CUSTOMER_EVENT_TEXT
from orders.models import Order, OrderEvent
from orders.states import CUSTOMER_LABEL, OrderStatus


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    current = start
    while days > 0:
        current += datetime.timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def estimated_activation_date(order: Order) -> datetime.date | None:
    """What we promise the customer. None when there is nothing to promise."""
    today = timezone.localdate()
    requested = order.requested_activation_date
    if order.activated_at is not None:
        return order.activation_date
    status = order.status
    if status in (OrderStatus.REJECTED, OrderStatus.CANCELLED):
        return None
    if status == OrderStatus.SCHEDULED:
        return requested
    if status == OrderStatus.AWAITING_MANUAL:
        submitted = timezone.localdate(order.submitted_at)
        quoted = add_working_days(submitted, settings.MANUAL_PROVISIONING_LEAD_DAYS)
        return max(quoted, requested or quoted, today)
    if status == OrderStatus.EXCEPTION:
        return max(add_working_days(today, 1), requested or today)
    return max(today, requested or today)


def customer_status_label(order: Order) -> str:
    label = CUSTOMER_LABEL[OrderStatus(order.status)]
    if order.status == OrderStatus.SCHEDULED and order.requested_activation_date:
        return f"{label} for {order.requested_activation_date:%-d %B %Y}"
    return label


@dataclass(frozen=True)
class CustomerTimelineEntry:
    at: datetime.datetime
    text: str
    status: str


def customer_timeline(order: Order) -> list[CustomerTimelineEntry]:
    """Status changes in customer words, oldest first. No internal reasons or codes."""
    # values_list, not only(): the related manager would load each row's deferred order_id.
    rows = order.events.filter(kind=OrderEvent.Kind.STATUS_CHANGED).values_list(
        "created_at", "to_status"
    )
    return [
        CustomerTimelineEntry(
            at=at,
            text=CUSTOMER_EVENT_TEXT[OrderStatus(to_status)],
            status=CUSTOMER_LABEL[OrderStatus(to_status)],
        )
        for at, to_status in rows
    ]


def order_recent_events(order: Order, *, limit: int = 50) -> list[OrderEvent]:
    """The newest events (all kinds) with their actors, newest first."""
    return list(order.events.select_related("actor").order_by("-created_at", "-id")[:limit])


def order_last_event_id(order: Order) -> int:
    return order.events.order_by("-id").values_list("id", flat=True).first() or 0


def order_detail_queryset() -> QuerySet[Order]:
    return Order.objects.select_related("customer", "plan", "service_area", "submitted_by")
