"""Milestones: the dates an order is expected to reach each stage by, and when it did.

Every order carries its milestones from submission (orders.milestones plans and meets them):
accepted, provisioning started, each item active, billing started, completed. Each is due a
number of hours after its anchor, as the operations team sets it in MilestoneTarget: the
submission, or the start of the requested day for a future-dated order. A milestone records when
it was met; one not met by its due date is violated (TMF622 v5 ProductOrderMilestone status).
"""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone


class MilestoneKind(models.TextChoices):
    """The stages an order is watched against, in the order they are reached."""

    ACCEPTED = "accepted", "Order accepted"
    PROVISIONING_STARTED = "provisioning_started", "Provisioning started"
    ITEM_ACTIVE = "item_active", "Item active"
    BILLING_STARTED = "billing_started", "Billing started"
    COMPLETED = "completed", "Order completed"


class MilestoneStatus(models.TextChoices):
    """TMF622 v5 Milestone.status."""

    YET_TO_REACH = "Yet-To-Reach", "Yet to reach"
    COMPLETED = "Completed", "Completed"
    VIOLATED = "Violated", "Violated"


class Fulfilment(models.TextChoices):
    """How the order's work is done: which targets apply."""

    ANY = "any", "Any"
    AUTOMATIC = "automatic", "Automatic (no technician)"
    TECHNICIAN = "technician", "Needs a technician"


class OrderKind(models.TextChoices):
    ANY = "any", "Any"
    PROVIDE = "provide", "New line or add-ons"
    CHANGE = "change", "Change to a live line (modify, suspend, resume, cease)"


class MilestoneTarget(models.Model):
    """How long an order may take to reach a milestone, for the orders it applies to. The most
    specific active target wins (a fulfilment and an order kind named beat "any")."""

    milestone = models.CharField(max_length=24, choices=MilestoneKind.choices)
    fulfilment = models.CharField(max_length=12, choices=Fulfilment.choices, default=Fulfilment.ANY)
    order_kind = models.CharField(max_length=12, choices=OrderKind.choices, default=OrderKind.ANY)
    hours = models.PositiveIntegerField(
        help_text="Hours after submission (or after the start of the requested day, for a "
        "future-dated order) by which the milestone is due."
    )
    active = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True, help_text="Why this target, in words.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["milestone", "fulfilment", "order_kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["milestone", "fulfilment", "order_kind"],
                condition=Q(active=True),
                name="one_active_milestone_target",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_milestone_display()}: {self.hours} h "
            f"({self.get_fulfilment_display().lower()}, {self.get_order_kind_display().lower()})"
        )


class OrderMilestone(models.Model):
    """One milestone of one order (of one of its items, for "item active")."""

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="milestones")
    item = models.ForeignKey(
        "orders.OrderItem", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=24, choices=MilestoneKind.choices)
    # The start of the milestone's allowed time (the submission, or the start of the requested
    # day): the jeopardy level is the share of anchor_at -> due_at used.
    anchor_at = models.DateTimeField()
    due_at = models.DateTimeField()
    met_at = models.DateTimeField(null=True, blank=True)
    # No longer owed: the order was cancelled or rejected before it was met.
    dropped_at = models.DateTimeField(null=True, blank=True)
    # The target it was planned from, in words, so a later change of targets explains itself.
    target = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "kind"],
                condition=Q(item__isnull=True),
                name="one_milestone_per_order_kind",
            ),
            models.UniqueConstraint(
                fields=["order", "kind", "item"],
                condition=Q(item__isnull=False),
                name="one_milestone_per_item_kind",
            ),
        ]
        indexes = [
            # The jeopardy scan: milestones still to reach, soonest due first.
            models.Index(
                fields=["due_at", "id"],
                condition=Q(met_at__isnull=True, dropped_at__isnull=True),
                name="milestone_unmet_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.name}"

    @property
    def name(self) -> str:
        item = self.item
        if self.kind == MilestoneKind.ITEM_ACTIVE and item is not None:
            return f"Item {item.item_id} active ({item.offering.name})"
        return self.get_kind_display()

    def share_used(self, now: datetime.datetime) -> int:
        """The share of its allowed time used by ``now``, in percent (0 before the anchor)."""
        allowed = (self.due_at - self.anchor_at).total_seconds()
        used = (now - self.anchor_at).total_seconds()
        if allowed <= 0:
            return 1000 if used > 0 else 0
        return max(0, int(used * 100 // allowed))

    def status(self, now: datetime.datetime | None = None) -> MilestoneStatus:
        if self.met_at is not None:
            return MilestoneStatus.COMPLETED
        if (now or timezone.now()) > self.due_at:
            return MilestoneStatus.VIOLATED
        return MilestoneStatus.YET_TO_REACH

    @property
    def met_late(self) -> bool:
        return self.met_at is not None and self.met_at > self.due_at
