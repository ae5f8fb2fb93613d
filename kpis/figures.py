"""The KPI figures the dashboard shows and exports, read from the summary rows (kpis.models):
each is a sum over the days of a period and the slices a filter keeps, so it costs the same at
a thousand orders as at a million; the period's whole weeks are read from the week rows, only
the days at its edges from the day rows, so two years cost about as much as three months.

Definitions (the case study's KPIs):
- Activation time: from an order's start (its submission, or the start of a later day the
  customer asked for) to its line being live, for new lines activated in the period. Average to
  the minute; median and 90th percentile to the whole hour (nearest rank over whole hours,
  rounded down), against the target of one day.
- Provisioning error rate: the share of task attempts finished in the period that failed, by the
  failure's reason code, against a baseline period; the target is 40 % below the baseline.
- Duplicate entry: each time the system stopped something being entered twice (orders.models.
  duplicates), by kind.
- Auto-provisioned: the share of the period's activations no person had to provision.
- Tickets per order: support tickets opened in the period per order submitted in it.
- CSAT: the answers given in the period (1 to 5), their average and distribution.
- Open jeopardies: now, not over the period: the orders of the filter at risk, late or critical.
"""

from __future__ import annotations

import datetime
import math
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Model, QuerySet, Sum

from kpis.models import HOURS_CAP, KpiActivationHours, KpiDay, KpiFailureDay, KpiRefresh
from kpis.refresh import ROLLUPS, TARGET_SECONDS, week_of
from orders.jeopardy_selectors import counts_by_level
from orders.models import Plan, ServiceArea
from orders.models.jeopardy import JeopardyLevel
from provisioning.models import ReasonCode

TARGET_HOURS = TARGET_SECONDS // 3600
ERROR_RATE_REDUCTION = Decimal("0.40")  # the case study's target: -40 % against the baseline

# The distribution's bars: [from, to) in hours.
HOUR_BUCKETS: list[tuple[str, int, int]] = [
    ("under 4 h", 0, 4),
    ("4-8 h", 4, 8),
    ("8-24 h", 8, 24),
    ("1-2 days", 24, 48),
    ("2-3 days", 48, 72),
    ("3-5 days", 72, 120),
    ("5-10 days", 120, 240),
    ("over 10 days", 240, HOURS_CAP + 1),
]


@dataclass(frozen=True)
class KpiFilter:
    since: datetime.date
    until: datetime.date
    area: ServiceArea | None = None
    channel: str = ""
    plan: Plan | None = None

    def rows(
        self,
        model: type[Model],
        *,
        since: datetime.date | None = None,
        until: datetime.date | None = None,
    ) -> list[QuerySet[Any]]:
        """The filter's rows of the day model ``model`` over the period (or ``since`` to
        ``until``): a query of the week model for its whole weeks, and of ``model`` for the
        days before the first Monday and after the last Sunday. Each result is summed."""
        return [
            self._sliced(part, first, last)
            for part, first, last in _parts(model, since or self.since, until or self.until)
        ]

    def _sliced(
        self, model: type[Model], since: datetime.date, until: datetime.date
    ) -> QuerySet[Any]:
        rows = model._default_manager.filter(day__gte=since, day__lte=until)
        if self.area is not None:
            rows = rows.filter(service_area=self.area)
        if self.channel:
            rows = rows.filter(channel=self.channel)
        if self.plan is not None:
            rows = rows.filter(plan=self.plan)
        return rows.order_by()


WEEK_MODEL: dict[type[Model], type[Model]] = dict(ROLLUPS)
_DAY = datetime.timedelta(days=1)


def _parts(
    model: type[Model], since: datetime.date, until: datetime.date
) -> list[tuple[type[Model], datetime.date, datetime.date]]:
    """``since`` to ``until`` as (model, first, last): the whole weeks in the week model (by
    their Mondays), the days at either edge in ``model``."""
    monday = since if since.weekday() == 0 else week_of(since) + 7 * _DAY
    sunday = until if until.weekday() == 6 else week_of(until) - _DAY
    if monday > sunday:
        return [(model, since, until)]
    parts = [(WEEK_MODEL[model], monday, sunday - 6 * _DAY)]
    if since < monday:
        parts.append((model, since, monday - _DAY))
    if until > sunday:
        parts.append((model, sunday + _DAY, until))
    return parts


def weeks_between(since: datetime.date, until: datetime.date) -> list[datetime.date]:
    first, weeks = week_of(since), []
    while first <= until:
        weeks.append(first)
        first += datetime.timedelta(days=7)
    return weeks


def share(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` in percent to one decimal; None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1"))


def ratio(part: int, whole: int, places: str = "0.01") -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal(places))


def hours_rank(histogram: dict[int, int], percentile: int) -> int | None:
    """The smallest whole hour that ``percentile`` % of the activations took at most."""
    total = sum(histogram.values())
    if not total:
        return None
    rank, seen = max(1, math.ceil(percentile * total / 100)), 0
    for hours in sorted(histogram):
        seen += histogram[hours]
        if seen >= rank:
            return hours
    return None  # unreachable: the ranks add up to the total


# The summed counters of KpiDay (every figure over a period reads them from one query).
DAY_FIELDS = [
    f.name
    for f in KpiDay._meta.concrete_fields
    if f.name not in ("id", "day", "service_area", "channel", "plan")
]

Days = dict[datetime.date, Counter[str]]


def day_sums(kpi: KpiFilter) -> Days:
    """Every counter of the filter's slice summed per day of its period (per week, keyed by its
    Monday, for its whole weeks): a query per part, one row a day or week; the figures fold them
    into weeks and totals."""
    sums: Days = {}
    for rows in kpi.rows(KpiDay):
        for row in rows.values("day").annotate(**{name: Sum(name) for name in DAY_FIELDS}):
            day = row.pop("day")
            sums[day] = Counter({k: v or 0 for k, v in row.items()})
    return sums


def _weekly(kpi: KpiFilter, days: Days | None) -> dict[datetime.date, Counter[str]]:
    by_week: dict[datetime.date, Counter[str]] = {
        week: Counter() for week in weeks_between(kpi.since, kpi.until)
    }
    for day, counts in (day_sums(kpi) if days is None else days).items():
        by_week.setdefault(week_of(day), Counter()).update(counts)
    return by_week


@dataclass
class Activation:
    activated: int
    average_hours: Decimal | None
    median_hours: int | None
    p90_hours: int | None
    within_target: Decimal | None
    auto_provisioned: Decimal | None
    distribution: list[tuple[str, int]]
    weekly: list[tuple[datetime.date, int, Decimal | None, Decimal | None]]
    target_hours: int = TARGET_HOURS


def activation(kpi: KpiFilter, days: Days | None = None) -> Activation:
    by_week = _weekly(kpi, days)
    totals: Counter[str] = sum(by_week.values(), Counter())
    histogram: Counter[int] = Counter()
    for rows in kpi.rows(KpiActivationHours):
        for row in rows.values("hours").annotate(n=Sum("activations")):
            histogram[row["hours"]] += row["n"]
    activated = totals["activated"]
    return Activation(
        activated=activated,
        average_hours=ratio(totals["activation_seconds"], activated * 3600, "0.1")
        if activated
        else None,
        median_hours=hours_rank(histogram, 50),
        p90_hours=hours_rank(histogram, 90),
        within_target=share(totals["activated_within_target"], activated),
        auto_provisioned=share(totals["auto_provisioned"], activated),
        distribution=[
            (label, sum(n for hours, n in histogram.items() if low <= hours < high))
            for label, low, high in HOUR_BUCKETS
        ],
        weekly=[
            (
                week,
                counts["activated"],
                ratio(counts["activation_seconds"], counts["activated"] * 3600, "0.1")
                if counts["activated"]
                else None,
                share(counts["activated_within_target"], counts["activated"]),
            )
            for week, counts in sorted(by_week.items())
        ],
    )


@dataclass
class Reason:
    code: str
    label: str
    failures: int
    rate: Decimal | None
    baseline_failures: int
    baseline_rate: Decimal | None


@dataclass
class Errors:
    attempts: int
    failed: int
    rate: Decimal | None
    baseline_since: datetime.date
    baseline_until: datetime.date
    baseline_attempts: int
    baseline_rate: Decimal | None
    target_rate: Decimal | None
    weekly: list[tuple[datetime.date, int, int, Decimal | None]]
    reasons: list[Reason] = field(default_factory=list)


def errors(
    kpi: KpiFilter,
    baseline_since: datetime.date,
    baseline_until: datetime.date,
    days: Days | None = None,
) -> Errors:
    by_week = _weekly(kpi, days)
    totals: Counter[str] = sum(by_week.values(), Counter())
    base_attempts = base_failed = 0
    for rows in kpi.rows(KpiDay, since=baseline_since, until=baseline_until):
        base = rows.aggregate(attempts=Sum("attempts"), failed=Sum("attempts_failed"))
        base_attempts += base["attempts"] or 0
        base_failed += base["failed"] or 0
    baseline_rate = share(base_failed, base_attempts)

    def by_reason(parts: list[QuerySet[Any]]) -> Counter[str]:
        found: Counter[str] = Counter()
        for rows in parts:
            for row in rows.values("reason_code").annotate(n=Sum("failures")):
                found[row["reason_code"]] += row["n"]
        return found

    now = by_reason(kpi.rows(KpiFailureDay))
    before = by_reason(kpi.rows(KpiFailureDay, since=baseline_since, until=baseline_until))
    labels = dict(ReasonCode.choices)
    reasons = [
        Reason(
            code=code,
            label=labels.get(code, code),
            failures=now.get(code, 0),
            rate=share(now.get(code, 0), totals["attempts"]),
            baseline_failures=before.get(code, 0),
            baseline_rate=share(before.get(code, 0), base_attempts),
        )
        for code in sorted(set(now) | set(before), key=lambda c: (-now.get(c, 0), c))
    ]
    return Errors(
        attempts=totals["attempts"],
        failed=totals["attempts_failed"],
        rate=share(totals["attempts_failed"], totals["attempts"]),
        baseline_since=baseline_since,
        baseline_until=baseline_until,
        baseline_attempts=base_attempts,
        baseline_rate=baseline_rate,
        target_rate=(baseline_rate * (1 - ERROR_RATE_REDUCTION)).quantize(Decimal("0.1"))
        if baseline_rate is not None
        else None,
        weekly=[
            (week, c["attempts"], c["attempts_failed"], share(c["attempts_failed"], c["attempts"]))
            for week, c in sorted(by_week.items())
        ],
        reasons=reasons,
    )


@dataclass
class Duplicates:
    refused: int
    replayed: int
    customers_matched: int
    weekly: list[tuple[datetime.date, int, int, int]]

    @property
    def total(self) -> int:
        return self.refused + self.replayed + self.customers_matched


def duplicates(kpi: KpiFilter, days: Days | None = None) -> Duplicates:
    by_week = _weekly(kpi, days)
    totals: Counter[str] = sum(by_week.values(), Counter())
    return Duplicates(
        refused=totals["duplicates_refused"],
        replayed=totals["duplicates_replayed"],
        customers_matched=totals["customers_matched"],
        weekly=[
            (week, c["duplicates_refused"], c["duplicates_replayed"], c["customers_matched"])
            for week, c in sorted(by_week.items())
        ],
    )


@dataclass
class Support:
    orders_submitted: int
    tickets: int
    tickets_per_order: Decimal | None
    csat_answers: int
    csat_average: Decimal | None
    csat_distribution: list[tuple[int, int]]
    weekly: list[tuple[datetime.date, int, int, Decimal | None, int, Decimal | None]]


def support(kpi: KpiFilter, days: Days | None = None) -> Support:
    by_week = _weekly(kpi, days)
    t: Counter[str] = sum(by_week.values(), Counter())
    return Support(
        orders_submitted=t["orders_submitted"],
        tickets=t["tickets_opened"],
        tickets_per_order=ratio(t["tickets_opened"], t["orders_submitted"]),
        csat_answers=t["csat_answers"],
        csat_average=ratio(t["csat_score_sum"], t["csat_answers"]),
        csat_distribution=[(score, t[f"csat_{score}"]) for score in range(1, 6)],
        weekly=[
            (
                week,
                c["orders_submitted"],
                c["tickets_opened"],
                ratio(c["tickets_opened"], c["orders_submitted"]),
                c["csat_answers"],
                ratio(c["csat_score_sum"], c["csat_answers"]),
            )
            for week, c in sorted(by_week.items())
        ],
    )


def open_jeopardies(kpi: KpiFilter, reader: User | AnonymousUser) -> list[tuple[str, str, int]]:
    """The open jeopardies of the filter's orders that ``reader`` may see, by level, worst
    first (now; the period does not apply)."""
    sliced: dict[str, Any] = {}
    if kpi.area is not None:
        sliced["service_area"] = kpi.area
    if kpi.channel:
        sliced["channel"] = kpi.channel
    if kpi.plan is not None:
        sliced["plan"] = kpi.plan
    counts = counts_by_level(reader, **sliced)
    return [
        (level, label, counts.get(level, 0)) for level, label in reversed(JeopardyLevel.choices)
    ]


def refreshed_at(kpi: KpiFilter) -> datetime.datetime | None:
    """When the period's newest day was last computed (the figures are as of then)."""
    row = KpiRefresh.objects.filter(day__lte=kpi.until).order_by("-day").first()
    return row.refreshed_at if row else None
