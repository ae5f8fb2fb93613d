"""The operations KPIs aggregated ahead, one row per local day and slice (kpis.refresh writes
them; kpis.figures reads them): the dashboard sums a few thousand summary rows instead of
scanning a million orders per request. Each day's rows are also summed into their week's
(KpiWeek, KpiFailureWeek, KpiActivationHoursWeek: ``day`` is the week's Monday), so a period of
two years reads about a hundred weeks' rows and only the days at its edges.

A slice is the order's service area, channel and plan. Every count is of what happened on the
day (the local date, settings.TIME_ZONE): orders submitted that day, new lines activated that
day, task attempts that finished that day, tickets opened that day, and so on; a day's rows are
replaced whole each time it is refreshed."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from provisioning.models import ReasonCode

# Activation times are counted in whole hours, the last bucket holding every longer one.
HOURS_CAP = 720


class Slice(models.Model):
    day = models.DateField()
    service_area = models.ForeignKey(
        "orders.ServiceArea", on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(max_length=20)
    plan = models.ForeignKey("orders.Plan", on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.day} area {self.service_area_id} {self.channel} plan {self.plan_id}"


class Counters(Slice):
    orders_submitted = models.PositiveIntegerField(default=0, help_text="Every order, changes too.")
    # New lines (not changes to live ones) activated that day.
    activated = models.PositiveIntegerField(default=0)
    activation_seconds = models.BigIntegerField(
        default=0, help_text="From each one's start (submission or later requested day) to live."
    )
    activated_within_target = models.PositiveIntegerField(default=0)
    # ... of which no person had to provision (never awaiting manual work nor in exception).
    auto_provisioned = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0, help_text="Task attempts that finished.")
    attempts_failed = models.PositiveIntegerField(default=0)
    tickets_opened = models.PositiveIntegerField(default=0)
    duplicates_refused = models.PositiveIntegerField(default=0)
    duplicates_replayed = models.PositiveIntegerField(default=0)
    customers_matched = models.PositiveIntegerField(default=0)
    csat_answers = models.PositiveIntegerField(default=0)
    csat_score_sum = models.PositiveIntegerField(default=0)
    csat_1 = models.PositiveIntegerField(default=0)
    csat_2 = models.PositiveIntegerField(default=0)
    csat_3 = models.PositiveIntegerField(default=0)
    csat_4 = models.PositiveIntegerField(default=0)
    csat_5 = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class KpiDay(Counters):
    class Meta:
        verbose_name = "KPI day"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "service_area", "channel", "plan"], name="kpi_day_slice_unique"
            )
        ]
        # Which figures a role may read (granted in orders.roles).
        permissions = [
            ("view_activation_kpis", "Can see activation times and auto-provisioning"),
            ("view_provisioning_kpis", "Can see the provisioning error rate"),
            ("view_duplicate_kpis", "Can see duplicate data entry"),
            ("view_support_kpis", "Can see tickets per order, CSAT and open jeopardies"),
        ]


class KpiWeek(Counters):
    """A week's KpiDay rows summed per slice (``day``: its Monday)."""

    class Meta:
        verbose_name = "KPI week"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "service_area", "channel", "plan"], name="kpi_week_slice_unique"
            )
        ]


class FailureCounts(Slice):
    """Failed task attempts by their reason code."""

    reason_code = models.CharField(max_length=40, choices=ReasonCode.choices)
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class KpiFailureDay(FailureCounts):
    class Meta:
        verbose_name = "KPI failures of a day"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "service_area", "channel", "plan", "reason_code"],
                name="kpi_failure_day_slice_unique",
            )
        ]


class KpiFailureWeek(FailureCounts):
    class Meta:
        verbose_name = "KPI failures of a week"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "service_area", "channel", "plan", "reason_code"],
                name="kpi_failure_week_slice_unique",
            )
        ]


class HoursCounts(Slice):
    """How many new lines took so many whole hours (the distribution, and the median and 90th
    percentile read from it)."""

    hours = models.PositiveSmallIntegerField(help_text=f"Whole hours, {HOURS_CAP} and more last.")
    activations = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class KpiActivationHours(HoursCounts):
    class Meta:
        verbose_name = "KPI activation hours"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "service_area", "channel", "plan", "hours"],
                name="kpi_hours_slice_unique",
            )
        ]


class KpiActivationHoursWeek(HoursCounts):
    class Meta:
        verbose_name = "KPI activation hours of a week"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "service_area", "channel", "plan", "hours"],
                name="kpi_hours_week_slice_unique",
            )
        ]


class KpiRefresh(models.Model):
    """When a day's rows were last computed; its row is the lock two refreshes of the same day
    take in turn."""

    day = models.DateField(primary_key=True)
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "KPI refresh"

    def __str__(self) -> str:
        return f"{self.day} as of {self.refreshed_at:%Y-%m-%d %H:%M}"


class KpiWeekRefresh(models.Model):
    """When a week's rows were last summed from its days; its row is the lock two sums of the
    same week take in turn (after the lock of the day that changed, never before)."""

    day = models.DateField(primary_key=True, help_text="The week's Monday.")
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "KPI week refresh"

    def __str__(self) -> str:
        return f"week of {self.day} as of {self.refreshed_at:%Y-%m-%d %H:%M}"
