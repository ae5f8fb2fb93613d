"""Writes for customer contacts (support tickets per order)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from orders import events
from orders.models import Order
from support.models import SupportTicket

MAX_OPEN_TICKETS_PER_ORDER = 5


class TicketRefused(Exception):
    """The ticket was not opened; the message says why, in customer words."""


@transaction.atomic
def ticket_open(*, order: Order, customer_user: User, subject: str, message: str) -> SupportTicket:
    """Open a ticket about ``order`` from its customer, with a CUSTOMER_CONTACT event on the
    order's staff timeline in the same transaction.

    The caller has checked that ``customer_user`` owns ``order`` (orders.access). Raises
    TicketRefused, and writes nothing, when the order already has
    MAX_OPEN_TICKETS_PER_ORDER open tickets.
    """
    # Lock the order so two posts at once cannot both pass the open-ticket count.
    locked = Order.objects.select_for_update().get(pk=order.pk)
    open_count = SupportTicket.objects.filter(
        order=locked, status=SupportTicket.Status.OPEN
    ).count()
    if open_count >= MAX_OPEN_TICKETS_PER_ORDER:
        raise TicketRefused(
            f"You already have {open_count} open messages about this order. "
            "Please wait for our reply before writing again."
        )
    ticket = SupportTicket.objects.create(
        order=locked,
        customer_id=locked.customer_id,
        created_by=customer_user,
        subject=SupportTicket.Subject(subject),
        message=message,
    )
    events.customer_contact(
        order=locked,
        actor=customer_user,
        subject_label=ticket.get_subject_display(),
        data={"ticket": ticket.pk},
    )
    return ticket


def ticket_set_status(ticket: SupportTicket, *, status: str, actor: User) -> SupportTicket:
    """Mark a ticket answered, closed or open again. The caller has checked that ``actor`` may
    see the ticket's order (orders.access) and holds support.change_supportticket; the change is
    audited with the actor (django-auditlog)."""
    new_status = SupportTicket.Status(status)
    with transaction.atomic():
        locked = SupportTicket.objects.select_for_update().get(pk=ticket.pk)
        if locked.status != new_status:
            locked.status = new_status
            locked.save(update_fields=["status", "updated_at"])
    return locked
