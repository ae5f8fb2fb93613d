"""US-01 and US-03 in a real browser: the sales rep's guided order form."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from billing.models import BillingAccount
from orders.models import Customer, Order
from orders.states import ItemState, OrderStatus
from provisioning.models import ExceptionCase, FulfilmentTask, TaskState
from provisioning.services import exception_case_retry
from tests.browser.conftest import sign_in
from tests.factories import CustomerFactory, RouterOfferingFactory, StaticIpOfferingFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_customer(page, *, name: str, email: str, phone: str) -> None:
    page.get_by_label("Customer name", exact=True).fill(name)
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Phone", exact=True).fill(phone)


def fill_address(page, *, line1: str, city: str, postcode: str) -> None:
    page.get_by_label("Service address", exact=True).fill(line1)
    page.get_by_label("Town or city", exact=True).fill(city)
    page.get_by_label("Postcode", exact=True).fill(postcode)


def test_us01_missing_phone_and_bad_email_block_submission_and_are_named(
    page, sales_user, plan, serviceable_area
):
    # Given a sales rep on the order form, with the phone left empty and a broken e-mail
    sign_in(page, sales_user.username)
    expect(page).to_have_url(re.compile(r"/work/sales/$"))
    page.get_by_role("main").get_by_role("link", name="New order").click()
    expect(page).to_have_url(re.compile(r"/sales/orders/new/$"))
    fill_customer(page, name="Jane Doe", email="jane.example.com", phone="")
    fill_address(page, line1="1 High Street", city="London", postcode="sw1a 1aa")
    page.get_by_label(str(plan)).check()

    # When the rep submits the order
    page.get_by_role("button", name="Submit order").click()

    # Then the submission is blocked: a summary names each problem and links to its field
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("2 problems to fix")
    expect(summary.get_by_role("link", name="Phone: This field is required.")).to_have_attribute(
        "href", "#field-phone"
    )
    expect(summary.get_by_role("link", name="E-mail: Enter a valid email address.")).to_be_visible()
    # ... the summary has the focus, so a screen reader reads it out first
    expect(summary).to_be_focused()
    # ... the error also stands next to the phone field
    expect(page.locator("#field-phone .field-error")).to_have_text("This field is required.")
    expect(page.locator("#field-email .field-error")).to_have_text("Enter a valid email address.")
    # ... what the rep typed is still there
    expect(page.get_by_label("Customer name", exact=True)).to_have_value("Jane Doe")
    expect(page.get_by_label("E-mail", exact=True)).to_have_value("jane.example.com")
    expect(page.get_by_label("Service address", exact=True)).to_have_value("1 High Street")
    expect(page.get_by_label("Postcode", exact=True)).to_have_value("sw1a 1aa")
    expect(page.get_by_label(str(plan))).to_be_checked()
    # ... and nothing was created
    assert Order.objects.count() == 0
    assert Customer.objects.count() == 0


def test_us01_us03_complete_order_checks_address_then_activates_and_bills_by_itself(
    page, sales_user, plan, plan_factory, serviceable_area, slow_area
):
    # Given a sales rep on the order form, a 50 Mbps plan besides Fibre 500, and a second
    # address whose network delivers only 80 Mbps
    basic = plan_factory(download_mbps=50, price="22.00")
    sign_in(page, sales_user.username)
    page.get_by_role("main").get_by_role("link", name="New order").click()
    fill_customer(page, name="Jane Doe", email="jane@example.com", phone="07700 900123")
    fill_address(page, line1="1 High Street", city="London", postcode="ls1 4ap")
    result = page.locator("#serviceability-result")

    # When the rep checks the slow address
    page.get_by_role("button", name="Check address").click()

    # Then it is serviceable, but Fibre 500 cannot be picked there
    expect(result).to_have_text("Serviceable: Fibre to the cabinet (FTTC), up to 50 Mbps.")
    expect(page.get_by_label(str(plan))).to_be_disabled()
    expect(page.get_by_label(str(basic))).to_be_enabled()

    # When the rep corrects the postcode to the full-fibre address and checks again
    page.get_by_label("Postcode", exact=True).fill("SW1A 1AA")
    page.get_by_role("button", name="Check address").click()

    # Then every plan is available
    expect(result).to_have_text("Serviceable: Full fibre (FTTP), up to 500 Mbps.")
    expect(page.get_by_label(str(plan))).to_be_enabled()

    # When the rep picks Fibre 500 and (impatiently) double-clicks Submit
    page.get_by_label(str(plan)).check()
    page.get_by_role("button", name="Submit order").dblclick()

    # Then the rep lands on the order page showing its ID...
    expect(page).to_have_url(re.compile(r"/sales/orders/[0-9A-Z]{10}/$"), timeout=15_000)
    order = Order.objects.get()
    expect(page.get_by_test_id("order-id")).to_have_text(order.display_id)
    # ... and the order reaches Completed (activated, then billed) with nobody acting on it
    expect(page.get_by_test_id("order-status")).to_have_text("Completed")
    expect(page.locator(".timeline")).to_contain_text("Activated → Completed")
    # ... exactly once, whatever the double click sent
    assert Order.objects.count() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    account = BillingAccount.objects.get(order=order)
    assert (account.plan, account.monthly_price) == (plan, plan.monthly_price)


def test_us01_the_same_form_sent_twice_at_once_makes_one_order(
    page, live_server, sales_user, plan, serviceable_area
):
    # Given a complete order form
    sign_in(page, sales_user.username)
    page.get_by_role("main").get_by_role("link", name="New order").click()
    fill_customer(page, name="Jane Doe", email="jane@example.com", phone="07700 900123")
    fill_address(page, line1="1 High Street", city="London", postcode="SW1A 1AA")
    page.get_by_label(str(plan)).check()

    # When the browser sends it twice at the same moment (what a double submit through a
    # slow network looks like to the server: two requests in flight with one form token)
    landed = page.evaluate(
        """async () => {
            const form = document.getElementById("order-form");
            const send = () => fetch(form.action || location.href, {
                method: "POST", body: new FormData(form), credentials: "same-origin"
            }).then((r) => r.url);
            return Promise.all([send(), send()]);
        }"""
    )

    # Then both requests end on the page of one and the same order
    order = Order.objects.get()
    assert landed == [f"{live_server.url}/sales/orders/{order.pk}/"] * 2
    page.goto(landed[0])
    expect(page.get_by_test_id("order-id")).to_have_text(order.display_id)


def test_the_rep_can_quote_every_plan_before_submitting(page, sales_user, plan, plan_factory):
    # Given a 50 Mbps plan at 22.00 GBP besides Fibre 500 at 35.00 GBP
    basic = plan_factory(download_mbps=50, price="22.00")
    # When the sales rep opens the order form
    sign_in(page, sales_user.username)
    page.goto("/sales/orders/new/")
    # Then each plan shows its monthly price, and what is due today, beside its choice
    expect(page.get_by_label(str(plan))).to_be_visible()
    plan_choice = page.locator("label", has=page.get_by_label(str(plan)))
    expect(plan_choice).to_contain_text("35.00 GBP a month")
    expect(plan_choice).to_contain_text("nothing due today")
    basic_choice = page.locator("label", has=page.get_by_label(str(basic)))
    expect(basic_choice).to_contain_text("22.00 GBP a month")
    expect(page.locator("#field-plan")).to_contain_text("first bill covers only the days left")


def test_us01_a_phone_only_match_is_confirmed_by_the_rep_with_the_keyboard(
    page, sales_user, plan, manual_area
):
    # Given Jane, a customer, and her partner John ordering with the same phone number
    jane = CustomerFactory(name="Jane Doe", email="jane@example.com", phone="07700900123")
    sign_in(page, sales_user.username)
    page.get_by_role("main").get_by_role("link", name="New order").click()

    # When the rep looks the number up
    page.get_by_label("Existing customer? Find by e-mail or phone").fill("07700 900123")
    page.get_by_role("button", name="Find").click()
    # Then Jane is offered, not filled in
    expect(page.get_by_role("button", name=re.compile(r"^Use Jane Doe"))).to_be_visible()
    expect(page.get_by_label("Customer name", exact=True)).to_have_value("")

    # When the rep types John's own details instead and submits
    fill_customer(page, name="John Doe", email="john@example.com", phone="07700 900123")
    fill_address(page, line1="1 Loch Road", city="Inverness", postcode=manual_area.postcode)
    page.get_by_label(str(plan)).check()
    page.get_by_role("button", name="Submit order").click()

    # Then the form asks, beside the phone, whether the order is Jane's; nothing is taken yet
    question = page.locator("#field-same_customer")
    expect(question.locator(".field-error")).to_contain_text("belongs to an existing customer")
    expect(page.locator("#error-summary a[href='#field-same_customer']")).to_be_visible()
    assert Order.objects.count() == 0

    # When the rep answers "a new customer" with the keyboard alone and submits
    question.get_by_role("radio", name=re.compile(r"Yes, for Jane Doe")).focus()
    page.keyboard.press("ArrowDown")
    expect(question.get_by_role("radio", name=re.compile(r"No, a new customer"))).to_be_checked()
    page.keyboard.press("Enter")

    # Then the order is John's, a new customer, and Jane has none
    expect(page).to_have_url(re.compile(r"/sales/orders/[0-9A-Z]{10}/$"))
    order = Order.objects.get()
    assert (order.customer.name, order.customer.email) == ("John Doe", "john@example.com")
    assert not jane.orders.exists()


# --- a 3-item order: line, static IP, router ----------------------------------------------------
def expect_totals(page: Page, *, monthly: str, due_now: str) -> None:
    prices = page.locator("#price-summary")
    expect(prices.get_by_test_id("total-monthly")).to_have_text(f"{monthly} GBP")
    expect(prices.get_by_test_id("total-due-now")).to_have_text(f"{due_now} GBP")


def task_states(order: Order) -> dict[str, str]:
    return dict(FulfilmentTask.objects.filter(order=order).values_list("key", "state"))


# How the support page's plan section starts each task's state (templates/includes/
# fulfilment_plan.html).
TASK_STATE_TEXT = {
    TaskState.DONE: "Done",
    TaskState.RUNNING: "Running",
    TaskState.WAITING: "Waiting on",
    TaskState.READY: "Ready",
    TaskState.FAILED: "Failed",
    TaskState.CANCELLED: "Cancelled",
}


def expect_support_view_shows_plan(
    page: Page, order: Order, *, status: str, items: dict[str, str], tasks: dict[str, str]
) -> None:
    """What the support order page (open in ``page``) shows of the order's fulfilment plan:
    the order's status, each item's state (``items``: item id -> ItemState) and each task's
    (``tasks``: task key -> TaskState), read from the page's plan section. Waits for the page's
    live updates."""
    expect(page.get_by_test_id("order-status")).to_have_text(status)
    plan = page.get_by_test_id("fulfilment-plan")
    for item_id, state in items.items():
        expect(
            plan.get_by_test_id(f"plan-item-{item_id}").get_by_test_id("item-state")
        ).to_have_text(ItemState(state).label)
    for key, state in tasks.items():
        expect(plan.get_by_test_id(f"task-{key}").get_by_test_id("task-state")).to_contain_text(
            re.compile(r"^\s*" + re.escape(TASK_STATE_TEXT[TaskState(state)]))
        )
    assert task_states(order) == tasks


def test_a_rep_builds_a_three_item_order_with_its_totals_and_support_sees_the_plan_progress(
    open_page, settings, sales_user, support_user, lead_user, plan, serviceable_area
):
    # Given a line, a static IP and a router on sale, and a router management system that
    # rejects the router's first registration at this exchange (so the plan stops halfway)
    static_ip = StaticIpOfferingFactory(name="Static IP", monthly_price=Decimal("5.00"))
    router = RouterOfferingFactory(
        name="Fibre router", monthly_price=Decimal("3.00"), one_time_price=Decimal("49.00")
    )
    settings.NETWORK_SIMULATOR_RULES = [
        {
            "when": {"exchange": serviceable_area.exchange},
            "step": "register_cpe",
            "error": "CPE_REJECTED",
            "transient": False,
            "fail_attempts": 1,
        }
    ]
    rep = open_page()
    sign_in(rep, sales_user.username)
    rep.get_by_role("main").get_by_role("link", name="New order").click()
    fill_customer(rep, name="Jane Doe", email="jane@example.com", phone="07700 900123")
    fill_address(rep, line1="1 High Street", city="London", postcode="SW1A 1AA")
    rep.get_by_role("button", name="Check address").click()
    expect(rep.locator("#serviceability-result")).to_contain_text("Full fibre (FTTP)")

    # Then each add-on shows its monthly price and one-time charge, and nothing is due yet
    expect(rep.get_by_label(re.compile(r"Static IP · 5\.00 GBP a month"))).to_be_enabled()
    router_choice = rep.get_by_label(re.compile(r"Fibre router · "))
    expect(router_choice).to_be_enabled()
    expect(rep.locator("label", has=router_choice)).to_have_text(
        "Fibre router · 3.00 GBP a month · 49.00 GBP due now"
    )
    expect_totals(rep, monthly="0.00", due_now="0.00")
    # ... the totals need no round trip: there is no "Update prices" button to press
    expect(rep.get_by_role("button", name="Update prices")).to_be_hidden()

    # When the rep picks the plan, then ticks each add-on, the totals follow every tick
    rep.get_by_label(str(plan)).check()
    expect_totals(rep, monthly="35.00", due_now="0.00")
    rep.get_by_label(re.compile(r"Static IP · ")).check()
    expect_totals(rep, monthly="40.00", due_now="0.00")
    router_choice.check()
    expect_totals(rep, monthly="43.00", due_now="49.00")
    # ... and so does each item's line in the price table
    lines = rep.locator("#price-lines tr")
    expect(lines).to_have_text(
        [
            "Fibre 500 (500 Mbps)35.00 GBP0.00 GBP",
            "Fibre router3.00 GBP49.00 GBP",
            "Static IP5.00 GBP0.00 GBP",
        ]
    )
    # ... unticking takes its price off again
    router_choice.uncheck()
    expect_totals(rep, monthly="40.00", due_now="0.00")
    router_choice.check()
    expect_totals(rep, monthly="43.00", due_now="49.00")

    # When the rep submits
    rep.get_by_role("button", name="Submit order").click()

    # Then the rep's order page shows the three items with their prices, and the totals
    expect(rep).to_have_url(re.compile(r"/sales/orders/[0-9A-Z]{10}/$"))
    order = Order.objects.get()
    rows = rep.get_by_test_id("order-item")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Fibre 500 (500 Mbps)")
    expect(rows.nth(1)).to_contain_text("Fibre router")
    expect(rows.nth(1)).to_contain_text("49.00 GBP")
    expect(rows.nth(2)).to_contain_text("Static IP")
    expect(rep.get_by_test_id("order-total-monthly")).to_have_text("43.00 GBP")
    expect(rep.get_by_test_id("order-total-due-now")).to_have_text("49.00 GBP")
    assert [(i.item_id, i.offering_id) for i in order.items.order_by("position")] == [
        ("1", plan.pk),
        ("2", router.pk),
        ("3", static_ip.pk),
    ]

    # When support opens the order: the plan stopped at the router's registration
    agent = open_page()
    sign_in(agent, support_user.username)
    agent.goto(f"/support/orders/{order.pk}/")
    # Then the page shows the router held, the line waiting on it, the static IP bound (its
    # item in progress until the line is live)
    expect_support_view_shows_plan(
        agent,
        order,
        status="Exception",
        items={"1": ItemState.IN_PROGRESS, "2": ItemState.HELD, "3": ItemState.IN_PROGRESS},
        tasks={
            "1.reserve_port": TaskState.DONE,
            "1.create_subscriber": TaskState.DONE,
            "1.apply_speed_profile": TaskState.DONE,
            "1.activate_line": TaskState.WAITING,
            "2.register_cpe": TaskState.FAILED,
            "3.allocate_address": TaskState.DONE,
            "3.bind_address": TaskState.DONE,
        },
    )

    # When the lead retries the case (the router registers at the second attempt)
    exception_case_retry(ExceptionCase.objects.get(order=order), acting_user=lead_user)

    # Then the open support page moves on by itself: every item and task done, the order
    # completed
    expect_support_view_shows_plan(
        agent,
        order,
        status="Completed",
        items={"1": ItemState.COMPLETED, "2": ItemState.COMPLETED, "3": ItemState.COMPLETED},
        tasks={key: TaskState.DONE for key in task_states(order)},
    )
    assert task_states(order)["2.register_cpe"] == TaskState.DONE
