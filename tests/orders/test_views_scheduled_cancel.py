"""Cancelling on a later date from the pages: sales and support schedule it from the cancel card
("Cancel on date") and withdraw it; the customer's page says when the order will be cancelled
and lets them keep it (orders/views_cancel.py and the cancel views of orders, support, portal)."""

from __future__ import annotations

import datetime
import html

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from orders.models import Order, ScheduledCancellation, ScheduledCancellationState
from orders.roles import Role
from orders.scheduled_cancellations import order_cancellation_schedule
from orders.services import customer_link_user
from orders.states import EventSource, OrderStatus
from tests.factories import UserFactory, submit_order

pytestmark = pytest.mark.django_db
REASON = "Customer rang: moving abroad at the end of the month."


@pytest.fixture
def submitted(plan, serviceable_area):
    return submit_order(plan=plan, area=serviceable_area).order


def day(offset: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=offset)


def words(value: datetime.date) -> str:
    return date_format(value, "j F Y")


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def schedule(order: Order, offset: int = 10) -> ScheduledCancellation:
    due = timezone.make_aware(datetime.datetime.combine(day(offset), datetime.time.min))
    return order_cancellation_schedule(
        order, due_at=due, reason=REASON, actor=None, source=EventSource.SUPPORT_PORTAL
    )


def test_a_sales_rep_schedules_a_cancellation_and_withdraws_it(client, sales_user, submitted):
    # Given a sales rep on the order's page
    client.force_login(sales_user)
    detail = reverse("orders:detail", kwargs={"order_id": submitted.pk})
    assert 'name="cancel_on"' in client.get(detail).content.decode()

    # When they cancel it on a date two weeks away
    response = client.post(
        reverse("orders:cancel", kwargs={"order_id": submitted.pk}),
        {"reason": REASON, "cancel_on": day(14).isoformat()},
        follow=True,
    )

    # Then the order goes on, and its page says when it will be cancelled, with "Withdraw"
    assert response.redirect_chain[-1][0] == detail
    text = text_of(response)
    assert f"Order {submitted.display_id} will be cancelled on {words(day(14))}" in text
    assert f"To be cancelled on {words(day(14))}" in text
    assert 'data-testid="withdraw-cancellation"' in text
    assert Order.objects.get(pk=submitted.pk).status == OrderStatus.SUBMITTED
    scheduled = ScheduledCancellation.objects.get(order=submitted)
    assert (scheduled.requested_by, scheduled.channel) == (sales_user, EventSource.SALES_PORTAL)

    # When they withdraw it
    response = client.post(
        reverse("orders:cancellation_withdraw", kwargs={"order_id": submitted.pk}), follow=True
    )

    # Then the page says so and shows no scheduled cancellation any more
    text = text_of(response)
    assert f"The scheduled cancellation of order {submitted.display_id} is withdrawn." in text
    assert 'data-testid="scheduled-cancellation"' not in text
    scheduled.refresh_from_db()
    assert scheduled.state == ScheduledCancellationState.WITHDRAWN
    assert scheduled.settled_by == sales_user


def test_a_date_that_is_not_after_today_is_an_error_next_to_the_field(
    client, sales_user, submitted
):
    client.force_login(sales_user)

    response = client.post(
        reverse("orders:cancel", kwargs={"order_id": submitted.pk}),
        {"reason": REASON, "cancel_on": day(0).isoformat()},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_cancel_on_error"' in page and "must be in the future" in page
    assert not ScheduledCancellation.objects.exists()
    assert Order.objects.get(pk=submitted.pk).status == OrderStatus.SUBMITTED


def test_support_schedules_a_cancellation_from_the_order_view(client, support_user, submitted):
    client.force_login(support_user)

    response = client.post(
        reverse("support:order_cancel", kwargs={"order_id": submitted.pk}),
        {"reason": REASON, "cancel_on": day(3).isoformat()},
        follow=True,
    )

    assert f"To be cancelled on {words(day(3))}" in text_of(response)
    assert ScheduledCancellation.objects.get(order=submitted).channel == EventSource.SUPPORT_PORTAL
    response = client.post(
        reverse("support:order_cancellation_withdraw", kwargs={"order_id": submitted.pk}),
        follow=True,
    )
    assert "is withdrawn" in text_of(response)


def test_the_customer_page_says_when_the_order_will_be_cancelled_and_they_can_keep_it(
    client, submitted
):
    # Given a customer whose order support scheduled to be cancelled in ten days
    customer = UserFactory(role=Role.CUSTOMER)
    customer_link_user(submitted.customer_id, customer)
    scheduled = schedule(submitted)
    client.force_login(customer)

    # Then their order page says so
    page = text_of(client.get(reverse("portal:order_detail", kwargs={"order_id": submitted.pk})))
    assert f"This order will be cancelled on {words(day(10))}." in page

    # When they keep their order after all
    response = client.post(
        reverse("portal:order_cancellation_withdraw", kwargs={"order_id": submitted.pk}),
        follow=True,
    )

    # Then it is no longer to be cancelled
    assert "We will not cancel your order" in text_of(response)
    assert "This order will be cancelled on" not in text_of(response)
    scheduled.refresh_from_db()
    assert scheduled.state == ScheduledCancellationState.WITHDRAWN


def test_a_customer_cannot_withdraw_another_customers_scheduled_cancellation(client, submitted):
    # Given an order of one customer with a cancellation scheduled, and another customer
    owner = UserFactory(role=Role.CUSTOMER)
    customer_link_user(submitted.customer_id, owner)
    scheduled = schedule(submitted)
    other = UserFactory(role=Role.CUSTOMER)
    client.force_login(other)

    # When the other customer tries to withdraw it, from their pages or the staff's
    mine = client.post(
        reverse("portal:order_cancellation_withdraw", kwargs={"order_id": submitted.pk})
    )
    staff = client.post(reverse("orders:cancellation_withdraw", kwargs={"order_id": submitted.pk}))

    # Then the order is not theirs (missing), the staff page is not for them, and it stands
    assert mine.status_code == 404
    assert staff.status_code == 403
    scheduled.refresh_from_db()
    assert scheduled.state == ScheduledCancellationState.SCHEDULED


def test_staff_who_may_not_cancel_may_not_withdraw(client, billing_user, submitted):
    scheduled = schedule(submitted)
    client.force_login(billing_user)

    response = client.post(
        reverse("orders:cancellation_withdraw", kwargs={"order_id": submitted.pk})
    )

    assert response.status_code == 403
    scheduled.refresh_from_db()
    assert scheduled.state == ScheduledCancellationState.SCHEDULED
