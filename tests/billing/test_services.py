"""Starting the bill (billing/services.py): US-04 and DESIGN invariant 6."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from billing.models import MISMATCH, BillingAccount
from billing.services import billing_account_start, first_period
from orders.models import Order, OrderEvent
from orders.services import order_confirm_manual_activation
from orders.states import EventSource, OrderStatus
from tests.factories import submit_order

D = datetime.date


def assert_matches_order(account: BillingAccount, order: Order) -> None:
    assert account.order_id == order.pk
    assert account.customer_id == order.customer_id
    assert account.plan_id == order.plan_id
    assert account.monthly_price == order.monthly_price
    assert account.currency == order.currency
    assert account.start_date == order.activation_date


@pytest.mark.django_db
def test_us04_billing_starts_with_the_plan_price_and_start_date_of_the_order(
    plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given an order reaches successful activation
    # When billing is triggered
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area).order
    order.refresh_from_db()
    # Then plan, pricing and start date match the order record
    account = BillingAccount.objects.get()
    assert_matches_order(account, order)
    assert account.monthly_price == Decimal("35.00")
    assert (account.first_period_end, account.first_period_amount) == first_period(
        order.activation_date, order.monthly_price
    )
    assert account.status == BillingAccount.Status.ACTIVE
    # ... and the order is completed, with the billing start in its history
    assert order.status == OrderStatus.COMPLETED
    started = order.events.get(kind=OrderEvent.Kind.BILLING_STARTED)
    assert started.data == {
        "billing_account": account.pk,
        "start_date": order.activation_date.isoformat(),
    }


@pytest.mark.django_db
def test_us04_billing_uses_the_price_sold_even_if_the_catalog_changed_before_activation(
    plan, manual_area, lead_user, django_capture_on_commit_callbacks
):
    # Given an order taken at 35.00, waiting for the provisioning team
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=manual_area).order
    # ... and the catalog price rises before the line is activated
    plan.monthly_price = Decimal("42.50")
    plan.save()
    # When the line is activated and billing is triggered
    with django_capture_on_commit_callbacks(execute=True):
        order_confirm_manual_activation(
            order, actor=lead_user, reason="Activated on site.", source=EventSource.ADMIN
        )
    # Then the customer is billed what they were sold
    order.refresh_from_db()
    account = BillingAccount.objects.get(order=order)
    assert account.monthly_price == Decimal("35.00")
    assert_matches_order(account, order)
    assert order.status == OrderStatus.COMPLETED


@pytest.mark.django_db
def test_billing_started_twice_opens_one_account(
    plan, serviceable_area, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area).order
    first = BillingAccount.objects.get(order=order)
    events = order.events.count()
    # When the billing message is delivered again
    with django_capture_on_commit_callbacks(execute=True):
        again = billing_account_start(order.pk)
    # Then the same account comes back and nothing else is written
    assert again.pk == first.pk
    assert BillingAccount.objects.count() == 1
    assert order.events.count() == events


@pytest.mark.django_db
def test_billing_does_not_start_for_an_order_that_is_not_activated(plan, manual_area):
    # Given an order still waiting for the provisioning team
    order = submit_order(plan=plan, area=manual_area).order
    # When billing is (wrongly) triggered
    assert billing_account_start(order.pk) is None
    # Then no account opens and the order does not move
    order.refresh_from_db()
    assert not BillingAccount.objects.exists()
    assert order.status == OrderStatus.SUBMITTED
    assert not order.events.filter(kind=OrderEvent.Kind.BILLING_STARTED).exists()


@pytest.mark.parametrize(
    ("start", "price", "period_end", "amount"),
    [
        # The 1st: the whole month at the full price
        (D(2025, 6, 1), "35.00", D(2025, 6, 30), "35.00"),
        (D(2025, 1, 1), "35.00", D(2025, 1, 31), "35.00"),
        # The 16th of a 30-day month: 15 of 30 days; 17.985 rounds half up to 17.99
        (D(2025, 6, 16), "35.97", D(2025, 6, 30), "17.99"),
        (D(2025, 6, 16), "35.00", D(2025, 6, 30), "17.50"),
        # The 16th of a 31-day month: 16 of 31 days (18.0645...)
        (D(2025, 7, 16), "35.00", D(2025, 7, 31), "18.06"),
        # The last day: one day
        (D(2025, 6, 30), "30.00", D(2025, 6, 30), "1.00"),
        # February in a leap year has 29 days: 15 of 29 (15.0000)
        (D(2024, 2, 15), "29.00", D(2024, 2, 29), "15.00"),
        (D(2024, 2, 29), "29.00", D(2024, 2, 29), "1.00"),
        # ... and 28 otherwise: 14 of 28
        (D(2025, 2, 15), "29.00", D(2025, 2, 28), "14.50"),
    ],
)
def test_first_period_runs_to_the_month_end_prorated_by_day(start, price, period_end, amount):
    assert first_period(start, Decimal(price)) == (period_end, Decimal(amount))


@pytest.mark.django_db
def test_billing_keeps_the_order_terms_it_read_on_the_account(
    plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given an order billed the normal way
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area).order
    order.refresh_from_db()

    # When its account is read
    account = BillingAccount.objects.get()

    # Then the order's terms are on it as billing read them, and nothing mismatches
    assert (
        account.ordered_plan_id,
        account.ordered_monthly_price,
        account.ordered_currency,
        account.ordered_activation_date,
    ) == (order.plan_id, order.monthly_price, order.currency, order.activation_date)
    assert not BillingAccount.objects.filter(MISMATCH).exists()
