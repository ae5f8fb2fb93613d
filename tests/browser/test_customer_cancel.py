"""Self-service cancellation in a real browser: the customer cancels their scheduled order from
their order page."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from orders.models import Order
from orders.states import EventSource, OrderStatus
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_cancels_their_scheduled_order_from_their_order_page(
    page, place_order, plan, serviceable_area, customer_user
):
    # Given the customer's order, held until the date they asked for
    order = place_order(
        plan=plan,
        area=serviceable_area,
        email="later@example.com",
        customer_user=customer_user,
        requested=timezone.localdate() + datetime.timedelta(days=30),
    )
    assert order.status == OrderStatus.SCHEDULED
    sign_in(page, customer_user.username)
    page.get_by_role("link", name=re.compile(order.display_id)).click()
    expect(page.get_by_test_id("order-status")).to_have_text(re.compile(r"^Scheduled for "))

    # When they open "Cancel this order", say why and confirm
    page.get_by_text("Cancel this order", exact=True).click()
    page.get_by_label("Tell us why").fill("Plans changed.")
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, cancel this order").click()

    # Then their order page says it is cancelled, and offers nothing more to cancel
    expect(page.get_by_role("status")).to_contain_text(
        f"Your order {order.display_id} is cancelled."
    )
    expect(page.get_by_test_id("order-status")).to_have_text("Cancelled")
    expect(page.locator(".timeline")).to_contain_text("Your order was cancelled.")
    expect(page.get_by_test_id("cancel-order")).to_have_count(0)
    # ... and the order is cancelled by them, from the customer portal
    event = Order.objects.get(pk=order.pk).events.get(to_status=OrderStatus.CANCELLED)
    assert (event.actor_id, event.source, event.reason) == (
        customer_user.pk,
        EventSource.CUSTOMER_PORTAL,
        "Plans changed.",
    )
