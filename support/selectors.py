"""Reads for customer contacts."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Prefetch

from orders.access import restrict_by_order
from orders.models import Order
from orders.paging import BadCursor, keyset_page
from support.models import SupportTicket, TicketAnswer

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
