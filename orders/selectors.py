"""Reads about orders, shaped for the people who look at them."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from orders.access import restrict_orders
from orders.eligibility import EligibilityReason
from orders.events import CUSTOMER_EVENT_TEXT
from orders.models import Order, OrderEvent
from orders.states import CUSTOMER_LABEL, OrderStatus

T = TypeVar("T")


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    current = start
    while days > 0:
        current += datetime.timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def activation_promise(
    *, automated: bool, start: datetime.date, requested: datetime.date | None = None
) -> datetime.date:
    """The one rule for the day we tell a customer their line will be live, for an order whose
    work starts on ``start`` (the day it was taken, or the day a held order is released):
    that day where the network activates by itself, the manual lead time later (in working
    days) where our team sets the line up; never before the requested date, nor today."""
    today = timezone.localdate()
    earliest = (
        start if automated else add_working_days(start, settings.MANUAL_PROVISIONING_LEAD_DAYS)
    )
    return max(earliest, requested or earliest, today)


def estimated_activation_date(order: Order) -> datetime.date | None:
    """What we promise the customer (``activation_promise`` for the order as it stands).
    None when there is nothing to promise."""
    today = timezone.localdate()
    requested = order.requested_activation_date
    if order.activated_at is not None:
        return order.activation_date
    status = order.status
    if status in (OrderStatus.REJECTED, OrderStatus.CANCELLED):
        return None
    if status == OrderStatus.EXCEPTION:
        return max(add_working_days(today, 1), requested or today)
    submitted = timezone.localdate(order.submitted_at)
    if status == OrderStatus.AWAITING_MANUAL:
        return activation_promise(automated=False, start=submitted, requested=requested)
    if status == OrderStatus.PROVISIONING:
        return activation_promise(automated=True, start=today, requested=requested)
    # Received or held until its date: the area decides how it will be set up.
    start = requested if status == OrderStatus.SCHEDULED and requested else submitted
    automated = order.service_area.auto_provisioning
    return activation_promise(automated=automated, start=start, requested=requested)


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


# --- worklists ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Worklist(Generic[T]):
    """The first ``len(items)`` rows of a list of ``total``: pages never load an unbounded list."""

    items: list[T]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.items)


def worklist(queryset: QuerySet, *, limit: int) -> Worklist:  # type: ignore[type-arg]
    """``queryset`` cut to ``limit`` rows, with the full count (two queries)."""
    items = list(queryset[:limit])
    total = len(items) if len(items) < limit else queryset.count()
    return Worklist(items=items, total=total)


def with_latest_status_event(queryset: QuerySet[Order]) -> QuerySet[Order]:
    """``queryset`` annotated from each order's newest status event: ``status_since`` (when it
    entered its current status), ``status_reason_code`` and ``status_reason``. One query."""
    latest = OrderEvent.objects.filter(
        order=OuterRef("pk"), kind=OrderEvent.Kind.STATUS_CHANGED
    ).order_by("-created_at", "-id")
    return queryset.annotate(
        status_since=Subquery(latest.values("created_at")[:1]),
        status_reason_code=Subquery(latest.values("reason_code")[:1]),
        status_reason=Subquery(latest.values("reason")[:1]),
    )


@dataclass(frozen=True)
class SalesOrderRow:
    order: Order
    customer_label: str


# Status-event reason codes that mean the order's own data is wrong or missing: only the
# person who took the order can put it right, with the customer. Network failures (port,
# profile, line test...) are provisioning's to solve, so exceptions stay out unless their
# reason is one of these.
SALES_FIXABLE_REASONS = frozenset({EligibilityReason.INCOMPLETE_PAYLOAD.value})
# A rejection is the rep's to explain to the customer (another plan, another address); after
# this long it is history, not work.
REJECTION_FOLLOW_UP = datetime.timedelta(days=30)


def sales_orders_submitted_by(
    user: User | AnonymousUser, *, limit: int = 25
) -> list[SalesOrderRow]:
    """The newest ``limit`` orders ``user`` took, newest first, with the status the customer
    reads. Only orders ``user`` submitted, and only those the restriction path lets them see."""
    orders = restrict_orders(
        Order.objects.filter(submitted_by_id=user.pk).select_related("customer", "plan"), user
    ).order_by("-submitted_at", "-pk")[:limit]
    return [SalesOrderRow(order=o, customer_label=customer_status_label(o)) for o in orders]


def sales_orders_needing_information(
    user: User | AnonymousUser, *, now: datetime.datetime | None = None, limit: int = 50
) -> Worklist[Order]:
    """Orders ``user`` took that wait on them, oldest trouble first:

    - rejected in the last ``REJECTION_FOLLOW_UP`` (the customer needs another plan or to be
      told why);
    - waiting in the manual pool or held in exception when the status event that put them
      there carries a reason in ``SALES_FIXABLE_REASONS`` (data only sales can complete).

    Each order carries ``status_since``, ``status_reason_code`` and ``status_reason``.
    """
    now = now or timezone.now()
    mine = restrict_orders(Order.objects.filter(submitted_by_id=user.pk), user)
    queryset = (
        with_latest_status_event(mine)
        .filter(
            Q(status=OrderStatus.REJECTED, closed_at__gte=now - REJECTION_FOLLOW_UP)
            | Q(
                status__in=[OrderStatus.AWAITING_MANUAL, OrderStatus.EXCEPTION],
                status_reason_code__in=sorted(SALES_FIXABLE_REASONS),
            )
        )
        .select_related("customer", "plan")
        .order_by(F("status_since").asc(), "pk")
    )
    return worklist(queryset, limit=limit)
