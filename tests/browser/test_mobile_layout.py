"""The customer's pages on a phone: everything fits the width (no sideways scrolling)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}  # a current mid-size phone, in CSS pixels
OVERFLOW = "document.scrollingElement.scrollWidth - window.innerWidth"


def test_us02_customer_order_page_fits_a_phone_screen(
    open_page, customer_user, place_order, plan, serviceable_area
):
    # Given a completed order of the customer's, with a full timeline
    order = place_order(
        plan=plan,
        area=serviceable_area,
        email="cat.customer@example.com",
        name="Catherine Montgomery-Featherstonehaugh",
        customer_user=customer_user,
    )
    page = open_page(viewport=PHONE)
    sign_in(page, customer_user.username)

    # When the customer opens the list of orders, then the order, on a phone
    expect(page.get_by_role("link", name=order.display_id)).to_be_visible()
    list_overflow = page.evaluate(OVERFLOW)
    page.get_by_role("link", name=order.display_id).click()
    expect(page.get_by_test_id("order-status")).to_have_text("Active")

    # Then neither page scrolls sideways
    assert page.evaluate("window.innerWidth") == PHONE["width"]
    assert list_overflow <= 0
    assert page.evaluate(OVERFLOW) <= 0
