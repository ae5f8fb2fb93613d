"""Billing for orders that change a live line (billing/changes.py), run end to end from
orders.changes: a plan change re-prices the line from its date, a suspension follows
BILLING_SUSPENDED_LINES, a cease ends every charge with a prorated last period and closes the
account, an add-on taken off ends its charge. June 2025 has 30 days: a day is 1/30 of a month."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

import pytest

from billing.models import MISMATCH, BillingAccount, BillingCharge
from billing.services import billing_account_start
from inventory.models import Product
from orders.changes import order_submit_change
from orders.models import Order, OrderEvent
from orders.states import EventSource, ItemAction, ItemChange, OrderStatus
from tests.factories import (
    PlanFactory,
    RouterOfferingFactory,
    StaticIpOfferingFactory,
    submit_order,
)

pytestmark = pytest.mark.django_db

D = datetime.date


@contextmanager
def on(day: datetime.date) -> Iterator[None]:
    """Everything inside happens at 10:00 on ``day`` (the change date is the activation's)."""
    at = datetime.datetime.combine(day, datetime.time(10, 0), tzinfo=datetime.UTC)
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield


@pytest.fixture
def line(plan, serviceable_area, django_capture_on_commit_callbacks) -> Product:
    """Jane's Fibre 500 (35.00/month) live and billed from 1 June 2025."""
    with on(D(2025, 6, 1)), django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area).order
    return Product.objects.get(order=order)


@pytest.fixture
def line_with_add_ons(plan, serviceable_area, django_capture_on_commit_callbacks) -> Product:
    """Kim's Fibre 500 with a static IP (5.00) and a router (3.00), billed from 1 June 2025."""
    with on(D(2025, 6, 1)), django_capture_on_commit_callbacks(execute=True):
        order = submit_order(
            plan=plan,
            add_ons=(
                StaticIpOfferingFactory(name="Static IP"),
                RouterOfferingFactory(name="Router"),
            ),
            area=serviceable_area,
            email="kim@example.com",
        ).order
    return Product.objects.get(order=order, parent__isnull=True)


def change(line: Product, what: str, day: datetime.date, capture, **kwargs) -> Order:
    with on(day), capture(execute=True):
        submission = order_submit_change(
            line.pk, what, channel=EventSource.SUPPORT_PORTAL, submitted_by=None, **kwargs
        )
    order = Order.objects.get(pk=submission.order.pk)
    assert order.status == OrderStatus.COMPLETED
    return order


def account_of(line: Product) -> BillingAccount:
    return BillingAccount.objects.get(order_id=line.order_id)


def charges(account: BillingAccount) -> list[tuple]:
    """Each charge: offering, price, start, first period, end, last period; oldest first."""
    return [
        (
            c.offering.name,
            c.recurring_price,
            c.start_date,
            c.first_period_amount,
            c.end_date,
            c.last_period_amount,
        )
        for c in account.charges.select_related("offering").order_by("start_date", "pk")
    ]


def billing_reason(order: Order) -> str:
    return order.events.get(kind=OrderEvent.Kind.BILLING_STARTED).reason


