"""Each KPI figure of a seeded history (tests.kpis.history) against its hand computation."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from kpis import figures
from kpis.figures import KpiFilter
from kpis.models import KpiActivationHours, KpiDay, KpiFailureDay
from kpis.refresh import kpis_refresh
from orders.states import EventSource, OrderStatus
from tests.factories import OrderFactory, PlanFactory
from tests.kpis.history import History, seed_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def history() -> History:
    seeded = seed_history()
    kpis_refresh(seeded.baseline[0], seeded.until)
    return seeded


def period(history: History, **slice_: object) -> KpiFilter:
    return KpiFilter(since=history.monday, until=history.until, **slice_)  # type: ignore[arg-type]


def test_activation_time_is_the_hand_computed_one(history: History) -> None:
    figure = figures.activation(period(history))

    assert figure.activated == 4
    assert figure.average_hours == Decimal("42.5")
    assert (figure.median_hours, figure.p90_hours) == (20, 96)
    assert figure.within_target == Decimal("50.0")
    assert figure.auto_provisioned == Decimal("75.0")
    assert dict(figure.distribution) == {
        "under 4 h": 0,
        "4-8 h": 1,
        "8-24 h": 1,
        "1-2 days": 0,
        "2-3 days": 1,
        "3-5 days": 1,
        "5-10 days": 0,
        "over 10 days": 0,
    }
    # week A had all four; the week after none
    assert [(w, n, avg) for w, n, avg, _ in figure.weekly] == [
        (history.monday, 4, Decimal("42.5")),
        (history.monday + datetime.timedelta(days=7), 0, None),
    ]


def test_each_filter_keeps_its_slice(history: History) -> None:
    south = figures.activation(period(history, area=history.south))
    api = figures.activation(period(history, channel=EventSource.API))
    other_plan = figures.activation(period(history, plan=PlanFactory(code="slow")))

    assert (south.activated, south.average_hours, south.median_hours) == (1, Decimal("96.0"), 96)
    assert (api.activated, api.p90_hours) == (1, 96)
    assert (other_plan.activated, other_plan.average_hours, other_plan.median_hours) == (
        0,
        None,
        None,
    )


def test_the_error_rate_by_reason_against_the_baseline_and_its_target(history: History) -> None:
    figure = figures.errors(period(history), *history.baseline)

    assert (figure.attempts, figure.failed, figure.rate) == (10, 3, Decimal("30.0"))
    assert (figure.baseline_attempts, figure.baseline_rate) == (4, Decimal("50.0"))
    assert figure.target_rate == Decimal("30.0")
    assert [
        (r.code, r.failures, r.rate, r.baseline_failures, r.baseline_rate) for r in figure.reasons
    ] == [
        ("PORT_UNAVAILABLE", 2, Decimal("20.0"), 2, Decimal("50.0")),
        ("NETWORK_TIMEOUT", 1, Decimal("10.0"), 0, Decimal("0.0")),
    ]


def test_duplicates_tickets_and_open_jeopardies(history: History, ops_manager_user) -> None:
    duplicates = figures.duplicates(period(history))
    support = figures.support(period(history))

    assert (duplicates.refused, duplicates.replayed, duplicates.customers_matched) == (2, 1, 3)
    assert (support.orders_submitted, support.tickets) == (5, 3)
    assert support.tickets_per_order == Decimal("0.60")
    assert (support.csat_answers, support.csat_average) == (4, Decimal("4.00"))
    assert support.csat_distribution == [(1, 0), (2, 1), (3, 0), (4, 1), (5, 2)]
    jeopardies = figures.open_jeopardies(period(history), ops_manager_user)
    assert all(count == 0 for _, _, count in jeopardies)


def test_a_refresh_run_twice_leaves_the_same_rows(history: History) -> None:
    def rows() -> tuple[list[tuple[object, ...]], ...]:
        return (
            sorted(KpiDay.objects.values_list("day", "activated", "attempts", "tickets_opened")),
            sorted(KpiFailureDay.objects.values_list("day", "reason_code", "failures")),
            sorted(KpiActivationHours.objects.values_list("day", "hours", "activations")),
        )

    before = rows()
    call_command(
        "refresh_kpis", "--since", history.baseline[0].isoformat(), "--until", str(history.until)
    )

    assert rows() == before
    assert before[0]  # the history has rows to compare


def test_an_order_moved_to_another_plan_counts_in_its_new_slice_after_the_refresh(
    history: History,
) -> None:
    slow = PlanFactory(code="slow-2")
    history.orders["D"].plan = slow
    history.orders["D"].save(update_fields=["plan"])

    kpis_refresh(history.monday, history.until)

    assert figures.activation(period(history, plan=slow)).activated == 1
    assert figures.activation(period(history, plan=history.fast)).activated == 3


def test_a_days_refresh_reads_the_same_few_queries_for_few_or_many_orders(
    plan, serviceable_area
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kpis.refresh import kpis_refresh_day
    from tests.kpis.history import at, week_a

    day = week_a()

    def activations(n: int) -> None:
        for _ in range(n):
            OrderFactory(
                status=OrderStatus.COMPLETED,
                plan=plan,
                service_area=serviceable_area,
                submitted_at=at(day, 8),
                activated_at=at(day, 12),
                completed_at=at(day, 12),
            )

    def cost() -> int:
        with CaptureQueriesContext(connection) as captured:
            kpis_refresh_day(day)
        return len(captured.captured_queries)

    activations(2)
    cost()  # the day's lock row exists from now on
    few = cost()
    activations(25)
    assert cost() == few
    assert KpiDay.objects.get(day=day).activated == 27


def test_orders_brought_in_by_the_migration_import_count_in_no_figure(history: History) -> None:
    OrderFactory(
        status=OrderStatus.COMPLETED,
        channel=EventSource.MIGRATION,
        legacy_ref="LEGACY-1",
        plan=history.fast,
        service_area=history.north,
        submitted_at=history.orders["A"].submitted_at,
        activated_at=history.orders["A"].activated_at,
        completed_at=history.orders["A"].activated_at,
    )

    kpis_refresh(history.monday, history.until)

    assert figures.activation(period(history)).activated == 4
    assert figures.support(period(history)).orders_submitted == 5
