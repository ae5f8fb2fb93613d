"""US-02 Customer order tracking, and each role's landing page."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from orders.fulfilment import TaskType
from orders.models import OrderEvent
from orders.services import order_confirm_manual_activation
from orders.states import CUSTOMER_ITEM_LABEL, EventSource, ItemState, OrderStatus
from provisioning.models import ExceptionCase, FulfilmentTask, TaskState
from provisioning.services import exception_case_retry
from tests.factories import RouterOfferingFactory, ServiceAreaFactory, StaticIpOfferingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_client(client, customer_user):
    client.force_login(customer_user)
    return client


def live(client, order, since):
    url = reverse("portal:order_live", kwargs={"order_id": order.pk})
    return client.get(url, {"since": since})


def test_us02_customer_sees_own_orders_with_friendly_status_and_estimated_date(
    customer_client, customer_manual_order
):
    response = customer_client.get(reverse("portal:my_orders"))
    page = response.content.decode()
    assert customer_manual_order.display_id in page
    assert "Being set up by our team" in page
    assert "Estimated activation" in page
    detail = customer_client.get(
        reverse("portal:order_detail", kwargs={"order_id": customer_manual_order.pk})
    )
    assert "We received your order." in detail.content.decode()
    assert detail.context["estimated_activation"] is not None


def test_us02_status_change_reaches_the_open_page_on_its_next_poll(
    customer_client, customer_manual_order, lead_user, django_capture_on_commit_callbacks
):
    # Given the customer's page is open at the current version
    page = customer_client.get(
        reverse("portal:order_detail", kwargs={"order_id": customer_manual_order.pk})
    )
    version = page.context["live_version"]
    assert live(customer_client, customer_manual_order, version).status_code == 204
    # When provisioning records a lifecycle event
    with django_capture_on_commit_callbacks(execute=True):
        order_confirm_manual_activation(
            customer_manual_order,
            actor=lead_user,
            reason="Technician activated the line.",
            source=EventSource.ADMIN,
        )
    # Then the page's next poll (every 2 s, well within 60 s) gets the new customer status
    update = live(customer_client, customer_manual_order, version)
    assert update.status_code == 200
    assert int(update["X-Live-Version"]) > version
    html = update.content.decode()
    assert "Active" in html
    assert "Your internet service is live." in html
    assert "Technician activated" not in html  # internal reasons stay internal


def test_us02_customer_page_never_shows_internal_reason_codes(client, failed_order):
    client.force_login(failed_order.customer.user)
    detail = client.get(reverse("portal:order_detail", kwargs={"order_id": failed_order.pk}))
    html = detail.content.decode()
    assert "Delayed: our team is on it" in html
    assert "PORT_UNAVAILABLE" not in html
    assert "exchange" not in html.lower()


def test_customer_cannot_open_another_customers_order(customer_client, failed_order):
    # failed_order belongs to a different customer: missing and forbidden look the same
    for name in ("portal:order_detail", "portal:order_live"):
        response = customer_client.get(reverse(name, kwargs={"order_id": failed_order.pk}))
        assert response.status_code == 404
    mine = customer_client.get(reverse("portal:my_orders")).content.decode()
    assert failed_order.display_id not in mine


def test_customer_cannot_open_staff_pages(customer_client, customer_manual_order):
    pk = customer_manual_order.pk
    assert customer_client.get(reverse("orders:detail", kwargs={"order_id": pk})).status_code == 403
    assert customer_client.get(reverse("support:order", kwargs={"order_id": pk})).status_code == 403


def test_customer_tracking_page_runs_a_bounded_number_of_queries(
    customer_client, customer_manual_order, django_assert_max_num_queries
):
    url = reverse("portal:order_detail", kwargs={"order_id": customer_manual_order.pk})
    customer_client.get(url)
    OrderEvent.objects.bulk_create(
        OrderEvent(
            order=customer_manual_order,
            kind=OrderEvent.Kind.STATUS_CHANGED,
            from_status="submitted",
            to_status="awaiting_manual",
            source="admin",
        )
        for _ in range(200)
    )
    # 12: the cancel card reads the order's scheduled cancellation (one row, by its index),
    # and one for the messages sent about it
    with django_assert_max_num_queries(12):
        response = customer_client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("user_fixture", "landing"),
    [
        ("sales_user", "portal:sales_home"),
        ("provisioning_user", "portal:provisioning_home"),
        ("lead_user", "portal:lead_home"),
        ("billing_user", "portal:billing_home"),
        ("support_user", "support:search"),
        ("customer_user", "portal:my_orders"),
    ],
)
def test_each_role_lands_on_its_own_page_after_sign_in(client, request, user_fixture, landing):
    client.force_login(request.getfixturevalue(user_fixture))
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response.url == reverse(landing)


def test_anonymous_visitors_are_sent_to_sign_in(client, customer_manual_order):
    for url in (
        reverse("portal:home"),
        reverse("portal:order_detail", kwargs={"order_id": customer_manual_order.pk}),
        reverse("orders:new"),
        reverse("support:search"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


# --- items in customer words --------------------------------------------------------------------
@pytest.fixture
def held_three_item_order(place_order, plan, customer_user):
    """customer_user's line + static IP + router where the static address pool is empty: the
    static IP's task failed, so the order is held with its items in different states."""
    poolham = ServiceAreaFactory(postcode="PH1 1AA", exchange="Poolham")
    return place_order(
        plan=plan,
        area=poolham,
        email="three@example.com",
        customer_user=customer_user,
        add_ons=(
            StaticIpOfferingFactory(monthly_price=Decimal("5.00")),
            RouterOfferingFactory(monthly_price=Decimal("3.00"), one_time_price=Decimal("49.00")),
        ),
    )


