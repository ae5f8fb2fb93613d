"""The customer cancels their own order from their order page (self-service, portal.views)."""

import datetime
import html

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.add_ons import order_submit_add_ons
from orders.models import Order
from orders.services import customer_link_user
from orders.states import EventSource, OrderStatus
from orders.views_cancel import CUSTOMER_DEFAULT_REASON
from provisioning.models import FulfilmentTask, TaskState
from provisioning.services import fulfilment_start
from tests.factories import StaticIpOfferingFactory, submit_order
from tests.provisioning.running import run_ready

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_client(client, customer_user):
    client.force_login(customer_user)
    return client


@pytest.fixture
def scheduled_order(place_order, plan, serviceable_area, customer_user):
    """customer_user's order, held until the date they asked for."""
    order = place_order(
        plan=plan,
        area=serviceable_area,
        email="later@example.com",
        customer_user=customer_user,
        requested=timezone.localdate() + datetime.timedelta(days=30),
    )
    assert order.status == OrderStatus.SCHEDULED
    return order


def detail(client, order):
    response = client.get(reverse("portal:order_detail", kwargs={"order_id": order.pk}))
    return html.unescape(response.content.decode())


def cancel(client, order, **data):
    url = reverse("portal:order_cancel", kwargs={"order_id": order.pk})
    return client.post(url, data, follow=True)


def test_a_customer_cancels_their_scheduled_order_without_giving_a_reason(
    customer_client, customer_user, scheduled_order
):
    # Given the customer on the page of their scheduled order, which offers to cancel it
    page = detail(customer_client, scheduled_order)
    assert "Cancel this order" in page
    # When they cancel it, saying nothing more
    response = cancel(customer_client, scheduled_order, expected_status=OrderStatus.SCHEDULED)
    # Then they are back on their order page, which says it is cancelled
    assert response.redirect_chain[-1][0] == reverse(
        "portal:order_detail", kwargs={"order_id": scheduled_order.pk}
    )
    page = html.unescape(response.content.decode())
    assert f"Your order {scheduled_order.display_id} is cancelled." in page
    assert 'data-testid="order-status">Cancelled<' in page
    assert "Your order was cancelled." in page  # the timeline, in their words
    assert "Cancel this order" not in page
    # ... and the history records them, from the customer portal, with the default reason
    scheduled_order.refresh_from_db()
    assert scheduled_order.status == OrderStatus.CANCELLED
    event = scheduled_order.events.get(to_status=OrderStatus.CANCELLED)
    assert (event.actor, event.source, event.reason) == (
        customer_user,
        EventSource.CUSTOMER_PORTAL,
        CUSTOMER_DEFAULT_REASON,
    )


def test_the_reason_a_customer_gives_is_recorded(customer_client, scheduled_order):
    cancel(customer_client, scheduled_order, reason="Found a cheaper offer.")
    event = scheduled_order.events.get(to_status=OrderStatus.CANCELLED)
    assert event.reason == "Found a cheaper offer."


def test_another_customers_order_is_not_found_and_not_cancelled(
    client, failed_order, customer_user
):
    # Given a customer signed in, and an order of someone else's
    client.force_login(customer_user)
    status_before = failed_order.status
    # When they try to cancel it (its ID guessed or copied)
    response = client.post(reverse("portal:order_cancel", kwargs={"order_id": failed_order.pk}), {})
    # Then it is as if there were no such order, and it is untouched
    assert response.status_code == 404
    failed_order.refresh_from_db()
    assert failed_order.status == status_before


def test_staff_cannot_cancel_through_the_customer_page(client, sales_user, scheduled_order):
    # The customer's pages speak to the owner only, whatever roles a user holds
    client.force_login(sales_user)
    response = client.post(
        reverse("portal:order_cancel", kwargs={"order_id": scheduled_order.pk}), {}
    )
    assert response.status_code == 404
    scheduled_order.refresh_from_db()
    assert scheduled_order.status == OrderStatus.SCHEDULED


@pytest.fixture
def in_flight(plan, serviceable_area, customer_user):
    """customer_user's order being provisioned: every task done up to the line's activation,
    its point of no return (the test runs the tasks itself, as a worker would)."""
    order = submit_order(plan=plan, area=serviceable_area).order
    customer_link_user(order.customer_id, customer_user)
    fulfilment_start(order.pk)
    run_ready(order, until="1.activate_line")
    order = Order.objects.get(pk=order.pk)
    assert order.status == OrderStatus.PROVISIONING
    return order


