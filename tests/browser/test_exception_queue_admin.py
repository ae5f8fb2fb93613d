"""US-06 in a real browser: the provisioning lead resolves a failed activation from the
exception queue in the back office, and the correction is tracked on the order."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from billing.models import BillingAccount
from orders.states import OrderStatus
from provisioning.models import ExceptionCase, ReasonCode
from tests.browser.conftest import sign_in
from tests.factories import (
    ExceptionCaseFactory,
    OrderFactory,
    RouterOfferingFactory,
    StaticIpOfferingFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "Freed port 7 on shelf 2 at Faultybridge and activated the line by hand."


def test_us06_lead_resolves_a_failed_activation_by_override_with_a_mandatory_reason(
    open_page, lead_user, support_user, failed_order
):
    # Given an order that failed on the full Faultybridge exchange, its case owned by the lead,
    # and another open case with a different reason in the queue
    order = failed_order
    case = ExceptionCase.objects.get(order=order)
    assert (case.reason_code, case.owner, order.status) == (
        ReasonCode.PORT_UNAVAILABLE,
        lead_user,
        OrderStatus.EXCEPTION,
    )
    other = ExceptionCaseFactory(
        order=OrderFactory(status=OrderStatus.EXCEPTION),
        reason_code=ReasonCode.LINE_TEST_FAILED,
        owner=lead_user,
    )
    lead_user.is_staff = True  # the back office is for staff (as in the demo data)
    lead_user.save(update_fields=["is_staff"])
    page = open_page()

    # When the lead signs in, they land on their worklist, and open the exception queue in the
    # back office from there, with both cases in it
    sign_in(page, lead_user.username)
    expect(page).to_have_url(re.compile(r"/work/lead/$"))
    page.get_by_role("link", name="Open in the back office").click()
    expect(page).to_have_url(re.compile(r"/admin/provisioning/exceptioncase/$"))
    expect(page.get_by_role("heading", name="Exception queue")).to_be_visible()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#result_list")).to_contain_text(other.order.display_id)

    # When they open the Faultybridge case
    page.locator("#result_list").get_by_role("link", name=f"Case {case.pk}").click()

    # Then it names the failed task and shows the order's plan with that task marked
    expect(page.locator(".field-task_display .readonly")).to_have_text(
        "Reserve access port (1.reserve_port) of item 1, Fibre 500: failed"
    )
    marked = page.locator("#case-plan").get_by_test_id("task-1.reserve_port")
    expect(marked).to_contain_text("The task this case is about")
    expect(marked).to_contain_text("Failed: PORT_UNAVAILABLE")
    page.go_back()

    # When they filter the queue by reason "no free port"
    page.locator("#changelist-filter").get_by_role(
        "link", name=ReasonCode.PORT_UNAVAILABLE.label
    ).click()

    # Then only the Faultybridge case is left
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(order.display_id)
    expect(page.locator("#result_list")).not_to_contain_text(other.order.display_id)

    # When they select it and run "Resolve by override…" without giving a reason
    rows.first.locator("input.action-select").check()
    page.locator("select[name=action]").select_option(label="Resolve by override…")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_role("heading", name="Resolve exception cases by override")).to_be_visible()
    expect(page.locator("#content-main")).to_contain_text(order.display_id)
    page.get_by_role("button", name="Resolve").click()

    # Then the override is refused: the reason is mandatory, and nothing changed
    expect(page.locator(".field-reason .errorlist")).to_have_text("A reason is required.")
    case.refresh_from_db()
    assert case.state == ExceptionCase.State.OPEN

    # When they choose "activated by hand" and give the reason
    page.get_by_label("Activated by hand: the line is live, start billing").check()
    page.get_by_label("Reason").fill(REASON)
    page.get_by_role("button", name="Resolve").click()

    # Then the queue confirms it, and the case has left the active queue
    expect(page.locator(".messagelist")).to_contain_text(
        f"Resolved (Override: activated by hand): {order.display_id}."
    )
    expect(page.locator("#result_list")).to_have_count(0)
    # ... the case reads resolved, by the lead, with the reason
    page.goto(f"/admin/provisioning/exceptioncase/{case.pk}/change/")
    expect(page.locator(".field-state .readonly")).to_have_text("Resolved")
    expect(page.locator(".field-resolution .readonly")).to_have_text("Override: activated by hand")
    expect(page.locator(".field-resolution_note .readonly")).to_have_text(REASON)
    # ... the order was activated and billed, and the other case is untouched
    order.refresh_from_db()
    case.refresh_from_db()
    other.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert (case.state, case.resolved_by) == (ExceptionCase.State.RESOLVED, lead_user)
    assert BillingAccount.objects.filter(order=order).exists()
    assert other.state == ExceptionCase.State.OPEN

    # When a support agent looks the order up
    support = open_page()
    sign_in(support, support_user.username)
    support.goto(f"/support/orders/{order.pk}/")

    # Then they see it completed, the case closed by the lead, and the override in its history
    expect(support.get_by_test_id("order-status")).to_have_text("Completed")
    expect(support.get_by_test_id("exception-panel")).to_contain_text(
        f"No open case. Last case {case.pk}: Override: activated by hand by {lead_user.username}"
    )
    expect(support.get_by_test_id("events-panel")).to_contain_text(REASON)
    expect(support.get_by_test_id("billing-panel")).to_contain_text("Active")


def test_lead_cancels_an_undeliverable_static_ip_from_its_case_and_support_sees_a_partial_order(
    open_page, lead_user, support_user, place_order, plan, serviceable_area, settings
):
    # Given a line with a static IP and a router, whose static IP failed for want of addresses
    settings.NETWORK_SIMULATOR_RULES = [
        {"when": {}, "step": "allocate_address", "error": "ADDRESS_POOL_EXHAUSTED"}
    ]
    order = place_order(
        plan=plan,
        add_ons=(StaticIpOfferingFactory(name="Static IP"), RouterOfferingFactory(name="Router")),
        area=serviceable_area,
        email="addons@example.com",
    )
    case = ExceptionCase.objects.get(order=order)
    lead_user.is_staff = True
    lead_user.save(update_fields=["is_staff"])
    page = open_page()
    sign_in(page, lead_user.username)

    # When the lead opens the case and cancels the add-on without a reason
    page.goto(f"/admin/provisioning/exceptioncase/{case.pk}/change/")
    form = page.locator("#case-cancel-item")
    form.get_by_label("Item 2: Static IP").check()
    form.get_by_role("button", name="Cancel this add-on").click()

    # Then the reason is asked for next to its field, and nothing changed
    expect(page.locator(".field-reason .errorlist")).to_have_text("A reason is required.")
    assert ExceptionCase.objects.get(pk=case.pk).state == ExceptionCase.State.OPEN

    # When they give the reason
    page.get_by_label("Reason").fill("No static addresses left at this exchange.")
    page.get_by_role("button", name="Cancel this add-on").click()

    # Then the case page says the order goes on without it
    expect(page.locator(".messagelist")).to_contain_text(
        f"Order {order.display_id}: item 2 (Static IP) cancelled"
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIAL

    # When support opens the order
    support = open_page()
    sign_in(support, support_user.username)
    support.goto(f"/support/orders/{order.pk}/")

    # Then the plan shows the static IP cancelled and the rest delivered, and the products
    # are the line and the router only
    plan_panel = support.get_by_test_id("plan-panel")
    expect(plan_panel.get_by_test_id("plan-item-2").get_by_test_id("item-state")).to_have_text(
        "Cancelled"
    )
    expect(plan_panel.get_by_test_id("plan-item-3").get_by_test_id("item-state")).to_have_text(
        "Completed"
    )
    products = support.get_by_test_id("products-panel").get_by_test_id("product")
    expect(products).to_have_count(2)
    expect(support.get_by_test_id("products-panel")).not_to_contain_text("Static IP")