def test_an_upgrade_mid_month_ends_the_old_plan_the_day_before_and_bills_the_new_one_prorated(
    line, django_capture_on_commit_callbacks
):
    # Given Jane's line, billed at 35.00 from 1 June
    gigabit = PlanFactory(
        code="fibre-900", name="Fibre 900", download_mbps=900, monthly_price=Decimal("55.00")
    )

    # When she upgrades to Fibre 900 (55.00) on 16 June
    order = change(
        line, ItemChange.PLAN, D(2025, 6, 16), django_capture_on_commit_callbacks, offering=gigabit
    )

    # Then on her one account Fibre 500 is charged to 15 June (15 of 30 days: 17.50) and
    # Fibre 900 from 16 June (15 days: 27.50); the monthly total is the new plan's
    account = account_of(line)
    assert not BillingAccount.objects.filter(order=order).exists()
    assert charges(account) == [
        ("Fibre 500", Decimal("35.00"), D(2025, 6, 1), Decimal("35.00"), D(2025, 6, 15),
         Decimal("17.50")),
        ("Fibre 900", Decimal("55.00"), D(2025, 6, 16), Decimal("27.50"), None, None),
    ]  # fmt: skip
    assert account.monthly_price == Decimal("55.00")
    assert account.plan == gigabit
    assert account.status == BillingAccount.Status.ACTIVE
    # ... the change is ordered terms, not a mismatch for the billing analyst
    assert not BillingAccount.objects.filter(MISMATCH).exists()
    # ... and the order's history says what changed on the bill, with the figures
    reason = billing_reason(order)
    assert "Fibre 500 at 35.00 GBP/month ends 2025-06-15, last period 17.50 GBP" in reason
    assert "Fibre 900 at 55.00 GBP/month starts 2025-06-16" in reason
    assert "55.00 GBP/month in all (+20.00 GBP)" in reason
    assert order.events.filter(kind=OrderEvent.Kind.STATUS_CHANGED).last().reason == reason


def test_a_downgrade_lowers_the_monthly_total_from_the_change_date(
    line, django_capture_on_commit_callbacks
):
    # Given Jane's line at 35.00
    basic = PlanFactory(
        code="fibre-150", name="Fibre 150", download_mbps=150, monthly_price=Decimal("25.00")
    )

    # When she moves down to Fibre 150 (25.00) on 16 June
    order = change(
        line, ItemChange.PLAN, D(2025, 6, 16), django_capture_on_commit_callbacks, offering=basic
    )

    # Then the new plan is charged from 16 June (15 days: 12.50) and the total drops by 10.00
    account = account_of(line)
    assert charges(account)[1] == (
        "Fibre 150", Decimal("25.00"), D(2025, 6, 16), Decimal("12.50"), None, None
    )  # fmt: skip
    assert charges(account)[0][4:] == (D(2025, 6, 15), Decimal("17.50"))
    assert account.monthly_price == Decimal("25.00")
    assert "25.00 GBP/month in all (-10.00 GBP)" in billing_reason(order)


def test_a_suspended_line_is_charged_on_by_default(
    line_with_add_ons, settings, django_capture_on_commit_callbacks
):
    # Given the ISP charges suspended lines (the default)
    assert settings.BILLING_SUSPENDED_LINES == "charge"
    before = charges(account_of(line_with_add_ons))

    # When Kim's line is suspended on 11 June
    order = change(
        line_with_add_ons, ItemChange.SUSPEND, D(2025, 6, 11), django_capture_on_commit_callbacks
    )

    # Then the bill runs on as it was, and the history says why
    account = account_of(line_with_add_ons)
    assert charges(account) == before
    assert account.monthly_price == Decimal("43.00")
    assert "the line is charged while suspended" in billing_reason(order)
    assert "(unchanged)" in billing_reason(order)


def test_a_suspended_line_pauses_its_charges_and_its_add_ons_until_it_is_resumed(
    line_with_add_ons, settings, django_capture_on_commit_callbacks
):
    # Given the ISP does not charge suspended lines
    settings.BILLING_SUSPENDED_LINES = "pause"

    # When Kim's line is suspended on 11 June
    suspended = change(
        line_with_add_ons, ItemChange.SUSPEND, D(2025, 6, 11), django_capture_on_commit_callbacks
    )

    # Then the line and its add-ons are charged to 10 June (10 of 30 days) and nothing since
    account = account_of(line_with_add_ons)
    assert [c[4:] for c in charges(account)] == [
        (D(2025, 6, 10), Decimal("11.67")),
        (D(2025, 6, 10), Decimal("1.67")),
        (D(2025, 6, 10), Decimal("1.00")),
    ]
    assert account.monthly_price == Decimal("0.00")
    assert "not charged while suspended" in billing_reason(suspended)

    # When it is resumed on 21 June
    resumed = change(
        line_with_add_ons, ItemChange.RESUME, D(2025, 6, 21), django_capture_on_commit_callbacks
    )

    # Then each charge starts again from 21 June (10 days), with no one-time charge again
    account.refresh_from_db()
    restarted = list(account.charges.filter(started_by__order=resumed).order_by("pk"))
    assert [(c.offering.name, c.start_date, c.first_period_amount) for c in restarted] == [
        ("Fibre 500", D(2025, 6, 21), Decimal("11.67")),
        ("Static IP", D(2025, 6, 21), Decimal("1.67")),
        ("Router", D(2025, 6, 21), Decimal("1.00")),
    ]
    assert {c.one_time_price for c in restarted} == {Decimal("0.00")}
    assert all(c.end_date is None for c in restarted)
    assert account.monthly_price == Decimal("43.00")
    assert "43.00 GBP/month in all (+43.00 GBP)" in billing_reason(resumed)


