"""TMF622 orders for add-ons on a customer's live line, as a CRM integrator sends them: the line
is item "1" with action noChange and its TMF637 product by reference, the add-ons rely on it.
The answer conforms to the official swagger, the order completes with only the add-ons
delivered and billed, the add-on's TMF637 product relies on the line, and every order that
cannot be taken is a 400 naming the item and the rule."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from billing.models import BillingAccount
from inventory.models import Product, ProductStatus
from orders.models import Order, Plan
from orders.states import ItemAction, OrderStatus
from tests.factories import CustomerFactory, StaticIpOfferingFactory, submit_order
from tests.tmf.conftest import TMF637
from tests.tmf.product_order_bodies import (
    ORDERS,
    existing_customer_party,
    items_by_id,
    live_line_body,
    post_refused,
    row_counts,
)
from tests.tmf.schema import assert_each_valid, assert_valid

pytestmark = pytest.mark.django_db

PRODUCTS = f"{TMF637}/product"


@pytest.fixture
def static_ip(db: None) -> Plan:
    return StaticIpOfferingFactory(code="static-ip", name="Static IP")


@pytest.fixture
def live_line(plan, serviceable_area, django_capture_on_commit_callbacks) -> Product:
    """Jane's Fibre 500 at 9 Elm Row, completed and billed: a line in her installed base."""
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(
            plan=plan, area=serviceable_area, email="jane@example.com", address_line1="9 Elm Row"
        ).order
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED
    return Product.objects.get(order=order)


def body_for(line: Product, *add_ons: str, **body: Any) -> dict[str, Any]:
    return live_line_body(str(line.pk), line.customer, add_ons, **body)


def test_a_client_orders_a_static_ip_for_a_live_line_and_gets_an_official_product_order(
    api_writer, live_line, static_ip
):
    # Given Jane's live Fibre 500, when a CRM orders a static IP for it (no address given)
    response = api_writer.post(ORDERS, body_for(live_line, "static-ip"), format="json")

    # Then the order is taken: an official ProductOrder at its Location
    assert response.status_code == 201, response.json()
    created = response.json()
    assert_valid("TMF622", "ProductOrder", created)
    assert response["Location"] == created["href"]
    assert created["relatedParty"][0]["id"] == str(live_line.customer_id)
    # The line is item 1, unchanged and complete, naming its TMF637 product, at no price
    items = items_by_id(created)
    line, ip = items["1"], items["2"]
    assert (line["action"], line["state"]) == ("noChange", "completed")
    assert line["product"]["id"] == str(live_line.pk)
    assert line["product"]["href"].startswith("http")
    assert line["product"]["href"].endswith(f"{PRODUCTS}/{live_line.pk}")
    assert line["productOffering"]["id"] == "fibre-500"
    assert line["product"]["place"][0]["streetName"] == "9 Elm Row"
    assert line["itemPrice"][0]["price"]["taxIncludedAmount"]["value"] == 0.0
    # The static IP is a new item on it; the totals are the add-on's alone
    assert (ip["action"], ip["state"]) == ("add", "acknowledged")
    assert ip["productOrderItemRelationship"][0] == {
        "id": "1",
        "relationshipType": "reliesOn",
        "@type": "OrderItemRelationship",
    }
    assert [p["price"]["taxIncludedAmount"]["value"] for p in created["orderTotalPrice"]] == [5.0]
    assert created["description"].startswith("Static IP for the live Fibre 500 at 9 Elm Row")
    # The ISP's record: Jane's order at the line's address, naming the line
    order = Order.objects.get(pk=created["id"])
    assert (order.customer_id, order.service_address_line1) == (live_line.customer_id, "9 Elm Row")
    assert order.monthly_price == Decimal("5.00")
    assert order.items.get(item_id="1").product_ref == live_line.pk
    assert order.items.get(item_id="1").action == ItemAction.NO_CHANGE
    assert api_writer.get(created["href"]).json() == created
    listed = api_writer.get(ORDERS, {"relatedParty.id": str(live_line.customer_id)}).json()
    assert_each_valid("TMF622", "ProductOrder", listed)
    assert created in listed


