"""``{% amend_card order %}`` and ``{% customer_amend_card order %}``: the "Change this order"
card on the order pages (orders.views_amend), without each page's view computing it."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from orders.amendments import amendment_refusal
from orders.errors import CancellationRefused
from orders.models import Order
from orders.views_amend import customer_amend_refusal_text, may_amend

register = template.Library()


@register.inclusion_tag("orders/_amend_card.html", takes_context=True)
def amend_card(context: dict[str, Any], order: Order, came_from: str = "") -> dict[str, Any]:
    """The staff card, for those who may amend; a closed order's status says it all."""
    request = context.get("request")
    if request is None or not may_amend(request.user):
        return {"shown": False}
    refusal = amendment_refusal(order)
    url = reverse("orders:amend", kwargs={"order_id": order.pk})
    return {
        "shown": getattr(refusal, "reason_code", "") != CancellationRefused.CLOSED,
        "heading": "Change this order",
        "refusal": refusal.message if refusal is not None else "",
        "url": f"{url}?from={came_from}" if came_from else url,
    }


@register.inclusion_tag("orders/_amend_card.html")
def customer_amend_card(order: Order) -> dict[str, Any]:
    """The customer's card: the link, or why it can no longer be changed online."""
    refusal = amendment_refusal(order)
    return {
        "shown": getattr(refusal, "reason_code", "") != CancellationRefused.CLOSED,
        "heading": "Change my order",
        "refusal": customer_amend_refusal_text(refusal) if refusal is not None else "",
        "url": reverse("portal:order_amend", kwargs={"order_id": order.pk}),
    }