def test_a_cease_ends_every_charge_with_a_prorated_last_period_and_closes_the_account(
    line_with_add_ons, django_capture_on_commit_callbacks
):
    # When Kim ceases her line (and so its add-ons) on 20 June
    order = change(
        line_with_add_ons, ItemAction.DELETE, D(2025, 6, 20), django_capture_on_commit_callbacks
    )

    # Then each charge ends on 20 June, the day charged (20 of 30 days)
    account = account_of(line_with_add_ons)
    assert [(c[0], *c[4:]) for c in charges(account)] == [
        ("Fibre 500", D(2025, 6, 20), Decimal("23.33")),
        ("Static IP", D(2025, 6, 20), Decimal("3.33")),
        ("Router", D(2025, 6, 20), Decimal("2.00")),
    ]
    assert set(account.charges.values_list("ended_by__order", flat=True)) == {order.pk}
    # ... nothing is charged any more, and the account is closed
    assert account.monthly_price == Decimal("0.00")
    assert account.status == BillingAccount.Status.CLOSED
    assert "the account is closed" in billing_reason(order)


def test_an_add_on_taken_off_ends_its_charge_and_the_line_is_billed_on(
    line_with_add_ons, django_capture_on_commit_callbacks
):
    router = line_with_add_ons.add_ons.get(specification__kind="router")

    # When Kim's router is taken off on 20 June
    order = change(
        line_with_add_ons, "remove", D(2025, 6, 20), django_capture_on_commit_callbacks,
        add_on_id=router.pk,
    )  # fmt: skip

    # Then only the router's charge ends (20 days: 2.00); the line and the static IP run on
    account = account_of(line_with_add_ons)
    assert [(c[0], *c[4:]) for c in charges(account)] == [
        ("Fibre 500", None, None),
        ("Static IP", None, None),
        ("Router", D(2025, 6, 20), Decimal("2.00")),
    ]
    assert account.monthly_price == Decimal("40.00")
    assert account.status == BillingAccount.Status.ACTIVE
    assert "Router at 3.00 GBP/month ends 2025-06-20" in billing_reason(order)


def test_billing_a_change_twice_changes_nothing_the_second_time(
    line, django_capture_on_commit_callbacks
):
    # Given an upgrade billed on 16 June
    gigabit = PlanFactory(code="fibre-900", name="Fibre 900", download_mbps=900)
    order = change(
        line, ItemChange.PLAN, D(2025, 6, 16), django_capture_on_commit_callbacks, offering=gigabit
    )
    account = account_of(line)
    before = (charges(account), account.monthly_price, order.events.count())

    # When the billing message is delivered again, days later
    with on(D(2025, 6, 18)), django_capture_on_commit_callbacks(execute=True):
        again = billing_account_start(order.pk)

    # Then the same account comes back and nothing on it or the order moved
    assert again == account
    account.refresh_from_db()
    assert (charges(account), account.monthly_price, order.events.count()) == before
    assert BillingCharge.objects.count() == 2
