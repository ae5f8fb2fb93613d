"""``{% order_milestones order %}``: the order's milestones (due, met, late), its jeopardies
with their escalations, and where its point of no return stands, on the sales order page,
support's order view and the lead's case: the same card everywhere."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from orders.cancellation import plan_standing
from orders.jeopardy_selectors import order_jeopardies
from orders.models import Order, OrderMilestone
from orders.states import OrderStatus

register = template.Library()

_CLOSED = (OrderStatus.COMPLETED, OrderStatus.PARTIAL, OrderStatus.CANCELLED, OrderStatus.REJECTED)


@register.inclusion_tag("includes/milestones.html")
def order_milestones(order: Order) -> dict[str, Any]:
    now = timezone.now()
    milestones = list(
        OrderMilestone.objects.filter(order=order)
        .select_related("item__offering")
        .order_by("due_at", "id")
    )
    rows = [
        {
            "milestone": m,
            "status": m.status(now),
            "dropped": m.dropped_at is not None,
            "share": None if m.met_at or m.dropped_at else m.share_used(now),
        }
        for m in milestones
    ]
    standing = plan_standing(order) if order.status not in _CLOSED else None
    return {
        "order": order,
        "rows": rows,
        "jeopardies": order_jeopardies(order),
        "ponr_task": standing.ponr_task if standing else "",
        "ponr_started_at": standing.ponr_started_at if standing else None,
        "open": order.status not in _CLOSED,
    }
