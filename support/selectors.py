"""Reads for customer contacts."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Prefetch, Q

from orders.access import restrict_by_order
from orders.models import Order
from support.models import SupportTicket, TicketAnswer

QUEUE_PAGE_SIZE = 50
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MICROSECOND = datetime.timedelta(microseconds=1)


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
class QueueKey:
    """Where a page of the open-ticket queue starts: after the ticket with this creation time
    and id. Written in URLs as ``<microseconds since 1970>.<id>``."""

    created_at: datetime.datetime
    id: int

    @classmethod
    def of(cls, ticket: SupportTicket) -> QueueKey:
        return cls(created_at=ticket.created_at, id=ticket.pk)

    def __str__(self) -> str:
        return f"{(self.created_at - _EPOCH) // _MICROSECOND}.{self.id}"

    @classmethod
    def parse(cls, text: str) -> QueueKey | None:
        """The key ``text`` spells, or None for anything else (then the queue starts at the top)."""
        micros, _, pk = text.partition(".")
        if not (micros.isdigit() and pk.isdigit()) or len(micros) > 18 or len(pk) > 18:
            return None
        try:
            return cls(created_at=_EPOCH + int(micros) * _MICROSECOND, id=int(pk))
        except OverflowError:  # past the year 9999
            return None


@dataclass(frozen=True)
class TicketQueuePage:
    tickets: list[SupportTicket]
    next_key: QueueKey | None  # where the next page starts; None on the last page


def open_tickets_queue(
    user: User | AnonymousUser, *, after: QueueKey | None = None, limit: int = QUEUE_PAGE_SIZE
) -> TicketQueuePage:
    """Open tickets whose order ``user`` may see, oldest first, ``limit`` at a time after
    ``after``, each with its order and customer: one query whatever the number of tickets,
    served by the partial index on open tickets (created_at, id)."""
    queryset = SupportTicket.objects.filter(status=SupportTicket.Status.OPEN)
    if after is not None:
        # The >= bound lets the index seek to the key; the OR then skips ties before it.
        queryset = queryset.filter(created_at__gte=after.created_at).filter(
            Q(created_at__gt=after.created_at) | Q(id__gt=after.id)
        )
    rows = list(
        restrict_by_order(queryset, user)
        .select_related("order", "customer")
        .order_by("created_at", "id")[: limit + 1]
    )
    tickets = rows[:limit]
    next_key = QueueKey.of(tickets[-1]) if len(rows) > limit else None
    return TicketQueuePage(tickets=tickets, next_key=next_key)