def customer_items(page: str) -> list[str]:
    rows = re.findall(r'<li data-testid="customer-item">(.*?)</li>', page, re.S)
    return [re.sub(r"\s+", " ", re.sub("<[^>]+>", "", row)).strip() for row in rows]


INTERNAL_WORDS = [
    *TaskType.values,
    *[t.label for t in TaskType],
    "ADDRESS_POOL_EXHAUSTED",
    "Poolham",
    "held",
    "in_progress",
    "Item 2",
    "reliesOn",
]


def test_the_customer_sees_each_item_in_customer_words_with_its_price(
    customer_client, held_three_item_order
):
    # Given the customer's order, held because its static IP could not be set up yet
    order = held_three_item_order
    assert order.status == OrderStatus.EXCEPTION
    states = dict(order.items.values_list("item_id", "state"))
    assert states["2"] == ItemState.HELD
    # When the customer opens it
    response = customer_client.get(reverse("portal:order_detail", kwargs={"order_id": order.pk}))
    page = response.content.decode()
    # Then each item reads "<what it is>: <how far it is>" with its price
    label = {state: CUSTOMER_ITEM_LABEL[ItemState(state)] for state in states.values()}
    assert customer_items(page) == [
        f"Internet line: {label[states['1']]} · 35.00 GBP a month",
        "Static IP: delayed, our team is on it · 5.00 GBP a month",
        f"Router: {label[states['3']]} · 3.00 GBP a month · 49.00 GBP one-time",
    ]
    assert "43.00 GBP a month · 49.00 GBP one-time, on your first bill" in page
    # ... and never a task name, an internal state or a reason code
    for word in INTERNAL_WORDS:
        assert word not in page, word


def test_item_states_reach_the_open_customer_page_on_its_next_poll(
    customer_client, held_three_item_order, lead_user, settings, django_capture_on_commit_callbacks
):
    # Given the customer's page open on the held order
    order = held_three_item_order
    page = customer_client.get(reverse("portal:order_detail", kwargs={"order_id": order.pk}))
    version = page.context["live_version"]
    # When the pool has addresses again and the lead retries the case
    settings.NETWORK_SIMULATOR_RULES = []
    with django_capture_on_commit_callbacks(execute=True):
        exception_case_retry(ExceptionCase.objects.get(order=order), acting_user=lead_user)
    tasks = FulfilmentTask.objects.filter(order=order)
    assert set(tasks.values_list("state", flat=True)) == {TaskState.DONE}
    # Then the next poll shows every item ready, in customer words
    update = live(customer_client, order, version)
    assert update.status_code == 200
    html = update.content.decode()
    assert customer_items(html) == [
        "Internet line: ready · 35.00 GBP a month",
        "Static IP: ready · 5.00 GBP a month",
        "Router: ready · 3.00 GBP a month · 49.00 GBP one-time",
    ]
    for word in INTERNAL_WORDS:
        assert word not in html, word
