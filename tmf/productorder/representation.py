"""An order as a TMF622 v4 ProductOrder, the one shape used by responses and events alike
(described for the OpenAPI document by tmf.productorder.serializers).

The shared order ID is the ``id``; each order item is a ``productOrderItem`` with its own id,
state and price as ordered, its ``productOffering`` (the TMF620 id is the offering's code) and,
for an add-on, ``productOrderItemRelationship`` reliesOn the line. The line's product carries
the service address as its ``place`` (a GeographicAddress value in the TMF673 vocabulary); a
delivered item's product names the installed-base product (TMF637), and so does the item with
action ``noChange`` of an order for add-ons on a live line: the line's product, by ``id`` and
``href``, completed from the start, at no price (the order's totals are its add-ons'). A
change to a live line (tmf.productorder.changes) keeps its items' actions (``modify``,
``delete``); each item's ``product`` names the live product it changes (``id``, ``href``, and
on a suspension or resumption the ``status`` asked for), a plan change's ``productOffering`` is
the new offering, and the ``description`` says what the order does. The
customer is the ``relatedParty`` with role Customer.

Each order of a move home (orders.moves, one OrderGroup) names the other in
``orderRelationship`` (TMF622 v5's OrderRelationship, an extension on v4, whose swagger has
none): the cease of the old line ``movesTo`` the new line's order, which it waits for; the new
line's order ``movesFrom`` the cease. A list reads the partner in its page's query
(``with_order_relationships``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Case, CharField, OuterRef, Prefetch, QuerySet, Subquery, When
from django.urls import reverse
from rest_framework.request import Request

from orders.models import Order, OrderEvent, OrderItem
from orders.selectors import estimated_activation_date
from orders.states import (
    TMF_ITEM_STATE,
    TMF_STATE,
    EventSource,
    ItemAction,
    ItemChange,
    ItemState,
    OrderStatus,
)
from tmf.catalog.representation import offering_ref
from tmf.common import absolute, drop_empty, iso
from tmf.models import CancelProductOrder
from tmf.productorder.milestones import order_jeopardy_alerts, order_milestones
from tmf.productorder.serializers import MOVES_FROM, MOVES_TO

# Attributes every representation carries, whatever ``fields=`` asks for: the ones TMF622's
# conformance profile makes mandatory in a response, and the one the official ProductOrder
# definition requires (productOrderItem), so that a selection is still a valid ProductOrder.
ALWAYS = ("id", "href", "orderDate", "state", "relatedParty", "productOrderItem", "@type")
PLACE_ROLE = "installationAddress"
COUNTRY = "GB"
ORDER_CATEGORY = "residential"
RELIES_ON = "reliesOn"


def product_order_path(order_id: str) -> str:
    return reverse("tmf622:product-order-detail", args=[order_id])


def inventory_product_path(product_id: str) -> str:
    """TMF637's product (tmf/inventory serves it; its representation imports this module)."""
    return reverse("tmf637:product-detail", args=[product_id])


def party_ref(order: Order) -> dict[str, Any]:
    customer = order.customer
    return {
        "id": str(customer.pk),
        "name": customer.name,
        "role": "Customer",
        "@referredType": "Individual",
    }


def place_value(order: Order) -> dict[str, Any]:
    line2 = order.service_address_line2
    one_line = ", ".join(
        part
        for part in (
            order.service_address_line1,
            line2,
            order.service_city,
            order.service_postcode_display,
        )
        if part
    )
    return drop_empty(
        {
            "role": PLACE_ROLE,
            "name": one_line,
            "streetName": order.service_address_line1,
            "locality": line2,
            "city": order.service_city,
            "postcode": order.service_postcode_display,
            "country": COUNTRY,
            "@type": "GeographicAddress",
            "@referredType": "GeographicAddress",
        }
    )


def order_price(
    amount: Decimal, currency: str, *, recurring: bool, name: str | None = None
) -> dict[str, Any]:
    """A TMF622 OrderPrice: per month (``recurring``) or once (``oneTime``)."""
    price: dict[str, Any] = {
        "name": name or ("Monthly charge" if recurring else "One-time charge"),
        "priceType": "recurring" if recurring else "oneTime",
    }
    if recurring:
        price["recurringChargePeriod"] = "month"
    price["price"] = {
        "taxIncludedAmount": {"unit": currency, "value": float(amount)},
        "@type": "Price",
    }
    price["@type"] = "OrderPrice"
    return price


def item_prices(item: OrderItem) -> list[dict[str, Any]]:
    """The item's price as ordered: per month and, where it has one, once."""
    prices = [order_price(item.recurring_price, item.currency, recurring=True)]
    if item.one_time_price:
        prices.append(order_price(item.one_time_price, item.currency, recurring=False))
    return prices


def order_total_prices(order: Order) -> list[dict[str, Any]]:
    """The order's totals as ordered: per month and, where any item has a one-time charge,
    due once (on the first bill)."""
    totals = [
        order_price(order.monthly_price, order.currency, recurring=True, name="Total per month")
    ]
    if order.one_time_price:
        totals.append(
            order_price(
                order.one_time_price, order.currency, recurring=False, name="Total one-time"
            )
        )
    return totals


def _items() -> QuerySet[OrderItem]:
    return OrderItem.objects.select_related(
        "offering__specification", "product", "from_offering"
    ).order_by("position")


def order_items(order: Order) -> list[OrderItem]:
    """The order's items in order, each with its offering, specification and installed-base
    product: from ``with_items``' prefetch when the order was read with it, else one query."""
    if "items" in getattr(order, "_prefetched_objects_cache", {}):
        return list(order.items.all())
    return list(_items().filter(order=order))


def items_prefetch() -> Prefetch:
    return Prefetch("items", queryset=_items())


def with_items(queryset: QuerySet[Order]) -> QuerySet[Order]:
    """Orders read with their items (one query for a whole page)."""
    return queryset.prefetch_related(items_prefetch())


def _installed(item: OrderItem) -> Any:
    try:
        return item.product  # inventory.Product, once the item was delivered
    except ObjectDoesNotExist:
        return None


def _characteristics(item: OrderItem) -> list[dict[str, Any]]:
    """The item's characteristic values under the names its specification gives them (the
    same names TMF620 and TMF637 use: downloadSpeed and uploadSpeed in Mbit/s, model...)."""
    offering = item.offering
    if offering.download_mbps is not None:
        return [
            {"name": "downloadSpeed", "valueType": "integer", "value": offering.download_mbps},
            {"name": "uploadSpeed", "valueType": "integer", "value": offering.upload_mbps},
        ]
    return [
        {"name": name, "valueType": "string", "value": value}
        for name, value in sorted((offering.characteristic_values or {}).items())
    ]


# --- changes to live products (modify, delete) -------------------------------------------------
# What a modify item asks of its product's status (TMF622 ProductStatusType).
STATUS_ASKED = {ItemChange.SUSPEND: "suspended", ItemChange.RESUME: "active"}
CHANGE_WORDS = {
    ItemChange.PLAN: "Plan change to {offering}",
    ItemChange.SUSPEND: "Suspension of {line}",
    ItemChange.RESUME: "Resumption of {line}",
}


def _is_change(item: OrderItem) -> bool:
    return item.product_ref is not None and item.action in (ItemAction.MODIFY, ItemAction.DELETE)


def _changed_product(item: OrderItem, request: Request | None) -> dict[str, Any]:
    """The live product a modify or delete item is about: its TMF637 id and href, and on a
    suspension or resumption the status asked for."""
    product_id = str(item.product_ref)
    return drop_empty(
        {
            "id": product_id,
            "href": absolute(request, inventory_product_path(product_id)),
            "name": (item.from_offering or item.offering).name,
            "status": STATUS_ASKED.get(ItemChange(item.change)) if item.change else None,
            "@type": "Product",
            "@referredType": "Product",
        }
    )


def _change_description(order: Order, items: list[OrderItem]) -> str | None:
    """What a change order does, in words (None for an order of new products)."""
    root = next((item for item in items if item.parent_id is None), None)
    if root is None or not any(_is_change(item) for item in items):
        return None
    line = (root.from_offering or root.offering).name
    if root.action == ItemAction.MODIFY:
        what = CHANGE_WORDS[ItemChange(root.change)].format(offering=root.offering.name, line=line)
    elif root.action == ItemAction.DELETE:
        what = f"Cease of {line}"
    else:
        removed = [item.offering.name for item in items if item.parent_id is not None]
        what = f"{', '.join(removed)} taken off {line}"
    return f"{what} at {order.service_address}"


def _product(order: Order, item: OrderItem, request: Request | None) -> dict[str, Any]:
    if _is_change(item):
        return _changed_product(item, request)
    offering = item.offering
    spec = offering.specification
    product: dict[str, Any] = {}
    installed = _installed(item)
    # The product the item delivered or, on a noChange item, the live line it names.
    product_id = installed.pk if installed is not None else item.product_ref
    if product_id is not None:
        product["id"] = str(product_id)
        product["href"] = absolute(request, inventory_product_path(str(product_id)))
    product.update(
        {
            "isBundle": False,
            "name": offering.name,
            "productSpecification": {
                "id": spec.code,
                "name": spec.name,
                "@referredType": "ProductSpecification",
            },
            "productCharacteristic": _characteristics(item),
            "@type": "Product",
        }
    )
    if item.parent_id is None:
        product["place"] = [place_value(order)]
    if not product["productCharacteristic"]:
        del product["productCharacteristic"]
    return product


def item_representation(
    order: Order, item: OrderItem, item_ids: dict[int, str], request: Request | None
) -> dict[str, Any]:
    offering = item.offering
    representation: dict[str, Any] = {
        "id": item.item_id,
        "action": item.action,
        "quantity": item.quantity,
        "state": TMF_ITEM_STATE[ItemState(item.state)],
        "productOffering": offering_ref(offering, request),
        "product": _product(order, item, request),
        "itemPrice": item_prices(item),
        "@type": "ProductOrderItem",
    }
    if item.parent_id is not None:
        representation["productOrderItemRelationship"] = [
            {
                "id": item_ids[item.parent_id],
                "relationshipType": RELIES_ON,
                "@type": "OrderItemRelationship",
            }
        ]
    return representation


def _cancellation_events() -> QuerySet[OrderEvent]:
    return OrderEvent.objects.filter(
        kind=OrderEvent.Kind.STATUS_CHANGED, to_status=OrderStatus.CANCELLED
    ).order_by("-created_at", "-id")


def with_cancellation_reason(queryset: QuerySet[Order]) -> QuerySet[Order]:
    """Orders with the reason they were cancelled, read in the same query (a list would
    otherwise ask once per cancelled order)."""
    reason = _cancellation_events().filter(order=OuterRef("pk")).values("reason")[:1]
    return queryset.annotate(tmf_cancellation_reason=Subquery(reason))


def _cancellation(order: Order) -> tuple[str | None, str | None]:
    if order.status != OrderStatus.CANCELLED:
        return None, None
    if hasattr(order, "tmf_cancellation_reason"):
        return iso(order.closed_at), order.tmf_cancellation_reason
    event = _cancellation_events().filter(order=order).first()
    return iso(order.closed_at), (event.reason if event else None)


def _waiting_for(order: Any) -> QuerySet[Order]:
    return Order.objects.filter(waits_for=order).order_by("submitted_at", "pk")


def with_order_relationships(queryset: QuerySet[Order]) -> QuerySet[Order]:
    """Orders with the order of their group that waits for them (the cease of a move, on its
    new line's order), read in the same query: only grouped orders look (the index on
    ``waits_for``), so a page of orders costs no query more."""
    return queryset.annotate(
        tmf_waited_by=Case(
            When(group__isnull=False, then=Subquery(_waiting_for(OuterRef("pk")).values("pk")[:1])),
            default=None,
            output_field=CharField(),
        )
    )


