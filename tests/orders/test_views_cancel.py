"""Cancelling an order from the staff pages: the sales order page and support's order view
(orders/views_cancel.py, orders.views.order_cancel, support.views.order_cancel)."""

import html

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OrderEvent
from orders.states import EventSource, OrderStatus
from provisioning.models import FulfilmentTask, TaskState
from provisioning.services import fulfilment_start
from tests.factories import submit_order
from tests.provisioning.running import run_ready

pytestmark = pytest.mark.django_db

REASON = "Customer rang: moving abroad, no longer needs the line."


@pytest.fixture
def submitted(plan, serviceable_area):
    """An order just taken: nothing done on the network yet (its after-commit work not run)."""
    order = submit_order(plan=plan, area=serviceable_area).order
    assert order.status == OrderStatus.SUBMITTED
    return order


def page_of(client, order, name="orders:detail"):
    return client.get(reverse(name, kwargs={"order_id": order.pk})).content.decode()


def post_cancel(client, order, name="orders:cancel", **data):
    return client.post(reverse(name, kwargs={"order_id": order.pk}), data, follow=True)


@pytest.fixture
def in_flight(plan, serviceable_area):
    """An order being provisioned: every task done up to the line's activation, its point of
    no return (the test runs the tasks itself, as a worker would)."""
    order = submit_order(plan=plan, area=serviceable_area).order
    fulfilment_start(order.pk)
    run_ready(order, until="1.activate_line")
    order = Order.objects.get(pk=order.pk)
    assert order.status == OrderStatus.PROVISIONING
    return order


def past_ponr(order):
    """The line's activation (the plan's point of no return) has started on ``order``."""
    updated = FulfilmentTask.objects.filter(order=order, key="1.activate_line").update(
        state=TaskState.RUNNING, started_at=timezone.now()
    )
    assert updated == 1


def test_a_sales_rep_cancels_a_submitted_order_with_a_reason(client, sales_user, submitted):
    # Given a sales rep on the page of an order just taken
    client.force_login(sales_user)
    page = page_of(client, submitted)
    assert 'data-testid="cancel-order"' in page
    # When they cancel it, saying why
    response = post_cancel(client, submitted, reason=REASON, expected_status=OrderStatus.SUBMITTED)
    # Then they are back on the order page, which says it is cancelled
    assert response.redirect_chain[-1][0] == reverse(
        "orders:detail", kwargs={"order_id": submitted.pk}
    )
    text = html.unescape(response.content.decode())
    assert f"Order {submitted.display_id} cancelled." in text
    assert 'data-testid="order-status">Cancelled<' in text
    # ... the cancel form is gone (nothing left to cancel)
    assert 'data-testid="cancel-order"' not in text
    # ... and the history says who cancelled it, why and from where
    submitted.refresh_from_db()
    assert submitted.status == OrderStatus.CANCELLED
    event = submitted.events.get(to_status=OrderStatus.CANCELLED)
    assert (event.actor, event.reason, event.source) == (
        sales_user,
        REASON,
        EventSource.SALES_PORTAL,
    )


def test_a_missing_reason_is_shown_next_to_the_field_and_nothing_changes(
    client, sales_user, submitted
):
    # Given a sales rep on the order's page
    client.force_login(sales_user)
    events_before = submitted.events.count()
    # When they press "Cancel order" without a reason
    response = post_cancel(client, submitted, reason="  ")
    # Then the page comes back with the error next to the reason field
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_reason_error"' in page
    assert "A reason is required" in page
    # ... and the order is as it was
    submitted.refresh_from_db()
    assert submitted.status == OrderStatus.SUBMITTED
    assert submitted.events.count() == events_before


@pytest.mark.parametrize("role_user", ["billing_user", "provisioning_user", "customer_user"])
def test_who_may_not_cancel_gets_403_and_no_form(request, client, submitted, role_user):
    # Given someone without the right to cancel on the customer's behalf
    user = request.getfixturevalue(role_user)
    client.force_login(user)
    # When they post a cancellation
    response = client.post(
        reverse("orders:cancel", kwargs={"order_id": submitted.pk}), {"reason": REASON}
    )
    # Then it is refused and nothing changes
    assert response.status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == OrderStatus.SUBMITTED
    # ... and the staff who may see the order see no cancel form on it
    if role_user != "customer_user":
        assert 'data-testid="cancel-order"' not in page_of(client, submitted)


def test_cancel_is_post_only(client, sales_user, submitted):
    client.force_login(sales_user)
    response = client.get(reverse("orders:cancel", kwargs={"order_id": submitted.pk}))
    assert response.status_code == 405
    submitted.refresh_from_db()
    assert submitted.status == OrderStatus.SUBMITTED


