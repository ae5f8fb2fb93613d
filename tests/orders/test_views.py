"""US-01 Sales order entry, through the sales pages."""

import html
import re
import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from orders import services, views
from orders.items import ItemsInvalid
from orders.models import Customer, Order, OrderEvent, OrderItem
from orders.states import ItemState, OrderStatus
from provisioning.models import ExceptionCase
from provisioning.services import exception_case_retry
from tests.factories import (
    CustomerFactory,
    PlanFactory,
    RouterOfferingFactory,
    ServiceAreaFactory,
    StaticIpOfferingFactory,
)

pytestmark = pytest.mark.django_db


def form_data(plan, **overrides):
    data = {
        "name": "Jane Doe",
        "email": "jane@example.com",
        "phone": "07700 900123",
        "address_line1": "1 High Street",
        "address_line2": "",
        "city": "London",
        "postcode": "sw1a 1aa",
        "plan": str(plan.pk),
        "requested_activation_date": "",
        "submission_token": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


@pytest.fixture
def sales_client(client, sales_user):
    client.force_login(sales_user)
    return client


def test_us01_missing_required_field_blocks_submission_and_names_it(
    sales_client, plan, serviceable_area
):
    # Given a required field is missing (and another is invalid)
    data = form_data(plan, phone="", email="not-an-email")
    # When the sales rep submits the order
    response = sales_client.post(reverse("orders:new"), data)
    # Then the system blocks submission and displays the missing fields
    assert response.status_code == 200
    assert Order.objects.count() == 0
    assert Customer.objects.count() == 0
    page = response.content.decode()
    assert "2 problems to fix" in page
    assert 'href="#field-phone">Phone: This field is required.' in page
    assert 'href="#field-email">E-mail: Enter a valid email address.' in page
    form = response.context["form"]
    assert set(form.errors) == {"phone", "email"}
    # ... next to the field, and what was typed is kept
    assert 'id="id_phone_error"' in page
    assert 'value="Jane Doe"' in page


def test_us01_every_required_field_is_named_when_the_form_is_empty(sales_client, plan):
    response = sales_client.post(reverse("orders:new"), {"submission_token": str(uuid.uuid4())})
    errors = response.context["form"].errors
    assert set(errors) == {"name", "email", "phone", "address_line1", "city", "postcode", "plan"}
    assert Order.objects.count() == 0


def test_us01_unserviceable_address_is_refused_at_the_postcode_field(sales_client, plan):
    response = sales_client.post(reverse("orders:new"), form_data(plan, postcode="ZZ9 9ZZ"))
    assert response.context["form"].errors["postcode"] == [
        "We don't offer service at this postcode yet."
    ]
    assert Order.objects.count() == 0


def test_us01_plan_faster_than_the_network_is_refused_at_the_plan_field(
    sales_client, plan_factory, slow_area
):
    gigabit = plan_factory(download_mbps=1000)
    response = sales_client.post(
        reverse("orders:new"), form_data(gigabit, postcode=slow_area.postcode)
    )
    assert "not available" in response.context["form"].errors["plan"][0]
    assert Order.objects.count() == 0


def test_us01_complete_submission_creates_one_order_and_shows_it(
    sales_client, plan, serviceable_area, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = sales_client.post(reverse("orders:new"), form_data(plan))
    order = Order.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("orders:detail", kwargs={"order_id": order.pk})
    page = sales_client.get(response.url).content.decode()
    assert order.display_id in page
    # US-03: eligible, so activated and billed with no manual step
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert order.submitted_by.username == "sales-user" or order.submitted_by is not None


def test_us01_double_submit_with_the_same_form_never_creates_a_second_order(
    sales_client, plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given one rendered form (one submission token)
    data = form_data(plan)
    # When it is posted twice (double click, or back button and re-post)
    with django_capture_on_commit_callbacks(execute=True):
        first = sales_client.post(reverse("orders:new"), data)
        second = sales_client.post(reverse("orders:new"), data)
    # Then there is one order and both answers lead to it
    order = Order.objects.get()
    assert first.url == second.url == reverse("orders:detail", kwargs={"order_id": order.pk})
    assert Customer.objects.count() == 1
    messages = [str(m) for m in second.wsgi_request._messages]
    assert any("already submitted" in m for m in messages)


def test_us01_same_customer_address_and_plan_still_open_is_flagged_not_duplicated(
    sales_client, plan, manual_area
):
    # An order that waits for manual provisioning stays open
    data = form_data(plan, postcode=manual_area.postcode)
    sales_client.post(reverse("orders:new"), data)
    again = form_data(plan, postcode=manual_area.postcode)  # a new form, same order
    response = sales_client.post(reverse("orders:new"), again)
    assert Order.objects.count() == 1
    existing = Order.objects.get()
    assert f"Order {existing.display_id}" in response.content.decode()
    assert "already open" in response.content.decode()


def test_us01_a_name_over_the_limit_is_refused_with_the_limit_not_cut(
    sales_client, plan, serviceable_area
):
    # Given the form, which says the limit beside the field and lets the browser send it all
    form_page = sales_client.get(reverse("orders:new")).content.decode()
    assert "Up to 120 characters." in form_page
    assert 'maxlength="120"' not in form_page

    # When a 5,000-character name is submitted
    response = sales_client.post(reverse("orders:new"), form_data(plan, name="N" * 5000))

    # Then nothing is taken, and the error beside the name gives the limit and the length
    assert Order.objects.count() == 0
    assert response.context["form"].errors["name"] == ["At most 120 characters: this has 5000."]
    assert 'id="id_name_error"' in response.content.decode()


def test_us01_existing_customer_is_found_by_email_or_phone_not_retyped(
    sales_client, plan, serviceable_area, manual_area
):
    sales_client.post(reverse("orders:new"), form_data(plan, postcode=manual_area.postcode))
    by_email = sales_client.get(reverse("orders:customer_lookup"), {"q": "JANE@example.com"})
    by_phone = sales_client.get(reverse("orders:customer_lookup"), {"q": "+44 7700-900123"})
    assert by_email.json()["match"] == "email"
    assert [c["name"] for c in by_email.json()["customers"]] == ["Jane Doe"]
    assert by_phone.json()["match"] == "phone"
    assert [c["email"] for c in by_phone.json()["customers"]] == ["jane@example.com"]
    assert sales_client.get(reverse("orders:customer_lookup"), {"q": "x@y.z"}).json() == {
        "found": False
    }
    # A second order with the same e-mail (different address) reuses the customer record
    sales_client.post(reverse("orders:new"), form_data(plan, address_line1="9 Other Road"))
    assert Customer.objects.count() == 1
    assert Order.objects.count() == 2


def test_us01_lookup_by_phone_offers_every_customer_sharing_the_number(sales_client, plan):
    # Given two people of one household with one phone number
    CustomerFactory(name="Jane Doe", email="jane@example.com", phone="07700900123")
    CustomerFactory(name="John Doe", email="john@example.com", phone="07700900123")
    # When the rep looks the number up
    found = sales_client.get(reverse("orders:customer_lookup"), {"q": "07700 900123"}).json()
    # Then both are offered to choose from, none picked for the rep
    assert found["match"] == "phone"
    assert [c["name"] for c in found["customers"]] == ["Jane Doe", "John Doe"]


def test_us01_phone_only_match_is_put_to_the_rep_next_to_the_phone(
    sales_client, plan, serviceable_area
):
    # Given a customer with this phone number, and an order typed for a new e-mail
    jane = CustomerFactory(name="Jane Doe", email="jane@example.com", phone="07700900123")
    data = form_data(plan, name="John Doe", email="john@example.com", phone="07700 900123")

    # When the rep submits
    response = sales_client.post(reverse("orders:new"), data)

    # Then nothing is taken yet: the form asks whether it is Jane's order, beside the phone
    page = response.content.decode()
    assert response.status_code == 200
    assert Order.objects.count() == 0
    assert 'href="#field-same_customer"' in page
    assert 'id="id_same_customer_error"' in page
    assert f'value="{jane.pk}"' in page and "Yes, for Jane Doe (jane@example.com" in page
    assert 'value="new"' in page


def test_us01_rep_confirms_the_same_customer_or_a_new_one(sales_client, plan, serviceable_area):
    jane = CustomerFactory(name="Jane Doe", email="jane@example.com", phone="07700900123")
    typed = {"name": "John Doe", "email": "john@example.com", "phone": "07700 900123"}

    # When the rep answers "a new customer"
    sales_client.post(reverse("orders:new"), form_data(plan, **typed, same_customer="new"))
    # Then the order is John's, a new customer with the details typed
    john_order = Order.objects.get()
    assert (john_order.customer.name, john_order.customer.email) == ("John Doe", "john@example.com")

    # When, for another order, the rep answers "yes, Jane"
    sales_client.post(
        reverse("orders:new"),
        form_data(
            plan,
            **{**typed, "email": "j.doe@example.com"},
            address_line1="2 High Street",
            same_customer=str(jane.pk),
        ),
    )
    # Then that order is Jane's
    assert jane.orders.count() == 1


def test_us01_address_is_checked_for_serviceability_before_submit(
    sales_client, plan_factory, slow_area
):
    slow = plan_factory(download_mbps=40)
    fast = plan_factory(download_mbps=1000)
    ok = sales_client.get(reverse("orders:serviceability"), {"postcode": slow_area.postcode})
    assert ok.json()["serviceable"] is True
    assert str(slow.pk) in ok.json()["plans"]
    assert str(fast.pk) not in ok.json()["plans"]
    nope = sales_client.get(reverse("orders:serviceability"), {"postcode": "ZZ9 9ZZ"})
    assert nope.json() == {
        "serviceable": False,
        "message": "We don't offer service at this postcode yet.",
        "plans": [],
        "add_ons": [],
    }


def test_sales_pages_require_the_sales_permission(client, support_user, customer_user):
    for user in (support_user, customer_user):
        client.force_login(user)
        assert client.get(reverse("orders:new")).status_code == 403
        assert client.get(reverse("orders:customer_lookup"), {"q": "a@b.c"}).status_code == 403


def test_sales_order_page_runs_a_bounded_number_of_queries(
    sales_client, submitted_order, django_assert_max_num_queries
):
    url = reverse("orders:detail", kwargs={"order_id": submitted_order.pk})
    sales_client.get(url)  # warm the session and permission caches
    # 13: with the milestones card (the milestones, the jeopardies, the point of no return)
    with django_assert_max_num_queries(13):
        sales_client.get(url)
    OrderEvent.objects.bulk_create(
        OrderEvent(order=submitted_order, kind=OrderEvent.Kind.NOTE, source="admin", reason=str(i))
        for i in range(200)
    )
    with django_assert_max_num_queries(13):
        response = sales_client.get(url)
    assert response.status_code == 200


# --- two first orders at the same moment --------------------------------------------------------
@pytest.fixture
def both_looked_up(monkeypatch):
    """Holds each of two concurrent submissions right after its first customer lookup until
    the other has made its own, so both decide on the customer before either commits. Only
    where two writers can be inside their transactions at once: SQLite's IMMEDIATE
    transactions queue the second writer before it reads, so there they run one by one."""
    if connection.vendor == "sqlite":
        return
    both = threading.Barrier(2, timeout=30)
    seen = threading.local()
    real_find = services.customer_find

    def find_then_wait(**kwargs):
        found = real_find(**kwargs)
        if not getattr(seen, "once", False):
            seen.once = True
            both.wait()
        return found

    monkeypatch.setattr(services, "customer_find", find_then_wait)


def _signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)
def test_us01_two_first_orders_for_one_new_email_at_once_are_both_taken(
    sales_user, plan, serviceable_area, run_in_threads, both_looked_up
):
    # Given two reps taking orders at once for one new customer: the same e-mail typed in
    # two spellings, two lines at two street addresses of one postcode
    gigabit = PlanFactory(download_mbps=900, name="Fibre 900")
    first = form_data(plan, email="Jane@Example.com", address_line1="1 High Street")
    second = form_data(gigabit, email="jane@example.com ", address_line1="2 High Street")
    reps = [_signed_in(sales_user), _signed_in(sales_user)]

    # When both submit at the same moment
    answers = run_in_threads(
        lambda: reps[0].post(reverse("orders:new"), first),
        lambda: reps[1].post(reverse("orders:new"), second),
    )

    # Then both orders are taken, for one customer (whoever committed first created it)
    assert [a.status_code for a in answers] == [302, 302]
    assert Customer.objects.count() == 1
    assert sorted(Order.objects.values_list("service_address_line1", flat=True)) == [
        "1 High Street",
        "2 High Street",
    ]


@pytest.mark.django_db(transaction=True)
def test_us01_the_same_order_twice_at_once_for_a_phone_matched_customer_is_one_order(
    sales_user, plan, manual_area, run_in_threads, both_looked_up
):
    # Given a customer found by phone, confirmed by two reps taking the same order at once
    jane = CustomerFactory(name="Jane Doe", email="jane@example.com", phone="07700900123")
    # (in an area of manual provisioning, so that the first order is still open)
    data = {
        "email": "j.doe@example.com",
        "phone": "07700 900123",
        "postcode": manual_area.postcode,
        "same_customer": str(jane.pk),
    }
    reps = [_signed_in(sales_user), _signed_in(sales_user)]

    # When both submit at the same moment (two forms: two submission tokens)
    answers = run_in_threads(
        lambda: reps[0].post(reverse("orders:new"), form_data(plan, **data)),
        lambda: reps[1].post(reverse("orders:new"), form_data(plan, **data)),
    )

    # Then one order is taken for her, and the other rep is shown it as already open
    assert sorted(a.status_code for a in answers) == [200, 302]
    [refused] = [a for a in answers if a.status_code == 200]
    order = Order.objects.get()
    assert order.customer_id == jane.pk
    assert f"Order {order.display_id}" in refused.content.decode()
    assert "already open" in refused.content.decode()
    assert Customer.objects.count() == 1


# --- add-ons ------------------------------------------------------------------------------------
@pytest.fixture
def static_ip(db):
    return StaticIpOfferingFactory(name="Static IP", monthly_price=Decimal("5.00"))


@pytest.fixture
def router(db):
    return RouterOfferingFactory(
        name="Fibre router", monthly_price=Decimal("3.00"), one_time_price=Decimal("49.00")
    )


def add_on_error(page: str, offering) -> str | None:
    """The error shown next to ``offering``'s checkbox, if any."""
    match = re.search(rf'<p class="field-error" id="add-on-{offering.pk}-error">([^<]*)</p>', page)
    return html.unescape(match.group(1)) if match else None


def test_the_address_check_offers_only_the_add_ons_that_suit_the_address(
    sales_client, plan_factory, slow_area, serviceable_area, static_ip, router
):
    # Given a static IP sold everywhere and a router for full fibre only
    # When the rep checks a copper address, then a full-fibre one
    copper = sales_client.get(reverse("orders:serviceability"), {"postcode": slow_area.postcode})
    fibre = sales_client.get(reverse("orders:serviceability"), {"postcode": "SW1A 1AA"})
    # Then the router is offered only where it works
    assert copper.json()["add_ons"] == [str(static_ip.pk)]
    assert fibre.json()["add_ons"] == [str(router.pk), str(static_ip.pk)]


def test_a_three_item_order_is_taken_with_its_prices_and_shown_with_its_totals(
    sales_client, plan, serviceable_area, static_ip, router, django_capture_on_commit_callbacks
):
    # Given the form with Fibre 500, a static IP and a router ticked
    data = form_data(plan, add_ons=[str(static_ip.pk), str(router.pk)])
    # When the rep submits it
    with django_capture_on_commit_callbacks(execute=True):
        response = sales_client.post(reverse("orders:new"), data)
    # Then one order holds the three items, each at its price, the add-ons on the line
    order = Order.objects.get()
    assert response.url == reverse("orders:detail", kwargs={"order_id": order.pk})
    items = list(order.items.order_by("position"))
    assert [(i.item_id, i.offering, i.recurring_price, i.one_time_price) for i in items] == [
        ("1", plan, Decimal("35.00"), Decimal("0.00")),
        ("2", router, Decimal("3.00"), Decimal("49.00")),
        ("3", static_ip, Decimal("5.00"), Decimal("0.00")),
    ]
    assert [i.parent_id for i in items] == [None, items[0].pk, items[0].pk]
    assert (order.monthly_price, order.one_time_price) == (Decimal("43.00"), Decimal("49.00"))
    # ... and the order page the rep lands on shows each item, its price, state and the totals
    page = sales_client.get(response.url)
    html_page = page.content.decode()
    rows = re.findall(r'<tr data-testid="order-item">(.*?)</tr>', html_page, re.S)
    assert [re.sub(r"\s+", " ", re.sub("<[^>]+>", " ", r)).strip() for r in rows] == [
        "Fibre 500 (500 Mbps) Completed 35.00 GBP 0.00 GBP",
        "Fibre router add-on Completed 3.00 GBP 49.00 GBP",
        "Static IP add-on Completed 5.00 GBP 0.00 GBP",
    ]
    assert 'data-testid="order-total-monthly">43.00 GBP<' in html_page
    assert 'data-testid="order-total-due-now">49.00 GBP<' in html_page
    assert set(order.items.values_list("state", flat=True)) == {ItemState.COMPLETED}


def test_add_ons_without_a_plan_are_refused_next_to_each_add_on_and_nothing_is_written(
    sales_client, serviceable_area, static_ip, router
):
    # Given a crafted POST: two add-ons and no plan
    data = form_data(PlanFactory(), add_ons=[str(static_ip.pk), str(router.pk)])
    del data["plan"]
    # When it is submitted
    response = sales_client.post(reverse("orders:new"), data)
    # Then each add-on is refused next to its checkbox, the plan is asked for
    page = response.content.decode()
    why = "An order needs an internet access item: add-ons are sold with a line."
    assert add_on_error(page, static_ip) == why
    assert add_on_error(page, router) == why
    assert response.context["form"].errors["plan"] == ["This field is required."]
    assert 'href="#field-add_ons">Add-ons: Static IP: An order needs' in page
    # ... and nothing is written
    assert (Order.objects.count(), Customer.objects.count(), OrderItem.objects.count()) == (0, 0, 0)


def test_an_add_on_that_does_not_suit_the_address_is_refused_next_to_it_alone(
    sales_client, plan_factory, slow_area, static_ip, router
):
    # Given a copper address, a plan it can deliver, a static IP and a full-fibre router
    basic = plan_factory(download_mbps=50)
    data = form_data(
        basic, postcode=slow_area.postcode, add_ons=[str(static_ip.pk), str(router.pk)]
    )
    # When the rep submits
    response = sales_client.post(reverse("orders:new"), data)
    # Then the router is refused next to it, the static IP is not, and every other field is fine
    page = response.content.decode()
    assert add_on_error(page, router) == (
        "Fibre router does not suit the network at this address (Fibre to the cabinet (FTTC))."
    )
    assert add_on_error(page, static_ip) is None
    assert set(response.context["form"].errors) == {"add_ons"}
    assert "1 problem to fix" in page
    # ... the choices stay ticked, and nothing is written
    assert re.search(rf'value="{static_ip.pk}"[^>]*checked', page)
    assert (Order.objects.count(), Customer.objects.count()) == (0, 0)


def test_a_refusal_of_items_at_submission_lands_next_to_the_add_on_it_names(
    sales_client, plan, serviceable_area, static_ip, router, monkeypatch
):
    # Given the catalogue changes between the form's check and the order's (the router is
    # withdrawn at that moment): order_submit refuses item 3 and, with it, the order
    def refuse(**kwargs):
        assert [a.pk for a in kwargs["add_ons"]] == [router.pk, static_ip.pk]
        raise ItemsInvalid({"3": "Static IP is no longer sold.", "order": "Try again."})

    monkeypatch.setattr(views, "order_submit", refuse)
    data = form_data(plan, add_ons=[str(static_ip.pk), str(router.pk)])
    # When the rep submits
    response = sales_client.post(reverse("orders:new"), data)
    # Then item 3 (the second add-on passed) carries its message, the rest goes above the form
    page = response.content.decode()
    assert add_on_error(page, static_ip) == "Static IP is no longer sold."
    assert add_on_error(page, router) is None
    assert response.context["form"].non_field_errors() == ["Try again."]


def test_update_prices_shows_the_totals_without_javascript_and_takes_nothing(
    sales_client, plan, serviceable_area, static_ip, router
):
    # Given a half-filled form (no phone yet) with a plan and a router ticked
    data = form_data(plan, phone="", add_ons=[str(router.pk)], review="1")
    # When the rep presses "Update prices"
    response = sales_client.post(reverse("orders:new"), data)
    # Then the same form comes back with the prices and totals of what is ticked...
    page = response.content.decode()
    assert 'data-testid="total-monthly">38.00 GBP<' in page
    assert 'data-testid="total-due-now">49.00 GBP<' in page
    assert "<td>Fibre router</td><td>3.00 GBP</td><td>49.00 GBP</td>" in page
    # ... what was typed and ticked is still there, no error is shown, nothing is taken
    assert 'value="Jane Doe"' in page
    assert re.search(rf'value="{router.pk}"[^>]*checked', page)
    assert 'id="error-summary"' not in page
    assert data["submission_token"] in page
    assert Order.objects.count() == 0


def test_the_form_page_prices_a_redisplayed_form(sales_client, plan, serviceable_area, router):
    # Given a form refused for another field, with a plan and a router ticked
    data = form_data(plan, email="nope", add_ons=[str(router.pk)])
    # When it comes back with its error
    page = sales_client.post(reverse("orders:new"), data).content.decode()
    # Then the totals are those of what is ticked
    assert 'data-testid="total-monthly">38.00 GBP<' in page
    assert 'data-testid="total-due-now">49.00 GBP<' in page


def test_item_states_reach_the_reps_open_order_page_on_its_next_poll(
    sales_client, plan, static_ip, lead_user, settings, django_capture_on_commit_callbacks
):
    # Given an order whose static IP could not be set up (the exchange's pool is empty), open
    # on the rep's order page
    pool = ServiceAreaFactory(postcode="PH1 1AA", exchange="Poolham")
    with django_capture_on_commit_callbacks(execute=True):
        sales_client.post(
            reverse("orders:new"),
            form_data(plan, postcode=pool.postcode, add_ons=[str(static_ip.pk)]),
        )
    order = Order.objects.get()
    page = sales_client.get(reverse("orders:detail", kwargs={"order_id": order.pk}))
    assert "Held (a task failed)" in page.content.decode()
    version = page.context["live_version"]
    # When the pool has addresses again and the lead retries the case
    settings.NETWORK_SIMULATOR_RULES = []
    with django_capture_on_commit_callbacks(execute=True):
        exception_case_retry(ExceptionCase.objects.get(order=order), acting_user=lead_user)
    # Then the page's next poll brings both items completed
    live = sales_client.get(
        reverse("orders:live", kwargs={"order_id": order.pk}), {"since": version}
    )
    assert live.status_code == 200
    rows = re.findall(r'<tr data-testid="order-item">(.*?)</tr>', live.content.decode(), re.S)
    assert ["Completed" in row for row in rows] == [True, True]
