"""US-02 in a real browser: the customer's order page follows the order by itself."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from orders.models import OrderEvent
from orders.services import order_confirm_manual_activation
from orders.states import EventSource, OrderStatus
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Well inside US-02's 60 s; the test settings poll every 500 ms.
LIVE_UPDATE_TIMEOUT_MS = 10_000


def test_us02_customer_page_shows_activation_without_a_reload(
    page, customer_user, customer_manual_order, lead_user
):
    # Given the customer's order waits for the provisioning team (an exchange without
    # automation), and the customer has its page open
    order = customer_manual_order
    assert order.status == OrderStatus.AWAITING_MANUAL
    sign_in(page, customer_user.username)
    expect(page).to_have_url(re.compile(r"/my/orders/$"))
    page.get_by_role("link", name=re.compile(order.display_id)).click()
    expect(page.get_by_test_id("order-id")).to_have_text(order.display_id)
    status = page.get_by_test_id("order-status")
    expect(status).to_have_text("Being set up by our team")
    expect(page.get_by_test_id("eta")).to_be_visible()
    page.evaluate("window.__sameDocument = true")

    # When the provisioning lead records that the line was activated by hand (billing then
    # completes the order)
    order_confirm_manual_activation(
        order,
        actor=lead_user,
        reason="Engineer jumpered the line at the Inverness exchange.",
        source=EventSource.ADMIN,
    )
    assert order.events.filter(to_status=OrderStatus.COMPLETED).exists()

    # Then the open page shows the new status and timeline entries by itself...
    expect(status).to_have_text("Active", timeout=LIVE_UPDATE_TIMEOUT_MS)
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("Your internet service is live.")
    expect(timeline).to_contain_text("All done: your account is active and billing has started.")
    # ... in the same document: nobody reloaded the page
    assert page.evaluate("window.__sameDocument") is True
    # ... and in customer words only: no internal reason, reason code or staff name
    text = page.locator("main").inner_text()
    internal = [
        *OrderEvent.objects.filter(order=order)
        .exclude(reason_code="")
        .values_list("reason_code", flat=True),
        *OrderEvent.objects.filter(order=order).exclude(reason="").values_list("reason", flat=True),
        lead_user.username,
        "Inverness",
    ]
    assert {"MANUAL_AREA", "MANUAL_OVERRIDE"} <= set(internal)
    shown = [item for item in internal if item in text]
    assert shown == []


def test_the_tracking_page_without_a_sign_in_follows_the_order_by_itself(
    page, place_order, plan, manual_area, lead_user
):
    # Given a new customer, from the link in their invitation, tracking an order that waits for
    # the provisioning team, with the order ID and postcode (no account)
    order = place_order(plan=plan, area=manual_area, email="newbie@example.com")
    page.goto(f"/track/?order_id={order.display_id}")
    page.get_by_label("Postcode of the service address").fill("IV1 1AA")
    with page.expect_navigation():
        page.get_by_role("button", name="Track").click()
    status = page.get_by_test_id("order-status")
    expect(status).to_have_text("Being set up by our team")
    page.evaluate("window.__sameDocument = true")

    # When the line is activated by hand (billing then completes the order)
    order_confirm_manual_activation(
        order,
        actor=lead_user,
        reason="Engineer jumpered the line at the Inverness exchange.",
        source=EventSource.ADMIN,
    )

    # Then the open page shows it by itself, in the same document, in customer words
    expect(status).to_have_text("Active", timeout=LIVE_UPDATE_TIMEOUT_MS)
    expect(page.locator(".timeline")).to_contain_text("Your internet service is live.")
    assert page.evaluate("window.__sameDocument") is True
    assert "Inverness" not in page.locator("main").inner_text()
