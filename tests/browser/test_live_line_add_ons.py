"""In a real browser: a sales rep adds a static IP to a customer's live line, from the support
view of the customer's installed base."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from orders.models import Order
from tests.browser.conftest import sign_in
from tests.factories import StaticIpOfferingFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_adds_a_static_ip_to_a_live_line_from_the_support_view(page, sales_user, live_line):
    # Given Jane's live Fibre 500 and a static IP on sale, and a sales rep signed in
    StaticIpOfferingFactory(name="Static IP", monthly_price=Decimal("5.00"))
    sign_in(page, sales_user.username)

    # When the rep finds Jane in support and opens the order that delivered her line
    page.goto("/support/")
    page.get_by_label("Order ID, customer name, e-mail or phone").fill("jane@example.com")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=live_line.order.display_id).click()
    expect(page).to_have_url(re.compile(rf"/support/orders/{live_line.order_id}/$"))

    # ... and follows "Add to this line" beside the line in her installed base
    installed = page.get_by_test_id("customer-products")
    installed.get_by_role("link", name="Add to this line").click()
    expect(page).to_have_url(re.compile(rf"/sales/orders/lines/{live_line.pk}/add-ons/$"))
    expect(page.get_by_test_id("line-name")).to_contain_text("Fibre 500")
    expect(page.get_by_test_id("live-add-ons")).to_have_text("None")

    # Then the totals start at nothing, and follow the tick: the static IP's 5.00 a month
    prices = page.locator("#price-summary")
    expect(prices.get_by_test_id("total-monthly")).to_have_text("0.00 GBP")
    page.get_by_label(re.compile(r"Static IP · ")).check()
    expect(prices.get_by_test_id("total-monthly")).to_have_text("5.00 GBP")
    expect(prices.get_by_test_id("total-due-now")).to_have_text("0.00 GBP")
    expect(page.locator("#update-prices")).to_be_hidden()

    # When the rep submits
    page.get_by_role("button", name="Submit order").click()

    # Then the new order opens, with the line shown as live and unchanged, and the static IP
    expect(page).to_have_url(re.compile(r"/sales/orders/[0-9A-Z]+/$"))
    order = Order.objects.get(items__product_ref=live_line.pk)
    expect(page.get_by_test_id("order-id")).to_have_text(order.display_id)
    rows = page.get_by_test_id("order-item")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Fibre 500 — the customer's live line (no change)")
    expect(rows.nth(0)).not_to_contain_text("GBP")
    expect(rows.nth(1)).to_contain_text("Static IP")
    expect(rows.nth(1)).to_contain_text("5.00 GBP")
    expect(page.get_by_test_id("order-total-monthly")).to_have_text("5.00 GBP")
