"""Customer contacts: the tickets a customer opens about one of their orders."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from orders.models import Customer, Order

MESSAGE_MAX_LENGTH = 2000
ANSWER_MAX_LENGTH = 4000


class SupportTicket(models.Model):
    """One customer contact about one order ("support tickets per order" is a case-study KPI).

    The message is internal to support: it is never shown on the order's customer timeline.
    """

    class Subject(models.TextChoices):
        ACTIVATION_DATE = "activation_date", "When will my service be activated?"
        NOT_WORKING = "not_working", "My service is not working"
        BILLING = "billing", "Billing"
        CHANGE_ORDER = "change_order", "I want to change my order"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ANSWERED = "answered", "Answered"
        CLOSED = "closed", "Closed"

    # PROTECT: a customer's contacts are part of the order's record, not removed with it.
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="support_tickets")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="support_tickets")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    subject = models.CharField(max_length=20, choices=Subject.choices)
    message = models.TextField(max_length=MESSAGE_MAX_LENGTH)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["order", "status"]),
            # Support's queue of open tickets, oldest first, paged by (created_at, id): small
            # (open tickets only) whatever the number of tickets ever written.
            models.Index(
                fields=["created_at", "id"],
                condition=models.Q(status="open"),
                name="support_ticket_open_queue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.get_subject_display()} ({self.get_status_display()})"


class TicketAnswer(models.Model):
    """Support's answer to a ticket. The customer reads it on their order page and gets it by
    e-mail, once (``emailed_at`` records that the e-mail went)."""

    ticket = models.ForeignKey(SupportTicket, on_delete=models.PROTECT, related_name="answers")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    message = models.TextField(max_length=ANSWER_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Answer {self.pk} to ticket {self.ticket_id}"


from support.contact_models import ContactTask  # noqa: E402  (the app's models, one module each)
from support.csat_models import CsatChannel, CsatResponse  # noqa: E402

__all__ = ["ContactTask", "CsatChannel", "CsatResponse", "SupportTicket", "TicketAnswer"]
