"""The customer changes their own order from their order page ("Change my order",
orders/views_amend.py): plan, add-ons and date, until the line is being switched on."""

import html

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OrderEvent
from orders.roles import Role
from orders.services import customer_link_user
from orders.states import EventSource
from provisioning.models import FulfilmentTask, TaskState
from provisioning.services import fulfilment_start
from tests.factories import PlanFactory, RouterOfferingFactory, UserFactory, submit_order
from tests.provisioning.running import run_ready

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_order(plan, serviceable_area, customer_user):
    """customer_user's order just taken: nothing done on the network yet."""
    order = submit_order(plan=plan, area=serviceable_area).order
    customer_link_user(order.customer_id, customer_user)
    return Order.objects.get(pk=order.pk)


def text(response):
    return html.unescape(response.content.decode())


def amend_url(order):
    return reverse("portal:order_amend", kwargs={"order_id": order.pk})


def test_a_customer_upgrades_their_plan_and_adds_a_router(client, customer_user, own_order):
    gigabit = PlanFactory(code="fibre-900", name="Fibre 900", download_mbps=900)
    router = RouterOfferingFactory()
    client.force_login(customer_user)
    # Given their order page offers to change it
    page = text(client.get(reverse("portal:order_detail", kwargs={"order_id": own_order.pk})))
    assert "Change my order" in page
    assert 'data-testid="current-monthly">35.00 GBP<' in text(client.get(amend_url(own_order)))

    # When they choose Fibre 900 with the router
    response = client.post(
        amend_url(own_order),
        {"plan": gigabit.pk, "add_ons": [router.pk], "expected_version": own_order.version},
        follow=True,
    )

    # Then their order page says so, with the new monthly price
    page = text(response)
    assert f"Your order {own_order.display_id} is changed." in page
    assert f"{gigabit.monthly_price + router.monthly_price} GBP a month" in page
    event = OrderEvent.objects.get(order=own_order, kind=OrderEvent.Kind.ORDER_EDITED)
    assert event.source == EventSource.CUSTOMER_PORTAL


def test_once_the_line_is_being_switched_on_the_customer_is_told_in_plain_words(
    client, customer_user, own_order
):
    order = own_order
    fulfilment_start(order.pk)
    run_ready(order, until="1.activate_line")
    # Given the line's activation (the point of no return) has started
    FulfilmentTask.objects.filter(order=order, key="1.activate_line").update(
        state=TaskState.RUNNING, started_at=timezone.now()
    )
    client.force_login(customer_user)

    page = text(client.get(reverse("portal:order_detail", kwargs={"order_id": order.pk})))
    assert (
        "This order can no longer be changed online. We have started switching your line on."
        in (page)
    )
    response = client.post(
        amend_url(order), {"plan": order.plan_id, "expected_version": order.version}
    )
    page = text(response)
    assert "This order can no longer be changed online." in page
    assert "activate_line" not in page  # never the internal task name


def test_someone_elses_order_is_not_found(client, own_order):
    # Given another customer signed in
    other = UserFactory(username="other-cust", role=Role.CUSTOMER)
    client.force_login(other)
    # Then the order is not found for them, to read or to change
    assert client.get(amend_url(own_order)).status_code == 404
    assert client.post(amend_url(own_order), {"plan": own_order.plan_id}).status_code == 404


def test_a_customer_moves_their_activation_date_and_a_past_one_is_refused_next_to_it(
    client, customer_user, own_order
):
    import datetime

    client.force_login(customer_user)
    later = timezone.localdate() + datetime.timedelta(days=14)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    data = {"plan": own_order.plan_id, "expected_version": own_order.version}

    # When they ask for a day in the past, it is refused next to the date
    page = text(client.post(amend_url(own_order), {**data, "requested_activation_date": yesterday}))
    assert 'id="id_requested_activation_date_error"' in page
    assert "cannot be in the past" in page

    # When they ask for a later day, their order waits for it
    response = client.post(
        amend_url(own_order), {**data, "requested_activation_date": later}, follow=True
    )
    assert f"Your order {own_order.display_id} is changed." in text(response)
    own_order.refresh_from_db()
    assert own_order.requested_activation_date == later