def test_the_add_on_order_completes_and_the_add_on_relies_on_the_line_in_tmf637(
    api_writer, live_line, static_ip, django_capture_on_commit_callbacks
):
    # Given a static IP ordered for Jane's live line, carried by the workers to the end
    with django_capture_on_commit_callbacks(execute=True):
        created = api_writer.post(ORDERS, body_for(live_line, "static-ip"), format="json").json()

    # When the CRM reads the order, and the installed base
    fetched = api_writer.get(created["href"]).json()
    add_on = Product.objects.get(order_id=created["id"])
    product = api_writer.get(f"{PRODUCTS}/{add_on.pk}").json()

    # Then the order is complete, the static IP's item names its new product
    assert_valid("TMF622", "ProductOrder", fetched)
    assert fetched["state"] == "completed"
    items = items_by_id(fetched)
    assert {key: entry["state"] for key, entry in items.items()} == {
        "1": "completed",
        "2": "completed",
    }
    assert items["1"]["product"]["id"] == str(live_line.pk)
    assert items["2"]["product"]["id"] == str(add_on.pk)
    # and in TMF637 the static IP relies on the line (an option on an owned access product)
    assert_valid("TMF637", "Product", product)
    (relationship,) = product["productRelationship"]
    assert relationship["relationshipType"] == "reliesOn"
    assert relationship["product"]["id"] == str(live_line.pk)
    assert relationship["product"]["href"].endswith(f"{PRODUCTS}/{live_line.pk}")
    assert relationship["product"]["name"] == "Fibre 500"
    assert product["productOrderItem"][0]["productOrderId"] == created["id"]
    assert product["place"][0]["streetName"] == "9 Elm Row"
    # and it is billed on the line's account, not on one of its own
    assert not BillingAccount.objects.filter(order_id=created["id"]).exists()
    assert BillingAccount.objects.get(order=live_line.order).monthly_price == Decimal("40.00")


def test_a_line_on_an_offering_no_longer_sold_still_takes_add_ons(
    api_writer, live_line, static_ip, plan
):
    # Given Jane's line is on Fibre 500, which is no longer sold
    Plan.objects.filter(pk=plan.pk).update(is_active=False)
    body = body_for(live_line, "static-ip")
    body["productOrderItem"][0]["productOffering"] = {"id": "fibre-500"}

    # When the CRM names the line with its offering
    response = api_writer.post(ORDERS, body, format="json")

    # Then the static IP is still ordered for it
    assert response.status_code == 201, response.json()
    assert items_by_id(response.json())["1"]["productOffering"]["id"] == "fibre-500"


# --- orders that cannot be taken: a 400 naming the item and the rule --------------------------
def _without_product_id(body: dict[str, Any]) -> None:
    body["productOrderItem"][0]["product"] = {"@type": "Product"}


def _unknown_product(body: dict[str, Any]) -> None:
    body["productOrderItem"][0]["product"]["id"] = str(uuid.uuid4())


def _other_offering(body: dict[str, Any]) -> None:
    body["productOrderItem"][0]["productOffering"] = {"id": "fibre-900"}


def _adds_nothing(body: dict[str, Any]) -> None:
    del body["productOrderItem"][1:]


def _line_relies_on_its_add_on(body: dict[str, Any]) -> None:
    body["productOrderItem"][0]["productOrderItemRelationship"] = [
        {"id": "2", "relationshipType": "reliesOn"}
    ]


