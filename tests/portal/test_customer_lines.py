"""Changes to a live line as the customer sees them (portal.lines): each change order (speed
change, add-on taken off, suspension, resumption, cease) is an order of its own on "My orders"
and on the line's order page, under its own ID, linked to the line it changes, in plain words;
the line's badge says its state after the changes (Active, Suspended, Ceased, Speed changed to
...), and so does support's installed base. Nobody else's customer sees them."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.models import Product
from orders.changes import order_submit_change
from orders.models import Order
from orders.roles import Role
from orders.states import EventSource, ItemChange
from tests.factories import PlanFactory, StaticIpOfferingFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def my_line(place_order, plan, serviceable_area, customer_user) -> Product:
    """customer_user's live Fibre 500 with a static IP."""
    order = place_order(
        plan=plan,
        area=serviceable_area,
        email="mine@example.com",
        customer_user=customer_user,
        add_ons=(StaticIpOfferingFactory(),),
    )
    return Product.objects.get(order=order, parent__isnull=True)


@pytest.fixture
def change(django_capture_on_commit_callbacks):
    """``change(line, what, **kwargs)``: a change order taken by support and carried out."""

    def take(line: Product, what: str, **kwargs) -> Order:
        with django_capture_on_commit_callbacks(execute=True):
            submission = order_submit_change(
                line.pk, what, channel=EventSource.SUPPORT_PORTAL, submitted_by=None, **kwargs
            )
        return Order.objects.get(pk=submission.order.pk)

    return take


def page(client, url_name: str, *args) -> str:
    response = client.get(reverse(url_name, args=args))
    assert response.status_code == 200, response.status_code
    return " ".join(html.unescape(response.content.decode()).split())


def line_state(text: str) -> str:
    found = re.search(r'data-testid="line-state">([^<]*)<', text)
    assert found, "the page shows the line's state"
    return found.group(1)


def test_a_speed_change_is_its_own_order_linked_to_the_line_it_changed(
    client, customer_user, my_line, change
):
    # Given the customer's line upgraded to Fibre 900
    gigabit = PlanFactory(
        code="fibre-900", name="Fibre 900", download_mbps=900, monthly_price=Decimal("45.00")
    )
    upgrade = change(my_line, ItemChange.PLAN, offering=gigabit)
    client.force_login(customer_user)

    # Then "My orders" lists the change under its own ID, and the line's order says the line's
    # speed changed
    mine = page(client, "portal:my_orders")
    assert upgrade.display_id in mine and "Speed change to Fibre 900" in mine
    assert "Your line: Speed changed to Fibre 900" in mine

    # ... the line's order page shows the line's state and links the change order
    origin = page(client, "portal:order_detail", my_line.order_id)
    assert line_state(origin) == "Speed changed to Fibre 900"
    change_url = reverse("portal:order_detail", args=[upgrade.pk])
    assert f'<a class="order-id" href="{change_url}">{upgrade.display_id}</a> Speed change to' in (
        origin
    )
    assert "Speed change to Fibre 900: Active" in origin

    # ... and the change order's page names the line it changed, linked to the line's order
    changed = page(client, "portal:order_detail", upgrade.pk)
    assert "Your line" in changed and line_state(changed) == "Speed changed to Fibre 900"
    origin_url = reverse("portal:order_detail", args=[my_line.order_id])
    assert f'href="{origin_url}" data-testid="line-origin">{my_line.order.display_id}<' in (changed)


def test_the_line_badge_follows_a_suspension_a_resumption_and_a_cease(
    client, customer_user, my_line, change
):
    client.force_login(customer_user)
    assert line_state(page(client, "portal:order_detail", my_line.order_id)) == "Active"

    # When support suspends the line, the customer's pages say so
    suspension = change(my_line, ItemChange.SUSPEND)
    origin = page(client, "portal:order_detail", my_line.order_id)
    assert line_state(origin) == "Suspended"
    assert f"{suspension.display_id}</a> Suspension of your Fibre 500 line" in origin
    assert "Your line: Suspended" in page(client, "portal:my_orders")

    # ... then resumes it
    resumption = change(my_line, ItemChange.RESUME)
    origin = page(client, "portal:order_detail", my_line.order_id)
    assert line_state(origin) == "Active"
    assert f"{resumption.display_id}</a> Resumption of your Fibre 500 line" in origin

    # ... and when it is ceased, the line reads as ceased wherever the customer looks
    cease = change(my_line, "delete")
    origin = page(client, "portal:order_detail", my_line.order_id)
    assert line_state(origin) == "Ceased"
    assert f"{cease.display_id}</a> Cease of your Fibre 500 line" in origin
    assert line_state(page(client, "portal:order_detail", cease.pk)) == "Ceased"
    mine = page(client, "portal:my_orders")
    assert "Your line: Ceased" in mine
    # Each change is one order of its own on the list
    for order in (suspension, resumption, cease):
        assert mine.count(order.display_id) == 1


def test_an_add_on_taken_off_reads_as_that(client, customer_user, my_line, change):
    static_ip = Product.objects.get(parent=my_line)
    removal = change(my_line, "remove", add_on_id=static_ip.pk)
    client.force_login(customer_user)

    title = f"{static_ip.name} taken off your {my_line.name} line"
    assert title in page(client, "portal:my_orders")
    origin = page(client, "portal:order_detail", my_line.order_id)
    assert f"{removal.display_id}</a> {title}" in origin


def test_support_reads_an_add_on_taken_off_as_that(client, support_user, my_line, change):
    static_ip = Product.objects.get(parent=my_line)
    removal = change(my_line, "remove", add_on_id=static_ip.pk)
    client.force_login(support_user)
    text = page(client, "support:order", my_line.order_id)
    assert f"{removal.display_id}</a> {static_ip.name} taken off (completed" in text


def test_another_customer_sees_neither_the_line_nor_its_changes(client, my_line, change):
    suspension = change(my_line, ItemChange.SUSPEND)
    client.force_login(UserFactory(username="someone-else", role=Role.CUSTOMER))
    for order_pk in (my_line.order_id, suspension.pk):
        assert client.get(reverse("portal:order_detail", args=[order_pk])).status_code == 404
    assert suspension.display_id not in page(client, "portal:my_orders")


def test_support_sees_each_line_state_after_its_changes(client, support_user, my_line, change):
    client.force_login(support_user)
    gigabit = PlanFactory(code="fibre-900", name="Fibre 900", download_mbps=900)

    def states() -> list[str]:
        text = page(client, "support:order", my_line.order_id)
        return re.findall(r'data-testid="product-state">([^<]*)<', text)

    # The order's products and the customer's installed base, the line first of the order's
    assert states()[-2:] == ["Active", "Active"]
    change(my_line, ItemChange.PLAN, offering=gigabit)
    assert "Speed changed to Fibre 900" in states()
    change(my_line, ItemChange.SUSPEND)
    assert "Suspended" in states()
    change(my_line, ItemChange.RESUME)
    change(my_line, "delete")
    assert states().count("Ceased") == 4  # line and static IP, in both tables
