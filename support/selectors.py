"""Reads for customer contacts."""

from __future__ import annotations

from orders.models import Order
from support.models import SupportTicket


def order_tickets(order: Order) -> list[SupportTicket]:
    """The order's tickets, newest first (one query)."""
    return list(SupportTicket.objects.filter(order=order).order_by("-created_at", "-id"))
