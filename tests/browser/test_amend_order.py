"""In a real browser: a sales rep changes the plan of an order just taken and sees the new
monthly total, before and after saving."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from orders.models import Order
from tests.browser.conftest import sign_in
from tests.factories import PlanFactory, submit_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_changes_the_plan_of_a_submitted_order_and_sees_the_new_monthly_total(
    page, sales_user, plan, manual_area
):
    # Given an order for Fibre 500 just taken (at an address our team sets up by hand, so
    # it waits for them), Fibre 900 on sale, and a sales rep signed in
    PlanFactory(
        code="fibre-900", name="Fibre 900", download_mbps=900, monthly_price=Decimal("45.00")
    )
    order = submit_order(plan=plan, area=manual_area).order
    sign_in(page, sales_user.username)

    # When the rep opens the order and follows "Change this order"
    page.goto(f"/sales/orders/{order.pk}/")
    page.get_by_test_id("amend-link").click()
    expect(page).to_have_url(re.compile(rf"/sales/orders/{order.pk}/amend/$"))
    expect(page.get_by_test_id("current-monthly")).to_have_text("35.00 GBP")

    # Then choosing Fibre 900 shows the new monthly total at once
    page.get_by_label(re.compile(r"Fibre 900 \(900 Mbps\) ·")).check()
    prices = page.locator("#price-summary")
    expect(prices.get_by_test_id("total-monthly")).to_have_text("45.00 GBP")

    # When they save the change
    page.get_by_role("button", name="Change order").click()

    # Then the order page shows the new plan and total
    expect(page).to_have_url(re.compile(rf"/sales/orders/{order.pk}/$"))
    expect(page.get_by_test_id("order-total-monthly")).to_have_text("45.00 GBP")
    expect(page.get_by_test_id("order-item").first).to_contain_text("Fibre 900 (900 Mbps)")
    expect(page.get_by_role("status")).to_contain_text(f"Order {order.display_id} changed.")
    assert Order.objects.get(pk=order.pk).plan.code == "fibre-900"
