"""The billing analyst's worklist (portal/worklists.py): accounts starting today, activated
orders not billed, accounts that disagree with their order, and the charges that changes to
live lines started or ended today."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import BillingAccount, BillingCharge
from orders.changes import order_submit_change
from orders.states import EventSource, ItemAction, ItemChange, OrderStatus
from tests.factories import BillingAccountFactory, OrderFactory, PlanFactory, submit_order

pytestmark = pytest.mark.django_db

BILLING_URL = reverse("portal:billing_home")


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


# --- billing -------------------------------------------------------------------------------
def test_billing_sees_accounts_starting_today_and_activated_orders_not_billed(
    client: Client,
    billing_user: User,
    plan,
    serviceable_area,
    django_capture_on_commit_callbacks,
) -> None:
    # given an order activated and billed today, an account that started yesterday, and an
    # order activated two hours ago whose billing never started
    with django_capture_on_commit_callbacks(execute=True):
        billed = submit_order(plan=plan, area=serviceable_area).order
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    older = BillingAccountFactory(
        order=OrderFactory(
            status=OrderStatus.COMPLETED,
            activated_at=timezone.now() - datetime.timedelta(days=1),
        ),
        start_date=yesterday,
    )
    stuck = OrderFactory(
        status=OrderStatus.ACTIVATED, activated_at=timezone.now() - datetime.timedelta(hours=2)
    )

    # when billing opens their landing page
    response = signed_in(client, billing_user).get(BILLING_URL)

    # then today's start and the stuck activation are listed, and nothing mismatches
    assert [a.order_id for a in response.context["started_today"].items] == [billed.pk]
    assert [o.pk for o in response.context["not_started"].items] == [stuck.pk]
    assert response.context["mismatches"].total == 0
    html = response.content.decode()
    assert "Every bill matches its order." in html
    assert "2\xa0hours ago" in html
    assert older.order.display_id not in html


def test_billing_finds_accounts_that_disagree_with_their_order(
    client: Client,
    billing_user: User,
    plan,
    serviceable_area,
    django_capture_on_commit_callbacks,
) -> None:
    # given four orders billed the honest way
    with django_capture_on_commit_callbacks(execute=True):
        orders = [submit_order(plan=plan, area=serviceable_area).order for _ in range(4)]
    accounts = {a.order_id: a for a in BillingAccount.objects.all()}
    right, wrong_price, wrong_plan, wrong_start = (accounts[o.pk] for o in orders)
    signed_in(client, billing_user)
    assert client.get(BILLING_URL).context["mismatches"].total == 0

    # when three accounts are corrupted behind the services' back
    BillingAccount.objects.filter(pk=wrong_price.pk).update(monthly_price=Decimal("29.99"))
    BillingAccount.objects.filter(pk=wrong_plan.pk).update(plan=PlanFactory(name="Fibre 900"))
    BillingAccount.objects.filter(pk=wrong_start.pk).update(
        start_date=wrong_start.start_date + datetime.timedelta(days=3)
    )

    # then billing's page lists exactly those, each with what differs
    found = client.get(BILLING_URL).context["mismatches"]
    differences = {m.account.pk: m.differences for m in found.items}
    assert set(differences) == {wrong_price.pk, wrong_plan.pk, wrong_start.pk}
    assert differences[wrong_price.pk] == ["price 29.99 GBP on the bill, 35.00 GBP ordered"]
    assert differences[wrong_plan.pk] == ["plan Fibre 900 on the bill, Fibre 500 ordered"]
    assert differences[wrong_start.pk] == [
        f"starts {wrong_start.start_date + datetime.timedelta(days=3)}, "
        f"activated {wrong_start.start_date}"
    ]
    assert right.pk not in differences


def test_billing_sees_the_charges_changes_to_live_lines_started_or_ended_today(
    client: Client,
    billing_user: User,
    make_live_line,
    plan,
    serviceable_area,
    django_capture_on_commit_callbacks,
) -> None:
    # given Jane's line upgraded today, and Tom's line ceased yesterday
    jane = make_live_line(plan=plan, area=serviceable_area)
    tom = make_live_line(plan=plan, area=serviceable_area, email="tom@example.com")
    gigabit = PlanFactory(
        code="fibre-900", name="Fibre 900", download_mbps=900, monthly_price=Decimal("55.00")
    )
    with django_capture_on_commit_callbacks(execute=True):
        upgrade = order_submit_change(
            jane.pk, ItemChange.PLAN, offering=gigabit, channel=EventSource.API, submitted_by=None
        ).order
        order_submit_change(tom.pk, ItemAction.DELETE, channel=EventSource.API, submitted_by=None)
    today = timezone.localdate()
    BillingCharge.objects.filter(account__order=tom.order).update(
        changed_on=today - datetime.timedelta(days=1)
    )

    # when billing opens their landing page
    response = signed_in(client, billing_user).get(BILLING_URL)

    # then today's change is listed, charge by charge (the new account list does not show
    # it), and yesterday's is not
    changed = response.context["changed_today"]
    assert [(r.order.pk, r.charge.offering.name, r.started, r.ended) for r in changed.items] == [
        (upgrade.pk, "Fibre 900", True, False),
        (upgrade.pk, "Fibre 500", False, True),
    ]
    assert response.context["started_today"].total == 2  # the two new lines, not the change
    html = response.content.decode()
    assert "Charges changed today" in html
    assert f"Ends {today - datetime.timedelta(days=1):%-d %b}, last period" in html
    assert tom.order.display_id not in html.split('data-testid="changed-today"')[1]
