"""Measured cycle times: how long recent activations took, per service area, technology and
plan, from which each order's expected activation date is promised (orders.cycle_times).

A row is a summary, replaced whole by each refresh (the ``orders.cycle_times_refresh`` beat
task); a group with too few recent activations has no row and the promise falls back to the
next, wider level, then to the rule of orders.selectors.activation_promise.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from orders.models.catalog import Technology


class EstimateLevel(models.TextChoices):
    """The grouping a row measures, narrowest first: the order looks them up in this order."""

    AREA_PLAN = "area_plan", "Area and plan"
    AREA = "area", "Area"
    TECHNOLOGY = "technology", "Technology"


class CycleTimeEstimate(models.Model):
    """The 80th percentile (CYCLE_TIME_PERCENTILE) of the working days recent activations of
    one group took: from the day the order was submitted (or, for a future-dated order, its
    requested day) to the day its line went live. Working days as
    orders.selectors.add_working_days counts them (Monday to Friday): the promise is a day,
    and the standard lead time it replaces is in working days too."""

    level = models.CharField(max_length=12, choices=EstimateLevel.choices)
    service_area = models.ForeignKey(
        "orders.ServiceArea",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="cycle_time_estimates",
    )
    technology = models.CharField(max_length=8, choices=Technology.choices)
    plan = models.ForeignKey(
        "orders.Plan",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="cycle_time_estimates",
    )
    percentile = models.PositiveSmallIntegerField(help_text="Which percentile, e.g. 80.")
    working_days = models.PositiveIntegerField(
        help_text="That share of recent activations were live within this many working days."
    )
    sample_size = models.PositiveIntegerField(help_text="Activations measured.")
    window_days = models.PositiveIntegerField(help_text="Activations of the last so many days.")
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["level", "technology", "service_area", "plan"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_area", "plan"],
                condition=Q(level="area_plan"),
                name="one_cycle_time_per_area_plan",
            ),
            models.UniqueConstraint(
                fields=["service_area"],
                condition=Q(level="area"),
                name="one_cycle_time_per_area",
            ),
            models.UniqueConstraint(
                fields=["technology"],
                condition=Q(level="technology"),
                name="one_cycle_time_per_technology",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_level_display()} {self.service_area_id or '-'}/{self.technology}/"
            f"{self.plan_id or '-'}: p{self.percentile} {self.working_days} working days "
            f"({self.sample_size} activations)"
        )