def past_ponr(order):
    updated = FulfilmentTask.objects.filter(order=order, key="1.activate_line").update(
        state=TaskState.RUNNING, started_at=timezone.now()
    )
    assert updated == 1


def test_past_its_point_of_no_return_the_page_says_it_can_no_longer_be_changed_online(
    customer_client, in_flight
):
    # Given the customer's order whose line is being switched on
    order = in_flight
    past_ponr(order)
    # When they open its page
    page = detail(customer_client, order)
    # Then it says the order can no longer be changed online, and why, in their words
    refusal = page[page.index('data-testid="cancel-order"') :]
    assert "This order can no longer be changed online. Your line is being switched on." in page
    assert "0800 000 0000" in refusal
    # ... with no cancel form and no internal task name or message
    assert reverse("portal:order_cancel", kwargs={"order_id": order.pk}) not in page
    assert "activate_line" not in page
    assert "Activate line" not in page and "point of no return" not in page


def test_a_cancel_refused_at_the_last_moment_is_told_in_customer_words(customer_client, in_flight):
    # Given the customer's page offered to cancel, and then the line's activation started
    order = in_flight
    assert "Cancel this order" in detail(customer_client, order)
    status_before = order.status
    past_ponr(order)
    # When they press "Yes, cancel this order"
    response = cancel(customer_client, order, expected_status=status_before)
    # Then the page tells them it can no longer be changed online, in their words
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    error = page[page.index('data-testid="cancel-error"') :]
    assert error.startswith(
        'data-testid="cancel-error">This order can no longer be changed online. '
        "Your line is being switched on."
    )
    assert "Activate line" not in page and "point of no return" not in page
    # ... and nothing changed
    order.refresh_from_db()
    assert order.status == status_before


def test_a_customer_cancelling_an_order_in_flight_reads_that_it_is_being_cancelled(
    customer_client, in_flight
):
    # Given the customer's order with work done on the network, before its point of no return
    assert "Cancel this order" in detail(customer_client, in_flight)
    # When they cancel it
    response = cancel(customer_client, in_flight, expected_status=OrderStatus.PROVISIONING)
    # Then their page says it is being cancelled, in their words, with no date promised
    page = html.unescape(response.content.decode())
    assert (
        f"Your order {in_flight.display_id} is being cancelled: we are undoing what was "
        "already set up." in page
    )
    assert 'data-testid="order-status">Being cancelled<' in page
    assert "We are cancelling your order and undoing what was already set up." in page
    assert "Estimated activation" not in page
    # ... and nothing more to cancel: it is under way
    assert (
        "This order can no longer be changed online. Your order is already being cancelled." in page
    )
    assert reverse("portal:order_cancel", kwargs={"order_id": in_flight.pk}) not in page


def test_a_customer_cancels_add_ons_ordered_for_their_live_line_while_they_are_set_up(
    customer_client, customer_user, live_line
):
    # Given a static IP ordered for the customer's live line, its address already allocated
    customer_link_user(live_line.customer_id, customer_user)
    submission = order_submit_add_ons(
        live_line.pk,
        (StaticIpOfferingFactory(),),
        channel=EventSource.SALES_PORTAL,
        submitted_by=None,
    )
    fulfilment_start(submission.order.pk)
    assert run_ready(submission.order, until="2.bind_address") == ["2.allocate_address"]
    order = Order.objects.get(pk=submission.order.pk)
    assert order.status == OrderStatus.PROVISIONING
    # When the customer opens its page, it offers to cancel it until the add-on is set up (the
    # line is live already: no line is switched on)
    page = detail(customer_client, order)
    assert "You can cancel this order until your add-ons are set up." in page
    # ... and they cancel it
    response = cancel(customer_client, order, expected_status=OrderStatus.PROVISIONING)
    # Then it is being cancelled while the address is given back; the line stays live
    assert f"Your order {order.display_id} is being cancelled" in html.unescape(
        response.content.decode()
    )
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLING
    assert Order.objects.get(pk=live_line.order_id).status == OrderStatus.COMPLETED
