"""The customer's own changes to their live line (portal.changes): a speed change and a cease
from their order page, each an order of its own from the customer portal; nobody else's line."""

from __future__ import annotations

import datetime
import html
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.models import Product, ProductStatus
from orders.models import Order
from orders.states import EventSource, ItemAction, OrderStatus
from tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def my_line_order(place_order, plan, serviceable_area, customer_user) -> Order:
    """customer_user's Fibre 500, completed: a live line in their installed base."""
    order = place_order(
        plan=plan, area=serviceable_area, email="mine@example.com", customer_user=customer_user
    )
    assert order.status == OrderStatus.COMPLETED
    return order


@pytest.fixture
def gigabit(db):
    return PlanFactory(
        code="fibre-900", name="Fibre 900", download_mbps=900, monthly_price=Decimal("45.00")
    )


def text(response) -> str:
    return html.unescape(response.content.decode())


def change_url(order: Order) -> str:
    return reverse("portal:order_change", kwargs={"order_id": order.pk})


def post(client, order: Order, change: str, **fields):
    data = {"change": change, f"{change}-submission_token": str(uuid.uuid4())}
    data.update({f"{change}-{key}": value for key, value in fields.items()})
    return client.post(change_url(order), data)


def test_a_customer_upgrades_their_speed_and_follows_the_change_order(
    client, customer_user, my_line_order, gigabit, django_capture_on_commit_callbacks
):
    # Given the customer on their completed order's page
    client.force_login(customer_user)
    page = text(client.get(reverse("portal:order_detail", kwargs={"order_id": my_line_order.pk})))
    assert "Change my speed" in page and "Cease my service" in page
    # ... and the change page offering the faster plan with its new price, from today
    page = text(client.get(change_url(my_line_order)))
    assert "Fibre 900 (900 Mbps): 45.00 GBP a month (+10.00 GBP a month)" in page
    assert f"from {timezone.localdate():%-d %B %Y}, the first month prorated" in page

    # When they choose Fibre 900
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, my_line_order, "plan", offering=gigabit.pk)

    # Then a change order is taken from the customer portal, and they land on its page
    line = Product.objects.get(order=my_line_order)
    change = Order.objects.get(product_ref=line.pk)
    assert response["Location"] == reverse("portal:order_detail", kwargs={"order_id": change.pk})
    submitted = change.events.order_by("created_at", "id").first()
    assert submitted.source == EventSource.CUSTOMER_PORTAL
    page = text(client.get(response["Location"]))
    assert "Speed change to Fibre 900: done" in page
    assert "New price 45.00 GBP a month from the day the change is made" in page
    assert "All done: the change is in place on your account." in page
    assert "billing has started" not in page
    # ... which "My orders" lists as the change
    assert "Speed change to Fibre 900" in text(client.get(reverse("portal:my_orders")))
    line.refresh_from_db()
    assert line.offering == gigabit


def test_a_customer_ceases_their_service_from_a_date(
    client, customer_user, my_line_order, django_capture_on_commit_callbacks
):
    client.force_login(customer_user)
    later = timezone.localdate() + datetime.timedelta(days=14)

    # Without the confirmation nothing is taken
    page = text(post(client, my_line_order, "cease", requested_date=later.isoformat()))
    assert "Tick to confirm the cease." in page
    line = Product.objects.get(order=my_line_order)
    assert not Order.objects.filter(product_ref=line.pk).exists()

    # Confirmed: a cease order, held until the date, that reads as the cease
    response = post(client, my_line_order, "cease", requested_date=later.isoformat(), confirm="on")
    cease = Order.objects.get(product_ref=line.pk)
    assert cease.status == OrderStatus.SCHEDULED
    assert cease.items.get().action == ItemAction.DELETE
    page = text(client.get(response["Location"]))
    assert "Cease of your Fibre 500 line: ordered" in page
    assert "No charge for this change" in page
    assert line.status == ProductStatus.ACTIVE  # until the date


def test_someone_elses_line_is_404(
    client, my_line_order, gigabit, django_user_model, place_order, plan, serviceable_area
):
    # Another signed-in customer cannot see or change it
    other = django_user_model.objects.create_user("other-customer", password="x")
    client.force_login(other)
    assert client.get(change_url(my_line_order)).status_code == 404
    assert post(client, my_line_order, "plan", offering=gigabit.pk).status_code == 404
    assert not Order.objects.filter(product_ref__isnull=False).exists()


def test_an_order_that_is_not_complete_offers_no_change(
    client, customer_user, customer_manual_order
):
    client.force_login(customer_user)
    page = text(
        client.get(reverse("portal:order_detail", kwargs={"order_id": customer_manual_order.pk}))
    )
    assert "Change my speed" not in page
    assert client.get(change_url(customer_manual_order)).status_code == 404


def test_a_customer_cannot_suspend_their_own_line(client, customer_user, my_line_order):
    client.force_login(customer_user)
    assert post(client, my_line_order, "suspend", reason="Holiday").status_code == 404


def test_a_cease_today_ends_the_service_and_the_line_offers_no_more_changes(
    client, customer_user, my_line_order, django_capture_on_commit_callbacks
):
    # Given the customer ceasing their line today, confirmed
    client.force_login(customer_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client,
            my_line_order,
            "cease",
            requested_date=timezone.localdate().isoformat(),
            confirm="on",
        )

    # Then the cease order reads as done, in cease words
    page = text(client.get(response["Location"]))
    assert "Cease of your Fibre 500 line: done" in page
    assert "All done: your service is ceased." in page
    line = Product.objects.get(order=my_line_order)
    assert line.status == ProductStatus.TERMINATED
    # ... and the order that delivered the line offers no change any more
    page = text(client.get(reverse("portal:order_detail", kwargs={"order_id": my_line_order.pk})))
    assert "Change my speed" not in page
    assert client.get(change_url(my_line_order)).status_code == 404
