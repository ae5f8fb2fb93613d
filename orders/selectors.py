"""Reads about orders, shaped for the people who look at them."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import F, Max, OuterRef, Q, QuerySet, Subquery, TextChoices
from django.db.models.functions import Lower
from django.utils import timezone

from orders import order_id
from orders.access import restrict_orders
from orders.cycle_times import estimate_for, start_day
from orders.eligibility import EligibilityReason
from orders.events import CUSTOMER_EVENT_TEXT
from orders.installed_base import live_line, product_origin
from orders.models import (
    Customer,
    EstimateLevel,
    Jeopardy,
    Order,
    OrderEvent,
    OrderItem,
    Plan,
    ServiceArea,
    Technology,
)
from orders.paging import BadCursor, bounded_count, keyset_page
from orders.services import normalize_phone
from orders.states import (
    CHANGE_ITEM_LABEL,
    CUSTOMER_ITEM_LABEL,
    CUSTOMER_LABEL,
    ItemAction,
    ItemChange,
    ItemState,
    OrderStatus,
)

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


class EstimateBasis(TextChoices):
    """What an expected activation date rests on, in the words the customer and staff read."""

    AREA_PLAN = "area_plan", "recent activations of this plan in your area"
    AREA = "area", "recent activations in your area"
    TECHNOLOGY = "technology", "recent activations"
    STANDARD = "standard", "our standard lead time"
    UNDER_WAY = "under_way", "activation is under way"
    DELAYED = "delayed", "our standard lead time after a delay"
    JEOPARDY = "jeopardy", "moved: setting up your order is taking longer than planned"
    LIVE = "live", "the day your line went live"


MEASURED_BASIS = {
    EstimateLevel.AREA_PLAN: EstimateBasis.AREA_PLAN,
    EstimateLevel.AREA: EstimateBasis.AREA,
    EstimateLevel.TECHNOLOGY: EstimateBasis.TECHNOLOGY,
}


@dataclass(frozen=True)
class ActivationEstimate:
    """The day we expect an order's line to be live, and what that rests on."""

    date: datetime.date
    basis: EstimateBasis
    sample_size: int = 0
    technology: str = ""

    @property
    def words(self) -> str:
        """In words: "based on 57 recent activations in your area", "our standard lead time"."""
        if self.basis == EstimateBasis.TECHNOLOGY:
            technology = Technology(self.technology).label if self.technology else ""
            return f"based on {self.sample_size} recent {technology} activations"
        if self.basis in MEASURED_BASIS.values():
            return f"based on {self.sample_size} {self.basis.label}"
        return str(self.basis.label)


def promise_for(
    area: ServiceArea, plan: Plan | int, *, start: datetime.date, requested: datetime.date | None
) -> ActivationEstimate:
    """The promise for an order of ``plan`` in ``area`` whose clock starts on ``start``: the
    measured cycle time of the narrowest group with enough recent activations
    (orders.cycle_times, no query), else the standard lead time (``activation_promise``)."""
    measured = estimate_for(area, plan)
    if measured is None:
        day = activation_promise(automated=area.auto_provisioning, start=start, requested=requested)
        return ActivationEstimate(day, EstimateBasis.STANDARD)
    earliest = add_working_days(start, measured.working_days)
    day = max(earliest, requested or earliest, timezone.localdate())
    return ActivationEstimate(
        day,
        MEASURED_BASIS[EstimateLevel(measured.level)],
        sample_size=measured.sample_size,
        technology=measured.technology,
    )


def _rule_estimate(order: Order) -> ActivationEstimate | None:
    today = timezone.localdate()
    requested = order.requested_activation_date
    status = order.status
    if status in (OrderStatus.REJECTED, OrderStatus.CANCELLING, OrderStatus.CANCELLED):
        return None
    if status == OrderStatus.EXCEPTION:
        day = max(add_working_days(today, 1), requested or today)
        return ActivationEstimate(day, EstimateBasis.DELAYED)
    if status == OrderStatus.PROVISIONING:
        day = activation_promise(automated=True, start=today, requested=requested)
        return ActivationEstimate(day, EstimateBasis.UNDER_WAY)
    area = order.service_area
    if status == OrderStatus.AWAITING_MANUAL and area.auto_provisioning:
        # Off its area's usual road (the area's activations are automatic): the team's time.
        submitted = timezone.localdate(order.submitted_at)
        day = activation_promise(automated=False, start=submitted, requested=requested)
        return ActivationEstimate(day, EstimateBasis.STANDARD)
    # Received, held until its date, or with the team where the team does every activation.
    start = start_day(order.submitted_at, requested)
    return promise_for(area, order.plan_id, start=start, requested=requested)


