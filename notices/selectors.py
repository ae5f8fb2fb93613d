"""Reads for customer notices."""

from __future__ import annotations

from django.db.models import QuerySet

from notices.models import CustomerNotice
from orders.models import Order

# An order page shows this many of the newest; an order has a handful in its life.
NOTICES_SHOWN = 50


def order_notices(order: Order) -> QuerySet[CustomerNotice]:
    """The messages sent about ``order``, newest first (index customer_notice_order_idx). The
    caller has checked that the user may see the order."""
    return CustomerNotice.objects.filter(order=order).order_by("-created_at", "-id")[:NOTICES_SHOWN]
