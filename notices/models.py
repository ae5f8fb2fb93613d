"""A message sent to the customer about their order, kept as it was sent."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from orders.models import Order


class NoticeKind(models.TextChoices):
    TAKEN = "taken", "Order received"
    SCHEDULED = "scheduled", "Order scheduled"
    ACTIVE = "active", "Service active"
    DELAYED = "delayed", "Order delayed"
    CHANGED = "changed", "Order changed"
    CANCELLED = "cancelled", "Order cancelled"
    REJECTED = "rejected", "Order not possible"
    NEEDS_ACTION = "needs_action", "We need something from you"
    CSAT = "csat", "How did we do?"


# Notices whose body carries a link that acts for the customer (the CSAT question's signed
# feedback link): staff read what was sent without it, so that only the customer answers.
KEPT_FROM_STAFF = frozenset({NoticeKind.CSAT})
KEPT_FROM_STAFF_TEXT = (
    "This e-mail carries the customer's own link to answer; it is not shown to staff, so "
    "that only the customer answers."
)


class NoticeChannel(models.TextChoices):
    EMAIL = "email", "E-mail"


class CustomerNotice(models.Model):
    """One message to the customer per business event: ``key`` names the event (the causing
    status event, "delayed:<milestone>", ...), so a trigger fired again finds this row instead
    of writing a second. ``subject`` and ``body`` are what was sent; ``sent_at`` is set when
    the mail server accepted it."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="customer_notices")
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    key = models.CharField(max_length=100, help_text="The event this notice is about; internal.")
    channel = models.CharField(
        max_length=10, choices=NoticeChannel.choices, default=NoticeChannel.EMAIL
    )
    to = models.EmailField("sent to")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "key"], name="customer_notice_one_per_event")
        ]
        indexes = [
            # The customer's order page: an order's notices, newest first.
            models.Index(fields=["order", "created_at"], name="customer_notice_order_idx")
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.get_kind_display()}"

    @property
    def body_for_staff(self) -> str:
        """The body as staff may read it: as sent, except for a kind KEPT_FROM_STAFF."""
        return KEPT_FROM_STAFF_TEXT if self.kind in KEPT_FROM_STAFF else self.body
