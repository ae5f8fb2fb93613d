"""In a real browser: a customer with a live line upgrades their speed from their order page and
follows the change order to active (Celery runs eagerly in the live server, so the change's plan
runs inside the request that takes it)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from inventory.models import Product
from orders.models import Order
from orders.states import OrderStatus
from tests.browser.conftest import sign_in
from tests.factories import PlanFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_upgrades_their_speed_from_their_order_page(
    page, place_order, plan, serviceable_area, customer_user
):
    # Given the customer's Fibre 500, live, and Fibre 900 on sale at their address
    order = place_order(
        plan=plan, area=serviceable_area, email="mine@example.com", customer_user=customer_user
    )
    assert order.status == OrderStatus.COMPLETED
    PlanFactory(
        code="fibre-900", name="Fibre 900", download_mbps=900, monthly_price=Decimal("45.00")
    )
    sign_in(page, customer_user.username)
    page.get_by_role("link", name=re.compile(order.display_id)).click()

    # When they choose "Change my speed", pick Fibre 900 and submit
    page.get_by_role("link", name="Change my speed").click()
    expect(page.get_by_test_id("change-speed")).to_contain_text("the first month prorated")
    page.get_by_label("New plan").select_option(
        label="Fibre 900 (900 Mbps): 45.00 GBP a month (+10.00 GBP a month)"
    )
    page.get_by_role("button", name="Change my speed").click()

    # Then they are on the change order's own page, which reads as the speed change
    line = Product.objects.get(order=order)
    change = Order.objects.get(product_ref=line.pk)
    expect(page).to_have_url(re.compile(rf"/my/orders/{change.pk}/(#.*)?$"))
    expect(page.get_by_test_id("order-id")).to_have_text(change.display_id)
    expect(page.get_by_test_id("change-title")).to_have_text("Speed change to Fibre 900")
    # ... and follows it to active
    expect(page.get_by_test_id("order-status")).to_have_text("Active")
    expect(page.get_by_test_id("customer-item")).to_contain_text("Speed change to Fibre 900: done")
    expect(page.locator(".timeline")).to_contain_text("We received your order.")
    # ... and their line is on the new plan
    line.refresh_from_db()
    assert line.offering.name == "Fibre 900"
