"""A long unbroken name or address (120 characters, the limit) wraps on every page that shows
it: no page gets wider than the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from orders.services import customer_link_user
from tests.browser.conftest import sign_in
from tests.factories import submit_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
OVERFLOW = "document.scrollingElement.scrollWidth - window.innerWidth"
LONG_NAME = "W" * 120
LONG_STREET = "S" * 120


@pytest.fixture
def long_order(plan, manual_area, sales_user, customer_user):
    """An open order whose customer's name and street are unbroken words at the limit."""
    order = submit_order(
        plan=plan,
        area=manual_area,
        submitted_by=sales_user,
        name=LONG_NAME,
        address_line1=LONG_STREET,
    ).order
    customer_link_user(order.customer_id, customer_user)
    return order


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_order_page_with_a_120_character_name_is_no_wider_than_the_screen(
    open_page, sales_user, long_order, viewport
):
    # Given the sales rep's order page for a customer with a 120-character unbroken name
    page = open_page(viewport=viewport)
    sign_in(page, sales_user.username)
    # When it is opened
    page.goto(f"/sales/orders/{long_order.pk}/")
    expect(page.get_by_text(LONG_NAME, exact=False)).to_be_visible()
    # Then it does not scroll sideways: the name wraps
    assert page.evaluate(OVERFLOW) <= 0


def test_every_page_showing_the_name_or_address_fits_a_phone(
    open_page, sales_user, support_user, customer_user, long_order
):
    pages = {
        sales_user: ["/work/sales/", f"/sales/orders/{long_order.pk}/"],
        support_user: [f"/support/?q={long_order.pk}", f"/support/orders/{long_order.pk}/"],
        customer_user: ["/my/orders/", f"/my/orders/{long_order.pk}/"],
    }
    too_wide = {}
    for user, urls in pages.items():
        page = open_page(viewport=PHONE)
        sign_in(page, user.username)
        for url in urls:
            page.goto(url)
            overflow = page.evaluate(OVERFLOW)
            if overflow > 0:
                too_wide[url] = overflow
    assert too_wide == {}
