"""An order as a TMF622 v4 ProductOrder, the one shape used by responses and events alike.

The shared order ID is the ``id``; the plan is the item's ``productOffering`` (its TMF620 id is
the plan code); the service address is the item's product ``place`` (a GeographicAddress value
in the TMF673 vocabulary); the customer is the ``relatedParty`` with role Customer.
"""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.urls import reverse
from rest_framework.request import Request

from orders.models import Order, OrderEvent
from orders.selectors import estimated_activation_date
from orders.states import TMF_STATE, EventSource, OrderStatus
from tmf.common import absolute, drop_empty, iso
from tmf.models import CancelProductOrder

# Attributes every representation carries, whatever ``fields=`` asks for: the ones TMF622's
# conformance profile makes mandatory in a response, and the one the official ProductOrder
# definition requires (productOrderItem), so that a selection is still a valid ProductOrder.
ALWAYS = ("id", "href", "orderDate", "state", "relatedParty", "productOrderItem", "@type")
PLACE_ROLE = "installationAddress"
COUNTRY = "GB"
ORDER_CATEGORY = "residential"


def product_order_path(order_id: str) -> str:
    return reverse("tmf622:product-order-detail", args=[order_id])


def offering_path(code: str) -> str:
    return reverse("tmf620:product-offering-detail", args=[code])


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


def monthly_price(order: Order) -> dict[str, Any]:
    return {
        "name": "Monthly charge",
        "priceType": "recurring",
        "recurringChargePeriod": "month",
        "price": {
            "taxIncludedAmount": {"unit": order.currency, "value": float(order.monthly_price)},
            "@type": "Price",
        },
        "@type": "OrderPrice",
    }


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


def product_order_representation(order: Order, request: Request | None = None) -> dict[str, Any]:
    state = TMF_STATE[OrderStatus(order.status)]
    plan = order.plan
    cancellation_date, cancellation_reason = _cancellation(order)
    expected = estimated_activation_date(order) if state not in ("completed",) else None
    item = {
        "id": "1",
        "action": "add",
        "quantity": 1,
        "state": state,
        "productOffering": {
            "id": plan.code,
            "href": absolute(request, offering_path(plan.code)),
            "name": plan.name,
            "@referredType": "ProductOffering",
        },
        "product": {
            "isBundle": False,
            "name": plan.name,
            "place": [place_value(order)],
            "productCharacteristic": [
                {"name": "downloadSpeedMbps", "valueType": "integer", "value": plan.download_mbps},
                {"name": "uploadSpeedMbps", "valueType": "integer", "value": plan.upload_mbps},
            ],
            "@type": "Product",
        },
        "itemPrice": [monthly_price(order)],
        "@type": "ProductOrderItem",
    }
    try:
        channel_name = EventSource(order.channel).label
    except ValueError:
        channel_name = order.channel
    representation = {
        "id": order.pk,
        "href": absolute(request, product_order_path(order.pk)),
        "externalId": order.external_id or None,
        "category": ORDER_CATEGORY,
        "description": f"{plan.name} at {order.service_address}",
        "orderDate": iso(order.submitted_at),
        "state": state,
        "requestedStartDate": iso(order.requested_activation_date),
        "expectedCompletionDate": iso(expected),
        "completionDate": iso(order.completed_at),
        "cancellationDate": cancellation_date,
        "cancellationReason": cancellation_reason,
        "channel": [{"id": order.channel, "name": channel_name, "@type": "ChannelRef"}],
        "relatedParty": [party_ref(order)],
        "productOrderItem": [item],
        "orderTotalPrice": [monthly_price(order)],
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
