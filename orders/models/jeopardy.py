"""Jeopardies: a milestone at risk or missed, at a level by the share of its allowed time used,
and the escalations it caused (TM Forum application 5.3.5: raise jeopardies when dates and
milestones are not met, escalate them to the right management level).

orders.jeopardy raises, escalates and clears them; each escalation is a record on the order and
a notice to one person (an e-mail through the outbox and their worklist), once per level.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class JeopardyLevel(models.TextChoices):
    """In rising order; the shares of allowed time that reach each are settings
    (JEOPARDY_THRESHOLDS)."""

    AT_RISK = "at_risk", "At risk"
    LATE = "late", "Late"
    CRITICAL = "critical", "Critical"


LEVEL_RANK: dict[str, int] = {
    JeopardyLevel.AT_RISK: 1,
    JeopardyLevel.LATE: 2,
    JeopardyLevel.CRITICAL: 3,
}


class ClearedBecause(models.TextChoices):
    MET = "met", "Milestone met"
    CANCELLED = "cancelled", "Order cancelled"
    CLOSED = "closed", "Order closed"
    DROPPED = "dropped", "Milestone no longer owed"


class Jeopardy(models.Model):
    """One milestone in jeopardy: raised at a level, raised further as time goes on, cleared
    (with why) when the milestone is met or the order is cancelled. At most one open per
    milestone."""

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="jeopardies")
    milestone = models.ForeignKey(
        "orders.OrderMilestone", on_delete=models.CASCADE, related_name="jeopardies"
    )
    level = models.CharField(max_length=12, choices=JeopardyLevel.choices)
    rank = models.PositiveSmallIntegerField(help_text="The level's rank: worst sorts first.")
    # Share of the milestone's allowed time used when its level was last raised, in percent.
    share = models.PositiveIntegerField()
    raised_at = models.DateTimeField(default=timezone.now)
    level_at = models.DateTimeField(default=timezone.now, help_text="When it reached its level.")
    # The customer's new expected date, when the jeopardy moved it.
    expected_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_because = models.CharField(max_length=12, choices=ClearedBecause.choices, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name_plural = "jeopardies"
        constraints = [
            models.UniqueConstraint(
                fields=["milestone"],
                condition=Q(cleared_at__isnull=True),
                name="one_open_jeopardy_per_milestone",
            )
        ]
        indexes = [
            # The operations manager's page and the worklists: open jeopardies, worst first.
            models.Index(
                fields=["-rank", "-level_at", "-id"],
                condition=Q(cleared_at__isnull=True),
                name="jeopardy_open_worst_idx",
            ),
            models.Index(
                fields=["order"],
                condition=Q(cleared_at__isnull=True),
                name="jeopardy_open_order_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.get_level_display()} ({self.milestone.name})"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.rank = LEVEL_RANK[self.level]
        fields = kwargs.get("update_fields")
        if fields is not None and "level" in fields:
            kwargs["update_fields"] = {*fields, "rank"}
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


class Escalation(models.Model):
    """A jeopardy's level brought to one person: the order's owner at risk, the provisioning
    lead when late, an operations manager when critical. One per order, level and person: a
    repeated scan, or several milestones of the order going late together, never alert the
    same person twice."""

    jeopardy = models.ForeignKey(Jeopardy, on_delete=models.CASCADE, related_name="escalations")
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=12, choices=JeopardyLevel.choices)
    to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Why this person: "owner of case 12", "provisioning lead on duty", "operations manager".
    because = models.CharField(max_length=120)
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "level", "to"], name="one_escalation_per_level_and_person"
            )
        ]
        indexes = [
            # A person's worklist: their escalations not yet acknowledged.
            models.Index(
                fields=["to", "-created_at"],
                condition=Q(acknowledged_at__isnull=True),
                name="escalation_unacked_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.get_level_display()} -> {self.to}"