def _order_ref(request: Request | None, order_pk: str, relationship: str) -> dict[str, Any]:
    return {
        "id": order_pk,
        "href": absolute(request, product_order_path(order_pk)),
        "relationshipType": relationship,
        "@referredType": "ProductOrder",
        "@type": "OrderRelationship",
    }


def order_relationships(order: Order, request: Request | None = None) -> list[dict[str, Any]]:
    """The orders ``order`` is linked to: the other order of its move home (``MOVES_TO`` on
    the cease, ``MOVES_FROM`` on the new line's order); none for an order of its own."""
    if order.group_id is None:
        return []
    if order.waits_for_id is not None:
        return [_order_ref(request, order.waits_for_id, MOVES_TO)]
    if hasattr(order, "tmf_waited_by"):
        waited_by = order.tmf_waited_by
    else:
        waited_by = _waiting_for(order).values_list("pk", flat=True).first()
    return [_order_ref(request, waited_by, MOVES_FROM)] if waited_by else []


def _description(order: Order, add_ons: list[str], *, live: bool) -> str:
    if live:  # add-ons for the customer's live line
        return f"{', '.join(add_ons)} for the live {order.plan.name} at {order.service_address}"
    with_add_ons = f" with {', '.join(add_ons)}" if add_ons else ""
    return f"{order.plan.name}{with_add_ons} at {order.service_address}"


def product_order_representation(order: Order, request: Request | None = None) -> dict[str, Any]:
    state = TMF_STATE[OrderStatus(order.status)]
    cancellation_date, cancellation_reason = _cancellation(order)
    expected = estimated_activation_date(order) if state not in ("completed", "partial") else None
    items = order_items(order)
    item_ids = {item.pk: item.item_id for item in items}
    add_ons = [item.offering.name for item in items if item.parent_id is not None]
    live = any(not item.delivers for item in items)
    try:
        channel_name = EventSource(order.channel).label
    except ValueError:
        channel_name = order.channel
    representation = {
        "id": order.pk,
        "href": absolute(request, product_order_path(order.pk)),
        "externalId": order.external_id or None,
        "category": ORDER_CATEGORY,
        "description": _change_description(order, items) or _description(order, add_ons, live=live),
        "orderDate": iso(order.submitted_at),
        "state": state,
        "requestedStartDate": iso(order.requested_activation_date),
        "expectedCompletionDate": iso(expected),
        "completionDate": iso(order.completed_at),
        "cancellationDate": cancellation_date,
        "cancellationReason": cancellation_reason,
        "channel": [{"id": order.channel, "name": channel_name, "@type": "ChannelRef"}],
        "relatedParty": [party_ref(order)],
        "productOrderItem": [item_representation(order, i, item_ids, request) for i in items],
        "orderTotalPrice": order_total_prices(order),
        # TMF622 v5's, on v4 a documented extension (tmf.productorder.milestones).
        "productOrderMilestone": order_milestones(order, items),
        "productOrderJeopardyAlert": order_jeopardy_alerts(order),
        "orderRelationship": order_relationships(order, request),
        "@type": "ProductOrder",
    }
    return drop_empty(representation)


def cancellation_representation(
    cancel: CancelProductOrder, request: Request | None = None
) -> dict[str, Any]:
    return drop_empty(
        {
            "id": cancel.pk,
            "href": absolute(
                request, reverse("tmf622:cancel-product-order-detail", args=[cancel.pk])
            ),
            "cancellationReason": cancel.cancellation_reason,
            "requestedCancellationDate": iso(cancel.requested_cancellation_date),
            "effectiveCancellationDate": iso(cancel.effective_cancellation_date),
            "state": cancel.state,
            "productOrder": {
                "id": cancel.order_id,
                "href": absolute(request, product_order_path(cancel.order_id)),
                "@referredType": "ProductOrder",
            },
            "@type": "CancelProductOrder",
        }
    )
