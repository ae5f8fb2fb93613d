"""Duplicate data entry caught where it happens (the case study's KPI "duplicate data entry
events: eliminate"): each time the system stopped something from being entered twice, one row,
written by orders.services (order_submit) and tmf.productorder. Nothing reads them yet: the
KPI dashboard (issue 12, to come) is to count them per day by their ``at`` index.
Not counted: a duplicate refused inside a move home (orders.moves calls order_take itself)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from orders.states import EventSource


class DuplicateKind(models.TextChoices):
    # A second open order for the same customer, address and plan (or the same live line),
    # refused with a pointer to the first.
    REFUSED = "refused", "Duplicate order refused"
    # A retry, double click or client's replay with the same idempotency key: the first order
    # answered, nothing entered again.
    REPLAYED = "replayed", "Repeated submission answered with the first order"
    # A new order's customer found by e-mail (or confirmed by a person) instead of entered again.
    CUSTOMER_MATCHED = "customer_matched", "Existing customer matched instead of re-entered"


class DuplicateEntry(models.Model):
    kind = models.CharField(max_length=20, choices=DuplicateKind.choices)
    # The order that was there first (refused, replayed) or the new order (customer matched).
    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="duplicate_entries"
    )
    channel = models.CharField(
        max_length=20, choices=EventSource.choices, help_text="Where the second entry came from."
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "duplicate entries"
        indexes = [
            # The KPI refresh reads a range of days.
            models.Index(fields=["at"], name="duplicate_entry_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.order_id}"