def _with_a_place(body: dict[str, Any]) -> None:
    body["productOrderItem"][0]["product"]["place"] = [
        {"streetName": "1 Other Road", "city": "London", "postcode": "SW1A 1AA"}
    ]


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (_without_product_id, "productOrderItem[0].product.id", "Required on a 'noChange' item"),
        (_unknown_product, "productOrderItem[0].product.id", "is not a line in the installed"),
        (_other_offering, "productOrderItem[0].productOffering.id", "is offering 'fibre-500'"),
        (_adds_nothing, "productOrderItem", "which is live, needs an add-on to add"),
        (_line_relies_on_its_add_on, "productOrderItem[0]", "can be named with 'noChange'"),
        (_with_a_place, "productOrderItem[0].product.place", "at its own address"),
    ],
    ids=[
        "no-product-id",
        "unknown-product",
        "other-offering",
        "adds-nothing",
        "relies-on",
        "place",
    ],
)
def test_an_order_for_a_live_line_that_cannot_be_taken_is_refused_naming_the_item(
    api_writer, live_line, static_ip, change, path, words
):
    body = body_for(live_line, "static-ip")
    change(body)

    error = post_refused(api_writer, body)

    assert_valid("TMF622", "Error", error)
    assert error["code"] == "INVALID_VALUE"
    assert set(error["fieldErrors"]) == {path}
    assert words in error["fieldErrors"][path]
    assert "Item 1" in error["message"] or "Item order" in error["message"]


@pytest.mark.parametrize("status", [ProductStatus.SUSPENDED, ProductStatus.TERMINATED])
def test_add_ons_go_on_an_active_line_only(api_writer, live_line, static_ip, status):
    Product.objects.filter(pk=live_line.pk).update(status=status)

    error = post_refused(api_writer, body_for(live_line, "static-ip"))

    assert (
        f"is {status}: add-ons go on an active line only"
        in (error["fieldErrors"]["productOrderItem[0]"])
    )


def test_an_add_on_the_line_has_already_and_an_add_on_named_as_the_line_are_refused(
    api_writer, live_line, static_ip, django_capture_on_commit_callbacks
):
    # Given Jane's line has a static IP, ordered through the API and delivered
    with django_capture_on_commit_callbacks(execute=True):
        first = api_writer.post(ORDERS, body_for(live_line, "static-ip"), format="json").json()
    assert api_writer.get(first["href"]).json()["state"] == "completed"
    add_on = Product.objects.get(order_id=first["id"])

    # When the CRM orders a second one, or names the static IP as the line
    again = post_refused(api_writer, body_for(live_line, "static-ip"))
    not_a_line = post_refused(api_writer, live_line_body(str(add_on.pk), add_on.customer, ()))

    # Then each is refused, naming the item and the rule
    assert set(again["fieldErrors"]) == {"productOrderItem[1]"}
    assert "has a static ipv4 address already" in again["fieldErrors"]["productOrderItem[1]"]
    assert "Item 2: " in again["message"]
    assert (
        "is not a line in the installed base"
        in (not_a_line["fieldErrors"]["productOrderItem[0].product.id"])
    )


def test_another_customers_line_is_refused_and_nothing_is_written(api_writer, live_line, static_ip):
    # Given Bob, another customer of the ISP
    bob = CustomerFactory(email="bob@example.com")
    body = body_for(live_line, "static-ip")
    body["relatedParty"] = [existing_customer_party(bob)]

    # When the CRM orders a static IP on Jane's line for Bob
    error = post_refused(api_writer, body)

    # Then it is refused naming the line's item
    assert "Fibre 500 is not this customer's line" in error["fieldErrors"]["productOrderItem[0]"]
    assert not Order.objects.filter(customer=bob).exists()


def test_a_customer_is_still_required(api_writer, live_line, static_ip):
    body = body_for(live_line, "static-ip")
    del body["relatedParty"]

    error = post_refused(api_writer, body)

    assert set(error["fieldErrors"]) == {"relatedParty"}


def test_who_may_order_add_ons_for_a_live_line_is_the_clients_scopes(
    make_api_client, api_reader, live_line, static_ip
):
    # Given a read-only client and a create-only one (which reads no order)
    writer_only = make_api_client("create")
    before = row_counts()

    # When each orders a static IP for Jane's line
    refused = api_reader.post(ORDERS, body_for(live_line, "static-ip"), format="json")
    placed = writer_only.post(ORDERS, body_for(live_line, "static-ip"), format="json")

    # Then the read-only client is forbidden and wrote nothing; the create-only one may place
    # the order (as any order) but not read it back
    assert refused.status_code == 403
    assert refused.json()["code"] == "FORBIDDEN"
    assert placed.status_code == 201, placed.json()
    assert row_counts()[0] == before[0] + 1
    assert writer_only.get(placed["Location"]).status_code == 403
