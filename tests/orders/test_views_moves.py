"""The staff page "Move home" (orders.views_moves): a rep takes a customer's move from the line
in support's installed base; the move is two linked orders; every refusal is shown next to its
field and nothing is taken; only people who may take orders reach the page."""

from __future__ import annotations

import html
import uuid

import pytest
from django.urls import reverse

from inventory.models import Product
from orders.models import Order, OrderGroup
from orders.states import OrderStatus
from tests.factories import ServiceAreaFactory

pytestmark = pytest.mark.django_db


def page_url(line: Product) -> str:
    return reverse("orders:line_move", kwargs={"product_id": line.pk})


def text(response) -> str:
    return html.unescape(response.content.decode())


def post(client, line: Product, **fields):
    data = {
        "address_line1": "4 New Road",
        "city": "Newtown",
        "postcode": "NW1 4AA",
        "submission_token": str(uuid.uuid4()),
    }
    data.update(fields)
    return client.post(page_url(line), data)


def test_a_rep_takes_a_move_from_the_installed_base_and_lands_on_the_new_line(
    client, sales_user, live_line
):
    ServiceAreaFactory(postcode="NW1 4AA")
    client.force_login(sales_user)
    # Given the rep sees Jane's line in support, with its "Move home" link
    support = text(client.get(reverse("support:order", kwargs={"order_id": live_line.order_id})))
    assert f'href="{page_url(live_line)}"' in support
    page = text(client.get(page_url(live_line)))
    assert "9 Elm Row, Testville SW1A 1AA" in page

    # When the rep enters the new address and takes the move
    response = post(client, live_line)

    # Then two orders are taken, the cease waiting for the new line, and the rep is on the new
    group = OrderGroup.objects.get()
    cease = group.orders.get(waits_for__isnull=False)
    assert cease.status == OrderStatus.SCHEDULED and cease.product_ref == live_line.pk
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:detail", args=[cease.waits_for_id])


def test_an_unserviceable_new_address_is_told_next_to_the_postcode_and_nothing_is_taken(
    client, sales_user, live_line
):
    client.force_login(sales_user)
    before = Order.objects.count()

    response = post(client, live_line, postcode="ZZ9 9ZZ")

    page = text(response)
    assert response.status_code == 200
    assert 'id="field-postcode"' in page
    postcode_field = page[page.index('id="field-postcode"') :]
    assert "We don't offer service at this postcode yet." in postcode_field.split("</div>")[0]
    assert Order.objects.count() == before and not OrderGroup.objects.exists()


def test_people_who_may_not_take_orders_are_refused(client, live_line, support_user):
    client.force_login(support_user)
    assert client.get(page_url(live_line)).status_code == 403
    assert post(client, live_line).status_code == 403
    assert not OrderGroup.objects.exists()


def test_an_unknown_product_is_not_found(client, sales_user):
    client.force_login(sales_user)
    url = reverse("orders:line_move", kwargs={"product_id": uuid.uuid4()})
    assert client.get(url).status_code == 404
