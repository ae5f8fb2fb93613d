"""Reads for support: customer contacts, and the installed base support sees on an order and
its customer."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, F, OuterRef, Prefetch, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber

from inventory.models import Product, ProductStatus
from inventory.selectors import product_state_label
from notices.receivers import ACTIVE_STATES
from orders.access import restrict_by_order
from orders.models import Customer, Order, OrderItem, ProductKind
from orders.paging import BadCursor, keyset_page
from orders.states import ItemAction
from support.csat_models import CSAT_SCORES
from support.models import CsatResponse, SupportTicket, TicketAnswer

QUEUE_PAGE_SIZE = 50


def order_tickets(order: Order) -> list[SupportTicket]:
    """The order's tickets, newest first, each with its answers oldest first (two queries)."""
    answers = Prefetch(
        "answers",
        queryset=TicketAnswer.objects.select_related("author").order_by("created_at", "id"),
    )
    return list(
        SupportTicket.objects.filter(order=order)
        .order_by("-created_at", "-id")
        .prefetch_related(answers)
    )


@dataclass(frozen=True)
class TicketQueuePage:
    tickets: list[SupportTicket]
    next_key: str | None  # the cursor where the next page starts; None on the last page


def open_tickets_queue(
    user: User | AnonymousUser, *, after: str | None = None, limit: int = QUEUE_PAGE_SIZE
) -> TicketQueuePage:
    """Open tickets whose order ``user`` may see, oldest first, ``limit`` at a time after the
    cursor ``after`` (orders.paging: a key, not an offset; one that is not this list's starts
    from the top), each with its order and customer: one query whatever the number of
    tickets, served by the partial index on open tickets (created_at, id)."""
    queryset = (
        restrict_by_order(SupportTicket.objects.filter(status=SupportTicket.Status.OPEN), user)
        .select_related("order", "customer")
        .order_by("created_at", "id")
    )
    try:
        page = keyset_page(queryset, limit=limit, after=after or None)
    except BadCursor:
        page = keyset_page(queryset, limit=limit)
    return TicketQueuePage(tickets=page.items, next_key=page.next_cursor)


# --- the installed base (inventory.Product) ---------------------------------------------------
CUSTOMER_PRODUCTS_LIMIT = 20
# What the network identifiers that fulfilment records are called on the staff pages.
IDENTIFIER_LABELS = {
    "port": "Port",
    "subscriber": "Subscriber",
    "ipv4Address": "IPv4 address",
    "cpeSerial": "Router serial",
}


def _with_takes_add_ons(products: list[Product]) -> list[Product]:
    """Each product with ``takes_add_ons``: it is an active line, so a static IP or a router
    can be ordered for it (orders.views_add_ons), and ``state_label``, its state after
    changes (inventory.selectors.product_state_label). Reads the specification and the
    delivering item: select them."""
    for product in products:
        product.state_label = product_state_label(product)  # type: ignore[attr-defined]
        line = product.specification.kind == ProductKind.INTERNET_ACCESS
        product.takes_add_ons = (  # type: ignore[attr-defined]
            line and product.status == ProductStatus.ACTIVE
        )
        # A line not ceased can be changed (orders.views_changes): plan, suspend, cease...
        product.takes_changes = (  # type: ignore[attr-defined]
            line and product.status != ProductStatus.TERMINATED
        )
    return products


def _with_identifier_rows(products: list[Product]) -> list[Product]:
    """Each product with ``identifier_rows`` and ``takes_add_ons``."""
    _with_takes_add_ons(products)
    for product in products:
        product.identifier_rows = [  # type: ignore[attr-defined]
            (IDENTIFIER_LABELS.get(key, key), value)
            for key, value in (product.network_identifiers or {}).items()
            if value
        ]
    return products


def order_products(order: Order) -> list[Product]:
    """The products the order's delivered items became, line first, each with
    ``identifier_rows`` ((label, value) of its network identifiers). One query."""
    return _with_identifier_rows(
        list(
            Product.objects.filter(order=order)
            .select_related("order_item", "specification")
            .order_by("order_item__position", "created_at")
        )
    )


def customer_products(
    customer: Customer | int, *, limit: int = CUSTOMER_PRODUCTS_LIMIT
) -> list[Product]:
    """The customer's installed base, newest first, at most ``limit`` (from any of their
    orders), each with ``identifier_rows``. One query, a range of product_customer_idx."""
    customer_id = customer.pk if isinstance(customer, Customer) else customer
    return _with_identifier_rows(
        list(
            Product.objects.filter(customer_id=customer_id)
            .select_related("specification", "order", "order_item")
            .order_by("-created_at", "-id")[:limit]
        )
    )


SEARCH_PRODUCTS_PER_CUSTOMER = 3


