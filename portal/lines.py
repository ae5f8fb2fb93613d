"""The customer's line as their pages show it: its state after the changes made to it (Active,
Suspended, Ceased, Speed changed to ...), the order that delivered it, and the orders that
changed it (speed changes, add-ons, suspensions, ceases), each under its own ID. Only the
customer's own orders are named (``own``, orders.access.own_orders)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet

from inventory.models import Product, ProductStatus
from inventory.selectors import product_state_label
from orders.models import Order, OrderItem, ProductKind
from orders.selectors import customer_status_label
from orders.states import ItemAction, OrderStatus, change_title

# The identifier the network gives a static address under (provisioning's adapters).
ADDRESS = "ipv4Address"
# The newest changes listed under a line; older ones are on the list of the customer's orders.
CHANGES_SHOWN = 10
DELIVERED = (OrderStatus.COMPLETED, OrderStatus.PARTIAL)


@dataclass(frozen=True)
class LineChange:
    order_id: str
    display_id: str
    title: str  # "Speed change to Fibre 900", "Static IP taken off your line"
    status_text: str  # customer words: "Active", "Scheduled: when your new line is live"
    submitted_at: datetime.datetime


@dataclass(frozen=True)
class CustomerLine:
    name: str
    address: str
    state_label: str
    status: str  # the product's (TMF637) status, for the badge's colour
    # The order that delivered the line, when it is not the page's own.
    origin_order_id: str | None
    origin_display_id: str
    changes: list[LineChange]
    # The static IPv4 addresses of the line's add-ons in service, as the network gave them.
    static_addresses: tuple[str, ...] = ()


def _line_of(order: Order) -> Product | None:
    if order.product_ref is None and order.status not in DELIVERED:
        return None  # a new line becomes a product only when its order completes
    products = Product.objects.select_related("order_item", "order").filter(
        customer_id=order.customer_id
    )
    if order.product_ref is not None:
        return products.filter(pk=order.product_ref).first()
    return products.filter(
        order=order, parent__isnull=True, specification__kind=ProductKind.INTERNET_ACCESS
    ).first()


def _title(root: OrderItem, removed: list[str], line_name: str) -> str:
    title = change_title(root.action, root.change, root.offering.name)
    if title:
        return title
    if removed:
        return f"{', '.join(removed)} taken off your {line_name} line"
    return f"Add-ons for your {line_name} line"


def line_changes(line: Product, *, own: QuerySet[Order]) -> list[LineChange]:
    """The newest ``CHANGES_SHOWN`` of the customer's orders about ``line``, newest first. Two
    queries (the items naming the line, through order_item_product_ref_idx; the add-ons taken
    off by those orders)."""
    roots = list(
        OrderItem.objects.filter(product_ref=line.pk, parent__isnull=True, order__in=own)
        .select_related("order", "offering")
        .order_by("-order__submitted_at", "-order_id")[:CHANGES_SHOWN]
    )
    removed: dict[str, list[str]] = {}
    for order_pk, name in OrderItem.objects.filter(
        order_id__in=[root.order_id for root in roots],
        parent__isnull=False,
        action=ItemAction.DELETE,
    ).values_list("order_id", "offering__name"):
        removed.setdefault(order_pk, []).append(name)
    return [
        LineChange(
            order_id=root.order_id,
            display_id=root.order.display_id,
            title=_title(root, removed.get(root.order_id, []), line.name),
            status_text=customer_status_label(root.order),
            submitted_at=root.order.submitted_at,
        )
        for root in roots
    ]


def customer_line(order: Order, *, own: QuerySet[Order]) -> CustomerLine | None:
    """The line ``order`` delivered or is about, as its customer reads it; None for an order
    with no line in the installed base yet (a new line not delivered)."""
    line = _line_of(order)
    if line is None:
        return None
    origin = line.order
    shown_origin = origin.pk != order.pk and own.filter(pk=origin.pk).exists()
    return CustomerLine(
        name=line.name,
        address=line.service_address,
        state_label=product_state_label(line),
        status=line.status,
        origin_order_id=origin.pk if shown_origin else None,
        origin_display_id=origin.display_id,
        changes=line_changes(line, own=own),
        static_addresses=line_static_addresses(line),
    )


def line_static_addresses(line: Product) -> tuple[str, ...]:
    """The static IPv4 addresses on ``line`` now: of its static IP add-ons not ceased. One
    query."""
    identifiers = (
        line.add_ons.filter(specification__kind=ProductKind.STATIC_IP)
        .exclude(status=ProductStatus.TERMINATED)
        .order_by("created_at", "id")
        .values_list("network_identifiers", flat=True)
    )
    return tuple(found[ADDRESS] for found in identifiers if (found or {}).get(ADDRESS))


def line_states(order_ids: list[str]) -> dict[str, str]:
    """For each of these orders that delivered a line, the line's state after the changes made
    to it (``product_state_label``). One query for all the orders."""
    products = Product.objects.filter(
        order_id__in=order_ids,
        parent__isnull=True,
        specification__kind=ProductKind.INTERNET_ACCESS,
    ).select_related("order_item")
    return {product.order_id: product_state_label(product) for product in products}
