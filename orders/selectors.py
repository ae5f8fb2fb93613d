"""Reads about orders, shaped for the people who look at them."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower
from django.utils import timezone

from orders import order_id
from orders.access import restrict_orders
from orders.eligibility import EligibilityReason
from orders.events import CUSTOMER_EVENT_TEXT
from orders.models import Customer, Order, OrderEvent, OrderItem
from orders.paging import BadCursor, bounded_count, keyset_page
from orders.services import normalize_phone
from orders.states import CUSTOMER_ITEM_LABEL, CUSTOMER_LABEL, ItemState, OrderStatus

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
    if status in (OrderStatus.REJECTED, OrderStatus.CANCELLING, OrderStatus.CANCELLED):
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
    if order.status == OrderStatus.SCHEDULED and order.waits_for_id is not None:
        return f"{label}: when your new line is live"  # the old line's cease, in a move
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


# A phone number is searched when the text has at least this many digits.
MIN_PHONE_DIGITS = 6


def customers_matching(text: str) -> QuerySet[Any]:
    """Customers whose name contains ``text``, whose e-mail is ``text`` (in any case) or whose
    phone is ``text`` (normalised), as ids for a subquery. Each condition is one the customer
    table's own indexes answer (a trigram index on UPPER(name) on PostgreSQL, the unique index
    on LOWER(email), the phone index), so the database combines three index reads instead of
    reading every customer beside the orders."""
    match = Q(name__icontains=text) | Q(email_lower=text.lower())
    phone = normalize_phone(text)
    if len(phone.lstrip("+")) >= MIN_PHONE_DIGITS:
        match |= Q(phone=phone)
    return Customer.objects.alias(email_lower=Lower("email")).filter(match).values("pk")


def orders_matching(text: str) -> QuerySet[Any]:
    """IDs of the orders ``text`` finds as the back office searches: the order ID it names
    (any spelling) or starts, or any order of a customer ``customers_matching`` finds. A union
    of index reads (the ID's index, the customer's orders), for a subquery."""
    compact = "".join(ch for ch in text.upper() if ch.isalnum())
    orders = Order.objects.order_by()  # no ORDER BY inside a UNION's parts (SQLite)
    ids = orders.none().values("pk")
    if order_id.is_valid(text):
        ids = orders.filter(pk=order_id.normalize(text)).values("pk")
    elif compact:
        ids = orders.filter(pk__startswith=compact).values("pk")
    by_customer = orders.filter(customer__in=customers_matching(text)).values("pk")
    return ids.union(by_customer)


def order_items(order: Order) -> list[OrderItem]:
    """The order's items in order (the line first), with their offerings and specifications:
    one query however many items."""
    return list(
        OrderItem.objects.filter(order=order)
        .select_related("offering__specification")
        .order_by("position", "pk")
    )


@dataclass(frozen=True)
class CustomerItem:
    """One item as the customer reads it: "Static IP: being set up", and its prices as
    ordered. No task names, internal states or reason codes."""

    label: str
    status_text: str
    recurring_price: Decimal
    one_time_price: Decimal
    currency: str
    # False for the customer's live line the order's add-ons go on: no price, no progress.
    delivers: bool = True


def _customer_item_text(item: OrderItem) -> str:
    if not item.delivers:
        return f"{item.offering.name} — your live line (no change)"
    return f"{item.customer_label}: {CUSTOMER_ITEM_LABEL[ItemState(item.state)]}"


def customer_items(order: Order) -> list[CustomerItem]:
    """The order's items in customer words (``CUSTOMER_ITEM_LABEL``), line first; a live line
    the order's add-ons go on reads as that line, unchanged."""
    return [
        CustomerItem(
            label=item.customer_label,
            status_text=_customer_item_text(item),
            recurring_price=item.recurring_price,
            one_time_price=item.one_time_price,
            currency=item.currency,
            delivers=item.delivers,
        )
        for item in order_items(order)
    ]


def order_detail_queryset() -> QuerySet[Order]:
    return Order.objects.select_related("customer", "plan", "service_area", "submitted_by")


# --- worklists ------------------------------------------------------------------------------
# Rows per worklist page: what a person works through before asking for the next page (a
# page costs its rendering; the rows beyond it are a "Next page" link away, read by key).
WORKLIST_PAGE = 25


@dataclass(frozen=True)
class Worklist(Generic[T]):
    """One page of a list: ``items`` (at most the page's limit), ``total`` (exact when
    ``total_exact``, else "more than COUNT_CAP") and ``next_cursor``, the key to ask for the
    page after this one (None on the last page). Pages never load an unbounded list."""

    items: list[T]
    total: int
    next_cursor: str | None = None
    total_exact: bool = True
    # Links to the next and to the first page, set by the view that knows the request.
    next_url: str = ""
    first_url: str = ""

    @property
    def truncated(self) -> bool:
        return self.total > len(self.items)

    @property
    def total_label(self) -> str:
        return str(self.total) if self.total_exact else f"more than {self.total - 1}"


def worklist(queryset: QuerySet, *, limit: int, after: str | None = None) -> Worklist:  # type: ignore[type-arg]
    """``queryset`` (ordered by plain fields ending in a unique one) paged by its sort key:
    ``limit`` rows after the ``after`` cursor, and the count of the whole list up to
    ``paging.COUNT_CAP``. Two queries, each an index range. A cursor that is not one
    of this list's starts from the top."""
    try:
        page = keyset_page(queryset, limit=limit, after=after)
    except BadCursor:
        page = keyset_page(queryset, limit=limit)
    # Counted even when the page holds the whole list, so that a page costs the same number
    # of queries whatever the list's length.
    total, exact = bounded_count(queryset)
    return Worklist(items=page.items, total=total, next_cursor=page.next_cursor, total_exact=exact)


def with_latest_status_event(queryset: QuerySet[Order]) -> QuerySet[Order]:
    """``queryset`` annotated with ``status_since`` (when it entered its current status: the
    stored ``status_changed_at``, which lists sort on by index) and, from each order's newest
    status event, ``status_reason_code`` and ``status_reason``. One query; the subqueries run
    only for the rows a page returns when its order is the index's."""
    latest = OrderEvent.objects.filter(
        order=OuterRef("pk"), kind=OrderEvent.Kind.STATUS_CHANGED
    ).order_by("-created_at", "-id")
    return queryset.annotate(
        status_since=F("status_changed_at"),
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
# The statuses those can be in (what order_submitted_by_status_idx narrows a rep's orders to).
SALES_TROUBLE_STATES = sorted(
    {OrderStatus.REJECTED, OrderStatus.AWAITING_MANUAL, OrderStatus.EXCEPTION}
)


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
    user: User | AnonymousUser,
    *,
    now: datetime.datetime | None = None,
    limit: int = WORKLIST_PAGE,
    after: str | None = None,
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
        .filter(status__in=SALES_TROUBLE_STATES)
        .filter(
            Q(status=OrderStatus.REJECTED, closed_at__gte=now - REJECTION_FOLLOW_UP)
            | Q(
                status__in=[OrderStatus.AWAITING_MANUAL, OrderStatus.EXCEPTION],
                status_reason_code__in=sorted(SALES_FIXABLE_REASONS),
            )
        )
        .select_related("customer", "plan")
        .order_by("status_changed_at", "pk")
    )
    return worklist(queryset, limit=limit, after=after)