def test_support_cancels_from_the_order_view_on_the_customers_behalf(
    client, support_user, submitted
):
    # Given a support agent on the order's view
    client.force_login(support_user)
    assert 'data-testid="cancel-order"' in page_of(client, submitted, "support:order")
    # When they cancel it with a reason
    response = post_cancel(client, submitted, "support:order_cancel", reason=REASON)
    # Then they are back on the support view, which says so
    assert response.redirect_chain[-1][0] == reverse(
        "support:order", kwargs={"order_id": submitted.pk}
    )
    assert f"Order {submitted.display_id} cancelled." in html.unescape(response.content.decode())
    event = OrderEvent.objects.get(order=submitted, to_status=OrderStatus.CANCELLED)
    assert (event.actor, event.source) == (support_user, EventSource.SUPPORT_PORTAL)


def test_an_order_past_its_point_of_no_return_shows_why_and_no_form(
    client, sales_user, support_user, in_flight
):
    # Given an order whose line activation has started (its point of no return)
    order = in_flight
    past_ponr(order)
    for user, name in ((sales_user, "orders:detail"), (support_user, "support:order")):
        client.force_login(user)
        # When a sales rep or support agent opens it
        page = html.unescape(page_of(client, order, name))
        # Then the page says it can no longer be cancelled, and why, instead of a form
        refusal = page[page.index('data-testid="cancel-refusal"') :]
        assert refusal.startswith('data-testid="cancel-refusal">Activate line started at ')
        assert "the order can no longer be cancelled (its point of no return)" in refusal
        for action in ("orders:cancel", "support:order_cancel"):
            assert reverse(action, kwargs={"order_id": order.pk}) not in page


def test_a_cancellation_refused_at_the_last_moment_says_why_and_changes_nothing(
    client, sales_user, in_flight
):
    # Given a rep with the order's page open while it could still be cancelled
    order = in_flight
    client.force_login(sales_user)
    assert 'data-testid="cancel-order"' in page_of(client, order)
    status_before = order.status
    # ... and meanwhile the line's activation started
    past_ponr(order)
    # When they press "Cancel order"
    response = post_cancel(client, order, reason=REASON, expected_status=status_before)
    # Then the page shows why it was refused, next to where the form was
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert 'data-testid="cancel-error"' in page
    assert "can no longer be cancelled" in page
    # ... and nothing changed
    order.refresh_from_db()
    assert order.status == status_before
    assert not order.events.filter(to_status=OrderStatus.CANCELLED).exists()


def test_an_order_changed_meanwhile_is_a_conflict_not_a_blind_cancel(client, sales_user, submitted):
    # Given the rep's page showed the order as scheduled, and it has moved on since
    client.force_login(sales_user)
    # When they cancel from that stale page
    response = post_cancel(client, submitted, reason=REASON, expected_status=OrderStatus.SCHEDULED)
    # Then they read that it changed, and it is not cancelled
    page = html.unescape(response.content.decode())
    assert "changed while you were looking at it" in page
    submitted.refresh_from_db()
    assert submitted.status == OrderStatus.SUBMITTED
    # ... the form is offered again, now for the order as it is, with their reason kept
    assert f'value="{OrderStatus.SUBMITTED}"' in page
    assert REASON in page


def test_an_order_in_flight_is_being_cancelled_while_the_network_work_is_undone(
    client, sales_user, support_user, in_flight
):
    # Given an order whose port, subscriber and speed profile are set up on the network
    client.force_login(sales_user)
    assert 'data-testid="cancel-order"' in page_of(client, in_flight)
    # When the rep cancels it
    response = post_cancel(
        client, in_flight, reason=REASON, expected_status=OrderStatus.PROVISIONING
    )
    # Then the page says it is being cancelled while that work is undone
    page = html.unescape(response.content.decode())
    assert (
        f"Order {in_flight.display_id} is being cancelled: what was done on the network is "
        "being undone." in page
    )
    assert 'class="badge status-cancelling" data-testid="order-status">Cancelling<' in page
    # ... with no form to cancel it again, but the reason why not
    assert reverse("orders:cancel", kwargs={"order_id": in_flight.pk}) not in page
    assert "is being cancelled already" in page
    assert Order.objects.get(pk=in_flight.pk).status == OrderStatus.CANCELLING
    # ... and support sees it being cancelled too, the customer reading "Being cancelled"
    client.force_login(support_user)
    page = html.unescape(page_of(client, in_flight, "support:order"))
    assert 'class="badge status-cancelling"' in page
    assert "Customer sees: “Being cancelled”" in page
    assert "is being cancelled already" in page
