"""Measured cycle times (orders.cycle_times): the expected activation date is the 80th
percentile of recent activations of the same area and plan, else of the area, else of the
technology, else the standard lead time; each says which; an open jeopardy's later date moves
it; a list of orders reads it without a query per order."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from orders import tasks
from orders.cycle_times import (
    activations_since,
    cycle_times_refresh,
    nearest_rank,
    working_days_between,
)
from orders.jeopardy import jeopardy_scan
from orders.models import (
    CycleTimeEstimate,
    EstimateLevel,
    Jeopardy,
    Order,
    OrderMilestone,
    ServiceArea,
    Technology,
)
from orders.models.milestones import MilestoneKind
from orders.selectors import (
    EstimateBasis,
    activation_estimate,
    add_working_days,
    estimated_activation_date,
    with_activation_estimate,
)
from orders.states import OrderStatus
from tests.factories import (
    OrderFactory,
    PlanFactory,
    ServiceAreaFactory,
    activation_history,
    submit_order,
)
from tmf.clients import api_client_create

pytestmark = pytest.mark.django_db

# 25 activations: 5 the same day, 10 the next working day, 5 after two, 3 after three, 2 after
# five. By hand: the 80th percentile (nearest rank) is the ceil(0.8 x 25) = 20th smallest, 2.
HISTORY = [0] * 5 + [1] * 10 + [2] * 5 + [3] * 3 + [5] * 2


def a_monday_weeks_ago(weeks: int = 4) -> datetime.datetime:
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday() + 7 * weeks)
    return timezone.make_aware(datetime.datetime.combine(monday, datetime.time(10)))


def today() -> datetime.date:
    return timezone.localdate()


def new_order(area: ServiceArea, plan) -> Order:  # type: ignore[no-untyped-def]
    """An order taken now, not yet accepted (its clock starts today)."""
    return Order.objects.select_related("service_area").get(
        pk=submit_order(plan=plan, area=area).order.pk
    )


def test_working_days_and_the_nearest_rank_are_the_ones_counted_by_hand() -> None:
    friday = datetime.date(2026, 11, 27)
    assert working_days_between(friday, friday) == 0
    assert working_days_between(friday, datetime.date(2026, 11, 29)) == 0  # the weekend
    assert working_days_between(friday, datetime.date(2026, 11, 30)) == 1  # Monday
    assert working_days_between(friday, datetime.date(2026, 12, 11)) == 10
    assert all(working_days_between(friday, add_working_days(friday, n)) == n for n in range(0, 23))
    assert nearest_rank(HISTORY, 80) == 2
    assert nearest_rank([7], 80) == 7
    assert nearest_rank([1, 2, 3, 4, 5], 80) == 4


def test_the_p80_of_a_seeded_history_is_the_hand_computed_one_and_the_order_is_promised_it(
    plan, manual_area
) -> None:
    # given 25 activations of the plan in the area over the last weeks, and older ones and
    # changes to live lines that do not count
    activation_history(
        area=manual_area, plan=plan, working_days=HISTORY, submitted_at=a_monday_weeks_ago()
    )
    activation_history(
        area=manual_area,
        plan=plan,
        working_days=[30] * 10,
        submitted_at=timezone.now() - datetime.timedelta(days=140),
    )
    for change in activation_history(
        area=manual_area, plan=plan, working_days=[40] * 10, submitted_at=a_monday_weeks_ago()
    ):
        Order.objects.filter(pk=change.pk).update(
            product_ref="7b0c3a52-3c0b-4f3c-8d1e-6c1e2f0a9b11"
        )

    # when the estimates are refreshed (the beat task)
    kept = tasks.cycle_times_refresh()

    # then each level holds the 80th percentile of the 25 recent activations: 2 working days
    rows = {row.level: row for row in CycleTimeEstimate.objects.all()}
    assert kept == 3 and set(rows) == {"area_plan", "area", "technology"}
    area_plan = rows[EstimateLevel.AREA_PLAN]
    assert (area_plan.service_area_id, area_plan.plan_id) == (manual_area.pk, plan.pk)
    assert (area_plan.working_days, area_plan.sample_size, area_plan.percentile) == (2, 25, 80)
    assert area_plan.window_days == django_settings.CYCLE_TIME_WINDOW_DAYS
    assert rows[EstimateLevel.TECHNOLOGY].technology == Technology.FTTP

    # ... and an order taken there today is promised two working days from today, saying why
    estimate = activation_estimate(new_order(manual_area, plan))
    assert estimate is not None
    assert estimate.date == add_working_days(today(), 2)
    assert estimate.basis == EstimateBasis.AREA_PLAN
    assert estimate.words == "based on 25 recent activations of this plan in your area"


def test_a_future_dated_orders_cycle_is_counted_from_its_requested_day(plan, manual_area) -> None:
    # given activations asked for the Thursday after their Monday submission, live the Friday
    monday = a_monday_weeks_ago()
    thursday = timezone.localdate(monday) + datetime.timedelta(days=3)
    activation_history(
        area=manual_area,
        plan=plan,
        working_days=[1] * 20,
        submitted_at=monday,
        requested=thursday,
    )

    cycle_times_refresh()

    # then they took one working day (from the requested day), not four (from submission)
    row = CycleTimeEstimate.objects.get(level=EstimateLevel.AREA_PLAN)
    assert row.working_days == 1


def test_too_few_for_the_plan_falls_back_to_the_area(plan, manual_area) -> None:
    # given 22 recent activations of one plan in the area and 3 of another
    other = PlanFactory(name="Fibre 900", download_mbps=900)
    activation_history(
        area=manual_area, plan=plan, working_days=[1] * 22, submitted_at=a_monday_weeks_ago()
    )
    activation_history(
        area=manual_area, plan=other, working_days=[4] * 3, submitted_at=a_monday_weeks_ago()
    )
    cycle_times_refresh()

    # when an order for the other plan is taken there
    estimate = activation_estimate(new_order(manual_area, other))

    # then it is promised the area's p80 (1 day: the 20th of 25), said to be the area's
    assert estimate is not None
    assert estimate.basis == EstimateBasis.AREA
    assert estimate.words == "based on 25 recent activations in your area"
    assert estimate.date == add_working_days(today(), 1)


def test_too_few_in_the_area_falls_back_to_the_technology(plan, manual_area) -> None:
    # given an area of the same technology with 24 recent activations, and this one with 4
    busy = ServiceAreaFactory(technology=Technology.FTTP, auto_provisioning=False)
    activation_history(
        area=busy, plan=plan, working_days=[3] * 24, submitted_at=a_monday_weeks_ago()
    )
    activation_history(
        area=manual_area, plan=plan, working_days=[0] * 4, submitted_at=a_monday_weeks_ago()
    )
    cycle_times_refresh()

    # when an order is taken in the quiet area
    estimate = activation_estimate(new_order(manual_area, plan))

    # then it is promised the technology's p80 (3 days: the 23rd of 28)
    assert estimate is not None
    assert estimate.basis == EstimateBasis.TECHNOLOGY
    assert estimate.words == "based on 28 recent Full fibre (FTTP) activations"
    assert estimate.date == add_working_days(today(), 3)


def test_too_few_anywhere_falls_back_to_the_standard_lead_time(plan, manual_area, settings) -> None:
    # given 25 recent activations, fewer than the 30 a level now needs
    settings.CYCLE_TIME_MIN_SAMPLES = 30
    settings.MANUAL_PROVISIONING_LEAD_DAYS = 4
    activation_history(
        area=manual_area, plan=plan, working_days=HISTORY, submitted_at=a_monday_weeks_ago()
    )

    assert cycle_times_refresh() == 0

    # then an order there gets the standard lead time, said to be that
    estimate = activation_estimate(new_order(manual_area, plan))
    assert estimate is not None
    assert estimate.basis == EstimateBasis.STANDARD
    assert estimate.words == "our standard lead time"
    assert estimate.date == add_working_days(today(), 4)


def test_a_refresh_replaces_the_estimates_and_the_next_read_sees_them(plan, manual_area) -> None:
    # given an estimate read once (and held by this process)
    activation_history(
        area=manual_area, plan=plan, working_days=[1] * 20, submitted_at=a_monday_weeks_ago()
    )
    cycle_times_refresh()
    order = new_order(manual_area, plan)
    assert estimated_activation_date(order) == add_working_days(today(), 1)

    # when slower activations come in and the estimates are refreshed again
    activation_history(
        area=manual_area, plan=plan, working_days=[5] * 40, submitted_at=a_monday_weeks_ago()
    )
    cycle_times_refresh()

    # then the table was replaced (one row per group) and the promise follows it
    assert CycleTimeEstimate.objects.filter(level=EstimateLevel.AREA_PLAN).count() == 1
    assert estimated_activation_date(order) == add_working_days(today(), 5)


def test_the_refresh_runs_on_the_beat() -> None:
    schedule = django_settings.CELERY_BEAT_SCHEDULE["cycle-times-refresh"]
    assert schedule["task"] == "orders.cycle_times_refresh"
    assert tasks.cycle_times_refresh.name == "orders.cycle_times_refresh"


# --- a jeopardy moves it ----------------------------------------------------------------------
def test_a_late_milestone_moves_the_promise_to_the_jeopardys_date_until_it_clears(
    plan, serviceable_area
) -> None:
    # given an order promised for today (an automated area, activations the same day)
    activation_history(
        area=serviceable_area, plan=plan, working_days=[0] * 20, submitted_at=a_monday_weeks_ago()
    )
    cycle_times_refresh()
    order = new_order(serviceable_area, plan)
    assert activation_estimate(order).date == today()  # type: ignore[union-attr]

    # when its milestones run late: nobody has accepted it for days
    jeopardy_scan(now=order.submitted_at + datetime.timedelta(days=6))
    latest = max(
        j.expected_at for j in Jeopardy.objects.filter(order=order) if j.expected_at is not None
    )

    # then the promise is the jeopardy's new date, and says it was moved
    estimate = activation_estimate(Order.objects.get(pk=order.pk))
    assert estimate is not None
    assert estimate.date == timezone.localdate(latest) > today()
    assert estimate.basis == EstimateBasis.JEOPARDY
    assert estimate.words.startswith("moved")
    # ... read with a list, the same
    listed = with_activation_estimate(Order.objects.filter(pk=order.pk)).get()
    assert activation_estimate(listed) == estimate

    # ... and once the jeopardies are cleared the measured promise is back
    Jeopardy.objects.filter(order=order).update(cleared_at=timezone.now(), cleared_because="met")
    assert activation_estimate(Order.objects.get(pk=order.pk)).basis == EstimateBasis.AREA_PLAN  # type: ignore[union-attr]


def test_a_jeopardy_date_earlier_than_the_promise_does_not_bring_it_forward(
    plan, manual_area
) -> None:
    # given an order promised three working days out, and an open jeopardy expecting it today
    settings_days = django_settings.MANUAL_PROVISIONING_LEAD_DAYS
    order = new_order(manual_area, plan)
    milestone = order.milestones.order_by("due_at").first()
    assert milestone is not None
    Jeopardy.objects.create(
        order=order, milestone=milestone, level="late", share=100, expected_at=timezone.now()
    )

    # then the promise stays where it was
    estimate = activation_estimate(Order.objects.get(pk=order.pk))
    assert estimate is not None
    assert estimate.date == add_working_days(today(), settings_days)
    assert estimate.basis == EstimateBasis.STANDARD


# --- where people see it ----------------------------------------------------------------------
def test_the_customer_and_the_sales_rep_see_the_date_and_its_basis(
    client, customer_user, customer_manual_order, sales_user, plan, manual_area
) -> None:
    # given a measured history where the customer's order is
    activation_history(
        area=manual_area, plan=plan, working_days=[2] * 21, submitted_at=a_monday_weeks_ago()
    )
    cycle_times_refresh()
    day = add_working_days(timezone.localdate(customer_manual_order.submitted_at), 2)
    day = max(day, today())
    words = "based on 21 recent activations of this plan in your area"

    # when the customer opens their order, and their list
    client.force_login(customer_user)
    page = client.get(reverse("portal:order_detail", kwargs={"order_id": customer_manual_order.pk}))
    listing = client.get(reverse("portal:my_orders"))

    # then both show the date with the words of its basis
    assert f"{day:%A} {day.day} {day:%B %Y}" in page.content.decode()
    assert words in page.content.decode()
    assert words in listing.content.decode()

    # ... and so does the sales rep's order page
    client.force_login(sales_user)
    sales = client.get(reverse("orders:detail", kwargs={"order_id": customer_manual_order.pk}))
    assert sales.status_code == 200
    assert f"{day.day} {day:%B %Y}" in sales.content.decode()
    assert words in sales.content.decode()


# --- cost ---------------------------------------------------------------------------------------
def _estimate_queries(captured: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if "orders_cycletimeestimate" in q["sql"] or "orders_jeopardy" in q["sql"]
    ]


def test_a_list_of_orders_reads_no_estimate_per_order(plan, manual_area) -> None:
    # given measured estimates and thirty open orders, some with open jeopardies
    activation_history(
        area=manual_area, plan=plan, working_days=[2] * 20, submitted_at=a_monday_weeks_ago()
    )
    cycle_times_refresh()
    orders = [
        OrderFactory(service_area=manual_area, plan=plan, status=OrderStatus.AWAITING_MANUAL)
        for _ in range(30)
    ]
    moved_to = timezone.now() + datetime.timedelta(days=20)
    for order in orders[:5]:
        milestone = OrderMilestone.objects.create(
            order=order,
            kind=MilestoneKind.ACCEPTED,
            anchor_at=order.submitted_at,
            due_at=order.submitted_at + datetime.timedelta(hours=1),
        )
        Jeopardy.objects.create(
            order=order, milestone=milestone, level="late", share=100, expected_at=moved_to
        )

    # when the list is read and every order's estimate worked out
    queryset = with_activation_estimate(
        Order.objects.select_related("service_area").filter(
            service_area=manual_area, status=OrderStatus.AWAITING_MANUAL
        )
    )
    with CaptureQueriesContext(connection) as captured:
        estimates = [(order, activation_estimate(order)) for order in queryset]

    # then it took the list's one query and one read of the estimates table, not one per order
    assert len(captured.captured_queries) == 2, [q["sql"] for q in captured.captured_queries]
    assert len(_estimate_queries(captured)) == 2  # the list (its jeopardy subquery), the table
    moved = {o.pk for o in orders[:5]}
    assert {e.date for o, e in estimates if o.pk in moved} == {timezone.localdate(moved_to)}
    assert all(e.basis == EstimateBasis.AREA_PLAN for o, e in estimates if o.pk not in moved)


def test_the_customer_list_and_the_tmf622_list_cost_the_same_at_3_and_30_orders(
    client, customer_user, customer_account, plan, manual_area
) -> None:
    _, token = api_client_create("cycle-times-reader", ("read",))
    api_reader = APIClient()
    api_reader.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    activation_history(
        area=manual_area, plan=plan, working_days=[2] * 20, submitted_at=a_monday_weeks_ago()
    )
    cycle_times_refresh()

    def make(n: int) -> None:
        for _ in range(n):
            OrderFactory(
                customer=customer_account,
                service_area=manual_area,
                plan=PlanFactory(),
                status=OrderStatus.AWAITING_MANUAL,
            )

    def cost(get) -> int:  # type: ignore[no-untyped-def]
        with CaptureQueriesContext(connection) as captured:
            assert get().status_code == 200
        return len(captured.captured_queries)

    client.force_login(customer_user)
    mine = lambda: client.get(reverse("portal:my_orders"))  # noqa: E731
    api = lambda: api_reader.get("/tmf-api/productOrderingManagement/v4/productOrder?limit=50")  # noqa: E731
    make(3)
    mine(), api()  # warm the session and the estimates table
    few = cost(mine), cost(api)
    make(27)
    assert (cost(mine), cost(api)) == few


@pytest.mark.postgresql  # EXPLAIN is PostgreSQL's; CI's second pass runs it there
def test_postgresql_reads_the_window_of_activations_from_its_index(plan, manual_area) -> None:
    # given a few activations in the window, many from long before it, and fresh statistics
    # (on a table the planner knows nothing about, every index costs the same and it may pick
    # any: the plan would prove nothing)
    activation_history(
        area=manual_area, plan=plan, working_days=[1] * 5, submitted_at=a_monday_weeks_ago()
    )
    activation_history(
        area=manual_area, plan=plan, working_days=[1] * 120, submitted_at=a_monday_weeks_ago(60)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")

    # when PostgreSQL plans the measure's query with sequential scans priced out
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan_text = activations_since(timezone.now() - datetime.timedelta(days=90)).explain()

    # then it reads the range of the activations' index, not the whole orders table
    assert "order_line_activated_idx" in plan_text, plan_text
    assert "Seq Scan on orders_order" not in plan_text, plan_text
