"""US-05 in a real browser: support finds an order by its ID and sees it end to end."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from orders.states import OrderStatus
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def mistype_one_symbol(order_id: str) -> str:
    """The same ID with its first symbol replaced by another digit."""
    wrong = "1" if order_id[0] == "0" else "0"
    return wrong + order_id[1:]


def test_us05_support_finds_an_order_by_a_loosely_typed_id_and_sees_it_end_to_end(
    page, support_user, failed_order, lead_user
):
    # Given an order whose activation failed into the exception queue
    order = failed_order
    assert order.status == OrderStatus.EXCEPTION
    sign_in(page, support_user.username)
    expect(page).to_have_url(re.compile(r"/support/$"))

    # When the agent types its ID as a caller reads it out: lower case, a space for the dash
    typed = f"{order.pk[:5]} {order.pk[5:]}".lower()
    page.get_by_label("Order ID, customer name, e-mail or phone").fill(typed)
    page.get_by_role("button", name="Search").click()

    # Then the order itself opens...
    expect(page).to_have_url(re.compile(rf"/support/orders/{order.pk}/$"))
    expect(page.get_by_test_id("order-id")).to_have_text(order.display_id)
    # ... with its lifecycle status and what the customer is told
    expect(page.get_by_test_id("order-status")).to_have_text("Exception")
    expect(page.get_by_text("Customer sees: “Delayed: our team is on it”")).to_be_visible()
    # ... the exception state: reason code and owner
    exception = page.get_by_test_id("exception-panel")
    expect(exception).to_contain_text("PORT_UNAVAILABLE")
    expect(exception).to_contain_text(f"Owner: {lead_user.username}")
    # ... the plan: the line's port reservation failed on its one attempt, and why; the tasks
    # after it wait on it
    plan = page.get_by_test_id("plan-panel")
    expect(plan.get_by_test_id("plan-item-1")).to_contain_text("Held (a task failed)")
    reserve = plan.get_by_test_id("task-1.reserve_port")
    expect(reserve.get_by_test_id("task-state")).to_contain_text(
        "Failed: PORT_UNAVAILABLE No free access port at exchange"
    )
    expect(reserve.get_by_test_id("attempt-log").locator("li")).to_have_count(1)
    expect(plan.get_by_test_id("task-1.create_subscriber")).to_contain_text(
        "Waiting on reserve access port (1.reserve_port, failed)"
    )
    expect(plan.get_by_test_id("task-1.activate_line")).to_contain_text("Point of no return")
    # ... the billing state
    expect(page.get_by_test_id("billing-panel")).to_contain_text("Billing not started.")
    # ... and the recent events, newest first
    events = page.get_by_test_id("events-panel").locator("li")
    expect(events.first).to_contain_text("Exception case opened")
    expect(page.get_by_test_id("events-panel")).to_contain_text("Provisioning → Exception")

    # When the agent mistypes one character of the ID
    page.get_by_role("link", name="← Order search").click()
    page.get_by_label("Order ID, customer name, e-mail or phone").fill(
        mistype_one_symbol(order.display_id)
    )
    page.get_by_role("button", name="Search").click()

    # Then the search says the ID is mistyped instead of showing some other order
    expect(page).to_have_url(re.compile(r"/support/\?q="))
    expect(page.get_by_test_id("search-error")).to_have_text(
        "This is not a valid order ID: a character is mistyped."
    )
