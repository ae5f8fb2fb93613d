"""The week rows (kpis.models.KpiWeek and its kin): a period's whole weeks are read from them and
only its edge days from the day rows, and the figures come out the same as summing its days;
refreshing one day sums its week again in the same transaction."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from django.db.models import Sum

from kpis import figures
from kpis.figures import KpiFilter
from kpis.models import (
    KpiActivationHours,
    KpiActivationHoursWeek,
    KpiDay,
    KpiFailureDay,
    KpiFailureWeek,
    KpiWeek,
)
from kpis.refresh import kpis_refresh, kpis_refresh_day
from tests.factories import PlanFactory
from tests.kpis.history import History, seed_history

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


@pytest.fixture
def history() -> History:
    seeded = seed_history()
    kpis_refresh(seeded.baseline[0], seeded.until + 7 * DAY)
    return seeded


def by_days(since: datetime.date, until: datetime.date) -> tuple[Counter[str], Counter[int]]:
    """What the day rows alone add up to over the period (the figures must agree)."""
    days = KpiDay.objects.filter(day__gte=since, day__lte=until)
    totals = Counter(
        {k: v or 0 for k, v in days.aggregate(**{f: Sum(f) for f in figures.DAY_FIELDS}).items()}
    )
    hours: Counter[int] = Counter()
    for hour, n in KpiActivationHours.objects.filter(day__gte=since, day__lte=until).values_list(
        "hours", "activations"
    ):
        hours[hour] += n
    return totals, hours


@pytest.mark.parametrize("start_shift", [-3, 0, 2])
@pytest.mark.parametrize("end_shift", [-8, 3])
def test_any_period_sums_the_same_as_its_days(
    history: History, start_shift: int, end_shift: int
) -> None:
    since, until = history.monday + start_shift * DAY, history.until + end_shift * DAY
    kpi = KpiFilter(since=since, until=until)
    totals, hours = by_days(since, until)

    activation = figures.activation(kpi)
    errors = figures.errors(kpi, *history.baseline)
    support = figures.support(kpi)

    assert activation.activated == totals["activated"]
    assert sum(n for _, n in activation.distribution) == sum(hours.values())
    assert activation.median_hours == figures.hours_rank(dict(hours), 50)
    assert (errors.attempts, errors.failed) == (totals["attempts"], totals["attempts_failed"])
    assert sum(r.failures for r in errors.reasons) == totals["attempts_failed"]
    assert (support.orders_submitted, support.tickets) == (
        totals["orders_submitted"],
        totals["tickets_opened"],
    )
    # The weekly trend: the edge days fold into their weeks, nothing counted twice.
    assert sum(week[1] for week in activation.weekly) == totals["activated"]


def test_the_history_has_something_in_every_figure_to_compare(history: History) -> None:
    totals, _ = by_days(history.monday, history.until)
    assert totals["activated"] and totals["attempts_failed"] and totals["tickets_opened"]
    assert KpiWeek.objects.filter(day=history.monday).exists()


def test_a_whole_period_reads_its_weeks_and_not_its_days(history: History) -> None:
    # Whole weeks: no day rows are needed. Emptying the days' tables changes nothing read.
    kpi = KpiFilter(since=history.monday, until=history.until)
    before = figures.activation(kpi).activated
    KpiDay.objects.all().delete()
    KpiActivationHours.objects.all().delete()
    KpiFailureDay.objects.all().delete()

    assert figures.activation(kpi).activated == before > 0


def test_refreshing_one_day_sums_its_week_again(history: History) -> None:
    slow = PlanFactory(code="slow-3")
    order = history.orders["D"]
    order.plan = slow
    order.save(update_fields=["plan"])
    activated_on = order.activated_at.date()

    kpis_refresh_day(activated_on)

    monday = figures.week_of(activated_on)
    week = KpiWeek.objects.filter(day=monday)
    assert week.filter(plan=slow).aggregate(n=Sum("activated"))["n"] == 1
    for model, week_model, field in (
        (KpiDay, KpiWeek, "activated"),
        (KpiFailureDay, KpiFailureWeek, "failures"),
        (KpiActivationHours, KpiActivationHoursWeek, "activations"),
    ):
        days = model.objects.filter(day__gte=monday, day__lte=monday + 6 * DAY)
        assert week_model.objects.filter(day=monday).aggregate(n=Sum(field)) == days.aggregate(
            n=Sum(field)
        )
