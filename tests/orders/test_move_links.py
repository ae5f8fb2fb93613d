"""The two orders of a move home, linked where people look (orders.selectors.order_move_link):
the sales order page, support's order view and the customer's order page each say "Part of a
move", name the other order by its ID with what it does, link to it, and say how the move
stands in plain words. Nobody else's customer sees either order."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from inventory.models import Product
from orders.models import Order
from orders.moves import MoveSubmission, NewAddress, order_submit_move
from orders.roles import Role
from orders.services import order_cancel
from orders.states import EventSource
from provisioning.services import fulfilment_start
from tests.factories import ServiceAreaFactory, UserFactory
from tests.provisioning.running import run_ready

pytestmark = pytest.mark.django_db

NEW = "4 New Road, Newtown NW1 4AA"
OLD = "1 Test Street, Testville SW1A 1AA"
WAITING = "Waiting for the new line; the old line stays on until it is live."


@pytest.fixture
def my_move(place_order, plan, serviceable_area, customer_user) -> MoveSubmission:
    """customer_user's live Fibre 500 at 1 Test Street, moving to 4 New Road."""
    ServiceAreaFactory(postcode="NW1 4AA", exchange="Newtown")
    order = place_order(
        plan=plan,
        area=serviceable_area,
        email="mine@example.com",
        customer_user=customer_user,
    )
    line = Product.objects.get(order=order)
    return order_submit_move(
        line.pk,
        NewAddress(address_line1="4 New Road", city="Newtown", postcode="NW1 4AA"),
        channel=EventSource.SUPPORT_PORTAL,
        submitted_by=None,
    )


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return " ".join(html.unescape(response.content.decode()).split())


def link(url_name: str, order: Order) -> str:
    return f'href="{reverse(url_name, args=[order.pk])}" data-testid="move-partner"'


@pytest.mark.parametrize(
    ("viewer", "url_name"),
    [("sales_user", "orders:detail"), ("support_user", "support:order")],
)
def test_staff_see_each_order_of_a_move_link_to_the_other(
    client, request, my_move, viewer, url_name
):
    client.force_login(request.getfixturevalue(viewer))
    provide, cease = my_move.provide, my_move.cease

    # On the new line's order: part of a move, the cease named and linked, waiting
    page = text(client.get(reverse(url_name, args=[provide.pk])))
    assert "Part of a move" in page
    assert f"This order: Switch on at {NEW}." in page
    assert link(url_name, cease) in page
    assert f"{cease.display_id}</a>, Stop at {OLD} on the day the new line is live." in page
    assert WAITING in page

    # On the cease: the new line's order named and linked
    page = text(client.get(reverse(url_name, args=[cease.pk])))
    assert f"This order: Stop at {OLD} on the day the new line is live." in page
    assert link(url_name, provide) in page
    assert f"{provide.display_id}</a>, Switch on at {NEW}." in page
    assert WAITING in page


def test_an_order_of_its_own_says_nothing_of_a_move(client, sales_user, my_move):
    client.force_login(sales_user)
    line_order = Product.objects.get(pk=my_move.cease.product_ref).order
    assert "Part of a move" not in text(client.get(reverse("orders:detail", args=[line_order.pk])))


def test_the_customer_sees_both_orders_of_their_move_linked(client, customer_user, my_move):
    client.force_login(customer_user)
    provide, cease = my_move.provide, my_move.cease

    page = text(client.get(reverse("portal:order_detail", args=[cease.pk])))
    assert "Part of a move" in page
    assert link("portal:order_detail", provide) in page
    assert "Your other order: <a" in page
    assert f"{provide.display_id}</a>, Switch on at {NEW}." in page
    assert WAITING in page

    page = text(client.get(reverse("portal:order_detail", args=[provide.pk])))
    assert link("portal:order_detail", cease) in page
    assert f"Stop at {OLD} on the day the new line is live." in page


def test_another_customer_reaches_neither_order_of_the_move(client, my_move):
    client.force_login(UserFactory(username="someone-else", role=Role.CUSTOMER))
    for order in (my_move.provide, my_move.cease):
        assert client.get(reverse("portal:order_detail", args=[order.pk])).status_code == 404
        # ... nor the staff pages that link them
        assert client.get(reverse("orders:detail", args=[order.pk])).status_code == 403
        assert client.get(reverse("support:order", args=[order.pk])).status_code == 403


def test_the_move_reads_as_the_new_line_goes_live(client, support_user, my_move):
    client.force_login(support_user)
    url = reverse("support:order", args=[my_move.cease.pk])

    # When the new line is live (its after-commit work, the cease's plan among it, not run yet)
    fulfilment_start(my_move.provide.pk)
    run_ready(my_move.provide)

    # Then the move reads as the old line being stopped
    page = text(client.get(url))
    assert "The new line is live; the old line is being stopped." in page
    assert WAITING not in page


def test_the_move_reads_as_done_once_the_old_line_is_stopped(
    client, customer_user, my_move, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment_start(my_move.provide.pk)
        run_ready(my_move.provide)
    assert Order.objects.get(pk=my_move.cease.pk).status == "completed"
    client.force_login(customer_user)
    page = text(client.get(reverse("portal:order_detail", args=[my_move.provide.pk])))
    assert "Done: the new line is live and the old line is stopped." in page


def test_a_cancelled_move_reads_as_off(client, customer_user, my_move):
    order_cancel(my_move.provide, actor=None, source=EventSource.SUPPORT_PORTAL, reason="Staying")
    client.force_login(customer_user)
    page = text(client.get(reverse("portal:order_detail", args=[my_move.cease.pk])))
    assert "The move is off: it was cancelled." in page