OPEN_JEOPARDY_EXPECTED_AT = "open_jeopardy_expected_at"


def _open_jeopardy_expected_at(order: Order) -> datetime.datetime | None:
    if hasattr(order, OPEN_JEOPARDY_EXPECTED_AT):  # read with the list (with_activation_estimate)
        return getattr(order, OPEN_JEOPARDY_EXPECTED_AT)
    return (
        Jeopardy.objects.filter(order=order, cleared_at__isnull=True)
        .aggregate(at=Max("expected_at"))
        .get("at")
    )


def with_activation_estimate(queryset: QuerySet[Order]) -> QuerySet[Order]:
    """``queryset`` read with what ``activation_estimate`` needs beyond the order's row and its
    area: the latest new date of its open jeopardies, as one correlated subquery over the open
    jeopardies' partial index (jeopardy_open_order_idx), so a list costs no query per order.
    (A column on the order kept in step by the jeopardy code would save the subquery but could
    drift from the jeopardies it copies; the subquery reads them as they are.)"""
    latest = (
        Jeopardy.objects.filter(
            order=OuterRef("pk"), cleared_at__isnull=True, expected_at__isnull=False
        )
        .order_by("-expected_at")
        .values("expected_at")[:1]
    )
    return queryset.annotate(**{OPEN_JEOPARDY_EXPECTED_AT: Subquery(latest)})


def activation_estimate(order: Order) -> ActivationEstimate | None:
    """What we promise the customer, and on what basis; None when there is nothing to promise.

    Measured cycle times where enough recent activations were measured, else the standard lead
    time; never before today or the requested day. While a jeopardy of the order is open with a
    new expected date later than that, the promise is that date: it never goes back earlier
    until the jeopardy clears. Costs no query for an order read ``with_activation_estimate``
    (and with its service area), one otherwise."""
    if order.activated_at is not None:
        return ActivationEstimate(timezone.localdate(order.activated_at), EstimateBasis.LIVE)
    estimate = _rule_estimate(order)
    if estimate is None:
        return None
    moved_to = _open_jeopardy_expected_at(order)
    if moved_to is not None and timezone.localdate(moved_to) > estimate.date:
        return ActivationEstimate(timezone.localdate(moved_to), EstimateBasis.JEOPARDY)
    return estimate


def estimate_context(order: Order) -> dict[str, Any]:
    """The expected activation date and the words of its basis, as the order pages show them
    (``estimated_activation``, ``estimated_activation_basis``)."""
    estimate = activation_estimate(order)
    return {
        "estimated_activation": estimate.date if estimate else None,
        "estimated_activation_basis": estimate.words if estimate else "",
    }


def estimated_activation_date(order: Order) -> datetime.date | None:
    """The day of ``activation_estimate``: what we promise the customer. None when there is
    nothing to promise."""
    estimate = activation_estimate(order)
    return estimate.date if estimate is not None else None


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
    # Internal: what the customer's page turns into words (notices.customer_words), never shown.
    reason_code: str = ""


# A change to a live line (not add-ons on it) is done, not "live" and "billing started".
CHANGE_EVENT_TEXT = {
    OrderStatus.ACTIVATED: "The change is made on your line.",
    OrderStatus.COMPLETED: "All done: the change is in place on your account.",
}
CEASE_EVENT_TEXT = {
    OrderStatus.ACTIVATED: "Your line is switched off.",
    OrderStatus.COMPLETED: "All done: your service is ceased.",
}


def _change_event_texts(order: Order) -> dict[OrderStatus, str]:
    if order.product_ref is None:
        return {}
    action = (
        OrderItem.objects.filter(order=order, parent__isnull=True)
        .values_list("action", flat=True)
        .first()
    )
    if action == ItemAction.DELETE:
        return CEASE_EVENT_TEXT
    return CHANGE_EVENT_TEXT if action == ItemAction.MODIFY else {}