def products_by_customer(
    customer_ids: list[int], *, per_customer: int = SEARCH_PRODUCTS_PER_CUSTOMER
) -> dict[int, list[Product]]:
    """For each customer, their newest ``per_customer`` products, and one more if there is
    one, so the page can tell that there are more (search results show them beside each
    order), each with ``takes_add_ons``. One query: a window per customer over
    product_customer_idx. It reads each listed customer's whole installed base (a
    residential customer has a handful of products), at most the 25 customers of a search
    page."""
    ranked = (
        Product.objects.filter(customer_id__in=customer_ids)
        .select_related("specification", "order_item")
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("customer_id")],
                order_by=[F("created_at").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=per_customer + 1)
        .order_by("customer_id", "rank")
    )
    found: dict[int, list[Product]] = {pk: [] for pk in customer_ids}
    for product in _with_takes_add_ons(list(ranked)):
        found[product.customer_id].append(product)
    return found


CHANGES_PER_PRODUCT = 5


def with_change_orders(products: list[Product], *, per_product: int = CHANGES_PER_PRODUCT) -> None:
    """Each product with ``change_orders``: the newest ``per_product`` orders about it (add-ons,
    plan changes, suspensions, ceases), each with ``title``. One query for all the products: a
    window per product over the order items' product_ref index (the item naming the product
    at the top of its order)."""
    for product in products:
        product.change_orders = []  # type: ignore[attr-defined]
    if not products:
        return
    by_id: dict[Any, list[Product]] = {}
    for product in products:  # the same product may be listed twice (order's, customer's)
        by_id.setdefault(product.pk, []).append(product)
    # An order taking an add-on off names the line unchanged (noChange) and the add-on's delete.
    removed = OrderItem.objects.filter(
        order_id=OuterRef("order_id"), parent__isnull=False, action=ItemAction.DELETE
    ).order_by("position")
    items = (
        OrderItem.objects.filter(product_ref__in=list(by_id), parent__isnull=True)
        .select_related("order", "offering")
        .annotate(
            removed_add_on=Subquery(removed.values("offering__name")[:1]),
            rank=Window(
                RowNumber(),
                partition_by=[F("product_ref")],
                order_by=[F("order__submitted_at").desc(), F("order_id").desc()],
            ),
        )
        .filter(rank__lte=per_product)
        .order_by("product_ref", "rank")
    )
    for item in items:
        order = item.order
        order.title = item.change_title or (  # type: ignore[attr-defined]
            f"{item.removed_add_on} taken off"  # type: ignore[attr-defined]
            if item.removed_add_on  # type: ignore[attr-defined]
            else "Add-ons"
        )
        for product in by_id[item.product_ref]:
            product.change_orders.append(order)  # type: ignore[attr-defined]


# --- customer satisfaction (CSAT) ---------------------------------------------------------------
def csat_asked(order: Order) -> bool:
    """We ask the customer how we did about ``order``: it set up a new line (not a change to a
    live one) and that line is live (the states of the "your service is live" notice)."""
    return order.product_ref is None and order.status in ACTIVE_STATES


def order_csat(order: Order) -> CsatResponse | None:
    """The customer's answer about ``order``, if any. No query for an order we do not ask
    about (there is no answer to find). The caller has checked that the user may see it."""
    if not csat_asked(order):
        return None
    return CsatResponse.objects.filter(order=order).first()


@dataclass(frozen=True)
class CsatSummary:
    count: int  # the answers
    average: float | None  # the mean score, 1 to 5; None without answers
    distribution: dict[int, int]  # score -> answers, every score 1..5 (0 where none)


def csat_summary(
    *,
    orders: Iterable[Order | str] | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
) -> CsatSummary:
    """The CSAT answers given in [``since``, ``until``) (either open), about ``orders`` (a
    queryset of orders, or orders or order IDs; every order when None): how many, their mean
    score and how many gave each score. One query, grouped by score: a range of the
    answered_at index for a period. The caller has restricted ``orders`` to what the reader
    may see (orders.access); with None, the reader is one who sees every order."""
    answers = CsatResponse.objects.all()
    if orders is not None:
        if not isinstance(orders, QuerySet):
            orders = [o if isinstance(o, str) else o.pk for o in orders]
        answers = answers.filter(order__in=orders)
    if since is not None:
        answers = answers.filter(answered_at__gte=since)
    if until is not None:
        answers = answers.filter(answered_at__lt=until)
    distribution = dict.fromkeys(CSAT_SCORES, 0)
    for row in answers.order_by().values("score").annotate(n=Count("id")):
        distribution[row["score"]] = row["n"]
    count = sum(distribution.values())
    total = sum(score * n for score, n in distribution.items())
    return CsatSummary(
        count=count,
        average=total / count if count else None,
        distribution=distribution,
    )
