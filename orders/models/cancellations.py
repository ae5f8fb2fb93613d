"""Cancellations asked for a later date: held until their date, then carried out the way an
immediate cancellation is (orders.scheduled_cancellations).

The row is the record of the work: it stays ``scheduled`` until the due scan has carried it
out or refused it in one transaction with the order's own change, so a killed worker or a lost
beat message only delays it. An order has at most one scheduled at a time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from orders.states import EventSource


class ScheduledCancellationState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CARRIED_OUT = "carried_out", "Carried out"
    REFUSED = "refused", "Refused on its date"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ScheduledCancellation(models.Model):
    """A cancellation of ``order`` to carry out at ``due_at``, as asked by ``requested_by``
    through ``channel`` for ``reason``; ``outcome`` says, in words, what became of it."""

    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="scheduled_cancellations"
    )
    due_at = models.DateTimeField(help_text="When the cancellation is carried out.")
    reason = models.TextField(help_text="Why the order is to be cancelled; internal.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    channel = models.CharField(max_length=20, choices=EventSource.choices)
    state = models.CharField(
        max_length=12,
        choices=ScheduledCancellationState.choices,
        default=ScheduledCancellationState.SCHEDULED,
    )
    outcome = models.TextField(blank=True, help_text="What became of it, in words.")
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was carried out, refused or withdrawn."
    )
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who withdrew it (empty when the scheduler settled it).",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(state="scheduled"),
                name="one_scheduled_cancellation_per_order",
            )
        ]
        indexes = [
            # The due scan: cancellations still scheduled, soonest due first.
            models.Index(
                fields=["due_at", "id"],
                condition=Q(state="scheduled"),
                name="cancellation_scheduled_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"cancel {self.order_id} at {self.due_at:%Y-%m-%d %H:%M} ({self.state})"

    @property
    def is_scheduled(self) -> bool:
        return self.state == ScheduledCancellationState.SCHEDULED
