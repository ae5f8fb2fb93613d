"""Writes for customer contacts (support tickets per order)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from orders import events
from orders.models import Order
from orders.notifications import email_send
from orders.outbox import outbox_enqueue
from support.csat_models import CSAT_COMMENT_MAX_LENGTH
from support.models import CsatChannel, CsatResponse, SupportTicket, TicketAnswer
from support.selectors import csat_asked

logger = logging.getLogger(__name__)
TICKET_ANSWER_EMAIL_TASK = "support.send_ticket_answer"

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
    locked = Order.objects.select_for_update(no_key=True).get(pk=order.pk)
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


def ticket_answer(*, ticket: SupportTicket, actor: User, message: str) -> TicketAnswer:
    """Record support's answer to ``ticket``, mark the ticket answered and queue one e-mail to
    the customer with the answer, in one transaction: the e-mail leaves only if the answer is
    recorded, and it is queued once per answer.

    The caller has checked that ``actor`` may see the ticket's order (orders.access) and holds
    support.change_supportticket. The answer is audited with its author (django-auditlog)."""
    with transaction.atomic():
        locked = SupportTicket.objects.select_for_update().get(pk=ticket.pk)
        answer = TicketAnswer.objects.create(ticket=locked, author=actor, message=message)
        if locked.status != SupportTicket.Status.ANSWERED:
            locked.status = SupportTicket.Status.ANSWERED
            locked.save(update_fields=["status", "updated_at"])
        outbox_enqueue(TICKET_ANSWER_EMAIL_TASK, order=locked.order, answer_id=answer.pk)
    return answer


def ticket_answer_email_send(*, answer_id: int) -> bool:
    """E-mail the customer support's answer ``answer_id``. Idempotent: the answer's row is
    locked while the e-mail goes and marked sent in the same transaction, so a repeated or
    concurrent run sends nothing more. True when this run sent it."""
    with transaction.atomic():
        answer = (
            TicketAnswer.objects.select_for_update()
            .filter(pk=answer_id, emailed_at__isnull=True)
            .first()
        )
        if answer is None:
            return False
        ticket = SupportTicket.objects.select_related("order", "customer").get(pk=answer.ticket_id)
        order, customer = ticket.order, ticket.customer
        context = {
            "customer_name": customer.name,
            "order_display_id": order.display_id,
            "ticket_subject": ticket.get_subject_display(),
            "answer": answer.message,
            "order_url": settings.SITE_URL
            + reverse("portal:order_detail", kwargs={"order_id": order.pk}),
        }
        email_send(template="ticket_answer", context=context, to=customer.email)
        answer.emailed_at = timezone.now()
        answer.save(update_fields=["emailed_at"])
    logger.info("order %s: answer %s to ticket %s e-mailed", order.pk, answer.pk, ticket.pk)
    return True


# --- customer satisfaction (CSAT) ---------------------------------------------------------------
CSAT_ALREADY_ANSWERED = "You have already answered for this order. Thank you!"
CSAT_NOT_ASKED = "We ask how we did once your new line is live."


class CsatRefused(Exception):
    """The answer was not recorded; the message says why, in customer words."""


def csat_answer(
    *,
    order: Order,
    score: int,
    comment: str = "",
    channel: CsatChannel | str,
    answered_by: User | None = None,
) -> CsatResponse:
    """Record the customer's one answer about ``order``: ``score`` from 1 to 5 and a comment.

    The caller has identified the customer: the order's owner signed in (``answered_by``), or
    the holder of the order's signed e-mail link. Raises CsatRefused, and writes nothing, when
    the order is not one we ask about (a new line, live: ``support.selectors.csat_asked``) or
    it has an answer already, including one recorded by a concurrent request (the one-to-one's
    unique constraint decides the race). Raises ValueError for a score outside 1..5 or a
    comment over CSAT_COMMENT_MAX_LENGTH (the form tells the customer before)."""
    if score not in range(1, 6):
        raise ValueError(f"a CSAT score is 1 to 5, not {score!r}")
    if len(comment) > CSAT_COMMENT_MAX_LENGTH:
        raise ValueError(f"a CSAT comment is at most {CSAT_COMMENT_MAX_LENGTH} characters")
    channel = CsatChannel(channel)
    if not csat_asked(order):
        raise CsatRefused(CSAT_NOT_ASKED)
    if CsatResponse.objects.filter(order=order).exists():
        raise CsatRefused(CSAT_ALREADY_ANSWERED)
    try:
        with transaction.atomic():
            response = CsatResponse.objects.create(
                order=order,
                score=score,
                comment=comment,
                channel=channel,
                answered_by=answered_by,
            )
    except IntegrityError as exc:  # answered meanwhile, by the other channel or a double click
        raise CsatRefused(CSAT_ALREADY_ANSWERED) from exc
    logger.info("order %s: CSAT %s/5 by %s", order.pk, score, channel.value)
    return response
