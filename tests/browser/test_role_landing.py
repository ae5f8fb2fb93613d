"""Each role's own window in a real browser, on a phone-sized screen: signing in lands each role
on its own page, the navigation offers only that role's pages, and nobody looks through
another's window."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from orders.models import Order
from orders.states import OrderStatus
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
OVERFLOW = "document.scrollingElement.scrollWidth - window.innerWidth"
NAV_LINKS = (
    "Sales",
    "New order",
    "Provisioning",
    "Exception queue",
    "Billing",
    "Order search",
    "My orders",
    "Back office",
)
# user fixture, where they land, the page's heading, the navigation links they get
LANDINGS = [
    ("sales_user", r"/work/sales/$", "Sales", {"Sales", "New order"}),
    ("provisioning_user", r"/work/provisioning/$", "Provisioning", {"Provisioning", "Back office"}),
    (
        "lead_user",
        r"/work/lead/$",
        "Exception queue",
        {"Exception queue", "Provisioning", "Jeopardies", "Back office"},
    ),
    ("billing_user", r"/work/billing/$", "Billing", {"Billing", "Back office"}),
    ("support_user", r"/support/$", "Order search", {"Order search"}),
    ("ops_manager_user", r"/work/operations/$", "Orders in jeopardy", {"Jeopardies"}),
    ("customer_user", r"/my/orders/$", "My orders", {"My orders"}),
]
STAFF_OF_THE_BACK_OFFICE = {"provisioning_user", "lead_user", "billing_user"}  # as in the demo


@pytest.fixture
def customer_order(place_order, plan, manual_area, customer_user) -> Order:
    """``customer_user``'s own order, waiting in the manual pool. Its own phone number: the
    scenario orders share one, and intake would take them for the same customer."""
    return place_order(
        plan=plan,
        area=manual_area,
        email="cat.customer@example.com",
        phone="07700900777",
        customer_user=customer_user,
    )


@pytest.fixture
def orders_in_every_window(
    customer_order: Order, failed_order: Order, place_order, plan, serviceable_area
) -> list[Order]:
    """Work on every worklist: a customer's order in the manual pool, another customer's
    failed activation (an exception case) and a third customer's completed, billed order; all
    taken by ``sales_user``."""
    completed = place_order(
        plan=plan, area=serviceable_area, email="done@example.com", phone="07700900888"
    )
    return [customer_order, failed_order, completed]


@pytest.mark.parametrize(("user_fixture", "landing", "heading", "links"), LANDINGS)
def test_each_role_signs_in_to_its_own_page_and_sees_only_its_own_links(
    open_page,
    request: pytest.FixtureRequest,
    orders_in_every_window: list[Order],
    user_fixture: str,
    landing: str,
    heading: str,
    links: set[str],
) -> None:
    # Given a person of one role, with back-office access where the demo gives it
    user = request.getfixturevalue(user_fixture)
    if user_fixture in STAFF_OF_THE_BACK_OFFICE:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    page = open_page(viewport=PHONE)

    # When they sign in on a phone
    sign_in(page, user.username)

    # Then they land on their own page...
    expect(page).to_have_url(re.compile(landing))
    expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
    # ... whose navigation offers their pages and none of another role's
    nav = page.get_by_role("navigation", name="Main")
    for name in NAV_LINKS:
        link = nav.get_by_role("link", name=name, exact=True)
        if name in links:
            expect(link).to_be_visible()
        else:
            expect(link).to_have_count(0)
    # ... and the page fits the phone's width (no sideways scrolling)
    assert page.evaluate(OVERFLOW) <= 0


def test_customer_cannot_open_another_customers_order_or_a_staff_page(
    open_page, customer_user, customer_order: Order, failed_order: Order
) -> None:
    # Given a signed-in customer, and an order of somebody else's
    page = open_page(viewport=PHONE)
    sign_in(page, customer_user.username)
    expect(page.get_by_role("link", name=customer_order.display_id)).to_be_visible()
    expect(page.get_by_text(failed_order.display_id)).to_have_count(0)

    # When they type the other customer's order address
    response = page.goto(f"/my/orders/{failed_order.pk}/")

    # Then there is no such order for them (missing and forbidden look the same)
    assert response is not None and response.status == 404
    expect(page.get_by_text("Quinn Failed")).to_have_count(0)

    # And the staff worklists are closed to them
    for url in ("/work/sales/", "/work/provisioning/", "/work/lead/", "/work/billing/"):
        response = page.goto(url)
        assert response is not None and response.status == 403


def test_provisioning_confirms_a_manual_activation_from_the_worklist_on_a_phone(
    open_page, provisioning_user, customer_order: Order
) -> None:
    # Given provisioning staff on their worklist, with an order in the manual pool
    order = customer_order
    page = open_page(viewport=PHONE)
    sign_in(page, provisioning_user.username)
    row = page.get_by_test_id(f"pool-{order.pk}")
    expect(row).to_contain_text(order.display_id)

    # When they open "Confirm activation…", say what was done and confirm
    row.get_by_text("Confirm activation…").click()
    row.get_by_label("What was done").fill("Engineer patched the line at the cabinet.")
    row.get_by_role("button", name=f"Confirm {order.display_id} is live").click()

    # Then they are told it is done, the pool is empty, and the order is live and billed
    expect(page.get_by_role("status")).to_contain_text(f"Order {order.display_id} confirmed")
    expect(page.get_by_test_id("manual-pool")).to_contain_text("The manual pool is empty.")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED
