"""Worklist tasks for people to contact the customer: when an order needs something from them
or the ISP changed it (it is late past the promised date, details are missing, an add-on was
cancelled). A support agent takes the task, contacts the customer and records how it went."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from orders.models import Order

NOTE_MAX_LENGTH = 2000


class ContactTask(models.Model):
    class Reason(models.TextChoices):
        DELAYED = "delayed", "Late past the promised date"
        NEEDS_DETAILS = "needs_details", "Needs details from the customer"
        ADD_ON_CANCELLED = "add_on_cancelled", "An add-on was cancelled"

    class Outcome(models.TextChoices):
        REACHED = "reached", "Spoke to the customer"
        LEFT_MESSAGE = "left_message", "Left a message"
        NO_ANSWER = "no_answer", "No answer"
        WRONG_NUMBER = "wrong_number", "Wrong or unknown number"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="contact_tasks")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    detail = models.CharField(max_length=300, blank=True, help_text="What to tell them, in words.")
    created_at = models.DateTimeField(default=timezone.now)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    taken_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    note = models.TextField(max_length=NOTE_MAX_LENGTH, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # One open task per order and reason: a second trigger finds the first.
            models.UniqueConstraint(
                fields=["order", "reason"],
                condition=Q(done_at__isnull=True),
                name="one_open_contact_task_per_reason",
            )
        ]
        indexes = [
            # Support's contact worklist: open tasks, oldest first.
            models.Index(
                fields=["created_at", "id"],
                condition=Q(done_at__isnull=True),
                name="contact_task_open_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: contact the customer ({self.get_reason_display()})"