def customer_timeline(order: Order) -> list[CustomerTimelineEntry]:
    """Status changes in customer words, oldest first. No internal reasons or codes. A change
    to a live line (speed change, suspension, cease) reads as the change being made."""
    # values_list, not only(): the related manager would load each row's deferred order_id.
    rows = order.events.filter(kind=OrderEvent.Kind.STATUS_CHANGED).values_list(
        "created_at", "to_status", "reason_code"
    )
    texts = {**CUSTOMER_EVENT_TEXT, **_change_event_texts(order)}
    return [
        CustomerTimelineEntry(
            at=at,
            text=texts[OrderStatus(to_status)],
            status=CUSTOMER_LABEL[OrderStatus(to_status)],
            reason_code=reason_code,
        )
        for at, to_status, reason_code in rows
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
        .select_related("offering__specification", "from_offering")
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
    # A change to a live product: "Speed change to Fibre 900", "Cease of your Fibre 500 line".
    change_title: str = ""
    # A plan change: the new plan's monthly price is what it costs (the others cost nothing).
    priced: bool = True


def _customer_item_text(item: OrderItem) -> str:
    if not item.delivers:
        return f"{item.offering.name} — your live line (no change)"
    title = item.customer_change_title
    if title:
        return f"{title}: {CHANGE_ITEM_LABEL[ItemState(item.state)]}"
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
            change_title=item.customer_change_title,
            priced=item.action == ItemAction.ADD
            or (item.action == ItemAction.MODIFY and item.change == ItemChange.PLAN),
        )
        for item in order_items(order)
    ]


def order_detail_queryset() -> QuerySet[Order]:
    return with_activation_estimate(
        Order.objects.select_related("customer", "plan", "service_area", "submitted_by")
    )


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


@dataclass(frozen=True)
class ChangedProduct:
    """The live product an order is about (Order.product_ref), as the order's page names it:
    its name today and the order that delivered it."""

    product_id: Any
    name: str
    origin_order_id: str | None


def order_changed_product(order: Order) -> ChangedProduct | None:
    """The product ``order`` changes (add-ons, a plan change, a suspension, a cease), or None
    for an order of a new line. Two queries, each by primary key."""
    if order.product_ref is None:
        return None
    line = live_line(order.product_ref)
    origin = product_origin(order.product_ref)
    return ChangedProduct(
        product_id=order.product_ref,
        name=line.name if line is not None else str(order.product_ref),
        origin_order_id=origin[0] if origin else None,
    )


# --- move home: the two linked orders (orders.moves) ---------------------------------------
@dataclass(frozen=True)
class MoveLink:
    """The other order of ``order``'s move home, as the order's page names it: its ID, what it
    does ("Switch on at <new address>", "Stop at <old address> on the day the new line is
    live"), and how the move stands in plain words. ``partner_visible`` is False when the
    viewer may not open the other order (the page then names it without a link)."""

    partner_id: str
    partner_display_id: str
    partner_does: str
    partner_visible: bool
    this_does: str
    state_text: str


def _move_does(order: Order, *, is_cease: bool) -> str:
    if is_cease:
        return f"Stop at {order.service_address} on the day the new line is live"
    return f"Switch on at {order.service_address}"


OFF_STATES = (OrderStatus.CANCELLING, OrderStatus.CANCELLED, OrderStatus.REJECTED)
LIVE_STATES = (OrderStatus.ACTIVATED, OrderStatus.COMPLETED, OrderStatus.PARTIAL)


def move_state_text(provide: Order, cease: Order) -> str:
    """How a move stands, in words both staff and the customer read: waiting for the new line,
    the new line live and the old one being stopped, done, or off."""
    if provide.status == OrderStatus.REJECTED:
        return "The move is off: the new line could not be provided."
    if provide.status in OFF_STATES or cease.status in OFF_STATES:
        return "The move is off: it was cancelled."
    if cease.status == OrderStatus.COMPLETED:
        return "Done: the new line is live and the old line is stopped."
    if provide.status in LIVE_STATES:
        return "The new line is live; the old line is being stopped."
    if provide.status == OrderStatus.EXCEPTION:
        return "Waiting for the new line (delayed: our team is on it); the old line stays on."
    return "Waiting for the new line; the old line stays on until it is live."


def order_move_link(order: Order, *, visible: QuerySet[Order]) -> MoveLink | None:
    """The other order of ``order``'s move home (None for an order not part of one), checked
    against ``visible`` (what the viewer may open: ``orders.access``' restriction for staff,
    ``own_orders`` for the customer). Two queries, by primary key and by ``waits_for``."""
    if order.group_id is None:
        return None
    partners = Order.objects.filter(group_id=order.group_id).exclude(pk=order.pk)
    if order.waits_for_id is not None:
        partner = partners.filter(pk=order.waits_for_id).first()
    else:
        partner = partners.filter(waits_for=order).first()
    if partner is None:
        return None
    is_cease = order.waits_for_id is not None
    provide, cease = (partner, order) if is_cease else (order, partner)
    return MoveLink(
        partner_id=partner.pk,
        partner_display_id=partner.display_id,
        partner_does=_move_does(partner, is_cease=not is_cease),
        partner_visible=visible.filter(pk=partner.pk).exists(),
        this_does=_move_does(order, is_cease=is_cease),
        state_text=move_state_text(provide, cease),
    )
