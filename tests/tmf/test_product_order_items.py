"""TMF622 multi-item orders as a CRM integrator sees them: a line and its add-ons in one
productOrder, each item's own state, price and product in every answer, and a combination that
cannot be ordered refused naming the item and the rule."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from inventory.models import Product
from orders.models import Order, OrderItem, Technology
from provisioning.models import ExceptionCase
from provisioning.services import exception_case_cancel_item
from tests.factories import (
    PlanFactory,
    RouterOfferingFactory,
    ServiceAreaFactory,
    StaticIpOfferingFactory,
)
from tests.tmf.conftest import TMF622
from tests.tmf.hub_listener import running_listener
from tests.tmf.product_order_bodies import (
    ORDERS,
    add_on_item,
    item,
    items_by_id,
    multi_item_body,
    order_body,
    post_refused,
)

pytestmark = pytest.mark.django_db

PRODUCT_HREF = "/tmf-api/productInventory/v4/product/"
NO_STATIC_IP = [{"when": {}, "step": "allocate_address", "error": "ADDRESS_POOL_EXHAUSTED"}]


@pytest.fixture
def static_ip(db: None) -> Any:
    return StaticIpOfferingFactory(code="static-ip", name="Static IP")


@pytest.fixture
def router(db: None) -> Any:
    return RouterOfferingFactory(code="router-fritz", name="Fritz!Box 5590")


def _money(price: dict[str, Any]) -> tuple[str, str | None, float]:
    amount = price["price"]["taxIncludedAmount"]
    assert amount["unit"] == "GBP"
    return price["priceType"], price.get("recurringChargePeriod"), amount["value"]


def test_a_line_with_a_static_ip_and_a_router_is_one_order_of_three_items(
    api_writer, plan, static_ip, router, manual_area
):
    body = multi_item_body(postcode=manual_area.postcode, add_ons=("static-ip", "router-fritz"))

    response = api_writer.post(ORDERS, body, format="json")

    assert response.status_code == 201, response.json()
    created = response.json()
    items = items_by_id(created)
    assert list(items) == ["1", "2", "3"]
    assert {entry["state"] for entry in items.values()} == {"acknowledged"}
    assert items["2"]["productOffering"]["id"] == "static-ip"
    assert items["3"]["productOffering"]["name"] == "Fritz!Box 5590"
    assert items["3"]["productOffering"]["href"].endswith("/productOffering/router-fritz")
    for add_on in ("2", "3"):
        assert items[add_on]["productOrderItemRelationship"] == [
            {"id": "1", "relationshipType": "reliesOn", "@type": "OrderItemRelationship"}
        ]
        assert "place" not in items[add_on]["product"]
    assert "productOrderItemRelationship" not in items["1"]
    assert items["1"]["product"]["place"][0]["postcode"] == "IV1 1AA"
    # Prices as ordered, per item and in total: per month, and the router's one-time fee.
    assert [_money(p) for p in items["1"]["itemPrice"]] == [("recurring", "month", 35.0)]
    assert [_money(p) for p in items["2"]["itemPrice"]] == [("recurring", "month", 5.0)]
    assert [_money(p) for p in items["3"]["itemPrice"]] == [
        ("recurring", "month", 3.0),
        ("oneTime", None, 49.0),
    ]
    assert [_money(p) for p in created["orderTotalPrice"]] == [
        ("recurring", "month", 43.0),
        ("oneTime", None, 49.0),
    ]
    # The ISP's records hold the same order: three items, the add-ons on the line.
    order = Order.objects.get(pk=created["id"])
    assert (order.monthly_price, order.one_time_price) == (Decimal("43.00"), Decimal("49.00"))
    rows = list(OrderItem.objects.filter(order=order).order_by("position"))
    assert [(row.item_id, row.offering.code) for row in rows] == [
        ("1", "fibre-500"),
        ("2", "static-ip"),
        ("3", "router-fritz"),
    ]
    assert rows[1].parent == rows[0] and rows[2].parent == rows[0]
    assert api_writer.get(created["href"]).json() == created


def test_the_clients_own_item_ids_are_kept_and_related(api_writer, plan, static_ip, manual_area):
    body = order_body(postcode=manual_area.postcode)
    item(body)["id"] = "line-A"
    body["productOrderItem"].append(add_on_item("ip-B", "static-ip", relies_on="line-A"))

    created = api_writer.post(ORDERS, body, format="json").json()

    items = items_by_id(created)
    assert set(items) == {"line-A", "ip-B"}
    assert items["ip-B"]["productOrderItemRelationship"][0]["id"] == "line-A"


def test_a_completed_order_names_each_items_installed_product(
    api_writer, plan, static_ip, router, serviceable_area, django_capture_on_commit_callbacks
):
    body = multi_item_body(
        postcode=serviceable_area.postcode, add_ons=("static-ip", "router-fritz")
    )
    with django_capture_on_commit_callbacks(execute=True):
        created = api_writer.post(ORDERS, body, format="json").json()

    fetched = api_writer.get(created["href"]).json()

    assert fetched["state"] == "completed"
    for item_id, entry in items_by_id(fetched).items():
        assert entry["state"] == "completed"
        product = Product.objects.get(order_id=created["id"], order_item__item_id=item_id)
        assert entry["product"]["id"] == str(product.pk)
        assert entry["product"]["href"].endswith(f"{PRODUCT_HREF}{product.pk}")
        assert entry["product"]["href"].startswith("http")


def test_a_failed_add_on_holds_its_item_and_the_order(
    api_writer, plan, static_ip, serviceable_area, settings, django_capture_on_commit_callbacks
):
    settings.NETWORK_SIMULATOR_RULES = NO_STATIC_IP
    body = multi_item_body(postcode=serviceable_area.postcode, add_ons=("static-ip",))
    with django_capture_on_commit_callbacks(execute=True):
        created = api_writer.post(ORDERS, body, format="json").json()

    fetched = api_writer.get(created["href"]).json()

    assert fetched["state"] == "held"
    items = items_by_id(fetched)
    assert items["2"]["state"] == "held"
    assert items["1"]["state"] != "completed"
    assert "id" not in items["2"]["product"]


def test_an_add_on_cancelled_from_its_case_leaves_a_partial_order(
    api_writer,
    plan,
    static_ip,
    router,
    serviceable_area,
    settings,
    lead_user,
    django_capture_on_commit_callbacks,
):
    # Given a three-item order whose static IP cannot be delivered
    settings.NETWORK_SIMULATOR_RULES = NO_STATIC_IP
    body = multi_item_body(
        postcode=serviceable_area.postcode, add_ons=("static-ip", "router-fritz")
    )
    with django_capture_on_commit_callbacks(execute=True):
        created = api_writer.post(ORDERS, body, format="json").json()
    case = ExceptionCase.objects.get(order_id=created["id"])

    # When the lead cancels that item from the case
    with django_capture_on_commit_callbacks(execute=True):
        exception_case_cancel_item(
            case,
            item=OrderItem.objects.get(order_id=created["id"], item_id="2"),
            acting_user=lead_user,
            reason="Address pool empty for weeks.",
        )

    # Then the order is partial: the line and the router delivered, the static IP cancelled
    fetched = api_writer.get(created["href"]).json()
    assert fetched["state"] == "partial"
    items = items_by_id(fetched)
    assert {key: entry["state"] for key, entry in items.items()} == {
        "1": "completed",
        "2": "cancelled",
        "3": "completed",
    }
    assert "id" not in items["2"]["product"] and items["3"]["product"]["id"]
    listed = api_writer.get(ORDERS, {"state": "partial"}).json()
    assert [entry["id"] for entry in listed] == [created["id"]]


def test_orders_are_found_by_an_add_ons_offering(api_writer, plan, static_ip, manual_area):
    with_ip = api_writer.post(
        ORDERS,
        multi_item_body(postcode=manual_area.postcode, add_ons=("static-ip",)),
        format="json",
    ).json()
    api_writer.post(
        ORDERS, order_body(postcode=manual_area.postcode, street="2 Plain Road"), format="json"
    )

    found = api_writer.get(ORDERS, {"productOrderItem.productOffering.id": "static-ip"}).json()
    lines = api_writer.get(ORDERS, {"productOrderItem.productOffering.id": "fibre-500"}).json()

    assert [entry["id"] for entry in found] == [with_ip["id"]]
    assert len(lines) == 2


def test_a_multi_item_order_echoed_back_in_a_patch_is_accepted(
    api_writer, plan, static_ip, manual_area
):
    created = api_writer.post(
        ORDERS,
        multi_item_body(postcode=manual_area.postcode, add_ons=("static-ip",)),
        format="json",
    ).json()
    changed = {**created, "externalId": "crm-9"}
    dropped = {"productOrderItem": created["productOrderItem"][:1]}

    accepted = api_writer.patch(created["href"], changed, format="json")
    # Leaving the static IP out takes it off (tmf.productorder.amend)
    taken_off = api_writer.patch(created["href"], dropped, format="json")

    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["externalId"] == "crm-9"
    assert taken_off.status_code == 200, taken_off.json()
    assert [i["state"] for i in taken_off.json()["productOrderItem"]][1] == "cancelled"


# --- combinations that cannot be ordered: a 400 naming the item and the rule ----------------
def _line_and(*add_ons: dict[str, Any], postcode: str = "IV1 1AA") -> dict[str, Any]:
    body = order_body(postcode=postcode)
    body["productOrderItem"] += list(add_ons)
    return body


def test_an_add_on_without_a_line_is_refused(api_writer, plan, router, manual_area):
    body = order_body(postcode=manual_area.postcode, offering="router-fritz")

    error = post_refused(api_writer, body)

    assert error["fieldErrors"]["productOrderItem"].startswith(
        "An order needs an internet access item"
    )
    assert "reliesOn" in error["fieldErrors"]["productOrderItem[0]"]
    assert "Item 1:" in error["message"]


@pytest.mark.parametrize(
    ("add_ons", "path", "words"),
    [
        (
            [add_on_item("2", "static-ip", relies_on="9")],
            "productOrderItem[1]",
            "relies on item 9, which is not on this order",
        ),
        (
            [add_on_item("2", "static-ip"), add_on_item("3", "router-fritz", relies_on="2")],
            "productOrderItem[2]",
            "must rely on an internet access item; item 2 is Static IP",
        ),
        (
            [add_on_item("2", "static-ip", relies_on=None)],
            "productOrderItem[1]",
            "is an add-on: it must rely on the order's internet access item",
        ),
        (
            [{**add_on_item("2", "static-ip"), "quantity": 2}],
            "productOrderItem[1]",
            "Quantity must be 1",
        ),
        (
            [add_on_item("2", "static-ip"), add_on_item("3", "static-ip")],
            "productOrderItem[2]",
            "Only one static ipv4 address per line",
        ),
    ],
    ids=["unknown-item", "on-an-add-on", "no-relationship", "quantity", "twice"],
)
def test_a_combination_that_cannot_be_ordered_is_refused_naming_the_item_and_the_rule(
    api_writer, plan, static_ip, router, manual_area, add_ons, path, words
):
    error = post_refused(api_writer, _line_and(*add_ons, postcode=manual_area.postcode))

    assert error["code"] == "INVALID_VALUE"
    assert set(error["fieldErrors"]) == {path}
    assert words in error["fieldErrors"][path]
    item_id = add_ons[-1]["id"]
    assert f"Item {item_id}: " in error["message"]


def test_a_router_that_does_not_suit_the_areas_network_is_refused(api_writer, router):
    PlanFactory(code="fibre-50", name="Fibre 50", download_mbps=50)
    area = ServiceAreaFactory(postcode="CB1 1AA", technology=Technology.FTTC, max_download_mbps=80)
    body = order_body(postcode=area.postcode, offering="fibre-50")
    body["productOrderItem"].append(add_on_item("2", "router-fritz"))

    error = post_refused(api_writer, body)

    assert set(error["fieldErrors"]) == {"productOrderItem[1]"}
    assert (
        "does not suit the network at this address" in error["fieldErrors"]["productOrderItem[1]"]
    )
    assert "Item 2: Fritz!Box 5590 does not suit" in error["message"]


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (
            {"productOffering": {"id": "gold-ip"}},
            "productOrderItem[1].productOffering.id",
            "No product offering 'gold-ip'",
        ),
        ({"action": "modify"}, "productOrderItem[1].action", "Only 'add'"),
        (
            {"productOrderItemRelationship": [{"id": "1", "relationshipType": "bundled"}]},
            "productOrderItem[1].productOrderItemRelationship[0].relationshipType",
            "Only 'reliesOn'",
        ),
        (
            {
                "productOrderItemRelationship": [
                    {"id": "1", "relationshipType": "reliesOn"},
                    {"id": "3", "relationshipType": "reliesOn"},
                ]
            },
            "productOrderItem[1].productOrderItemRelationship",
            "At most 1",
        ),
    ],
    ids=["unknown-offering", "action", "relationship-type", "two-parents"],
)
def test_a_malformed_add_on_is_refused_naming_its_attribute_and_the_item(
    api_writer, plan, static_ip, manual_area, change, path, words
):
    body = _line_and({**add_on_item("2", "static-ip"), **change}, postcode=manual_area.postcode)

    error = post_refused(api_writer, body)

    assert set(error["fieldErrors"]) == {path}
    assert error["fieldErrors"][path].startswith("Item 2: ")
    assert words in error["fieldErrors"][path]


# --- the hub --------------------------------------------------------------------------------
@pytest.fixture
def listener() -> Any:
    yield from running_listener()


def test_the_hub_tells_of_each_item_and_of_a_partial_order(
    make_api_client,
    api_writer,
    listener,
    plan,
    static_ip,
    serviceable_area,
    settings,
    lead_user,
    django_capture_on_commit_callbacks,
):
    # Given a listener on the TMF622 hub, and a two-item order whose static IP fails
    subscriber = make_api_client("read", "subscribe", name="crm")
    registered = subscriber.post(f"{TMF622}/hub", {"callback": listener.url}, format="json")
    assert registered.status_code == 201, registered.content
    settings.NETWORK_SIMULATOR_RULES = NO_STATIC_IP
    body = multi_item_body(postcode=serviceable_area.postcode, add_ons=("static-ip",))
    with django_capture_on_commit_callbacks(execute=True):
        created = api_writer.post(ORDERS, body, format="json").json()

    # When the lead drops the static IP
    with django_capture_on_commit_callbacks(execute=True):
        exception_case_cancel_item(
            ExceptionCase.objects.get(order_id=created["id"]),
            item=OrderItem.objects.get(order_id=created["id"], item_id="2"),
            acting_user=lead_user,
            reason="No address to give.",
        )

    # Then the create event carried both items, and the last state change the partial order
    events = [received.event for received in listener.delivered]
    first = events[0]["event"]["productOrder"]
    assert events[0]["eventType"] == "ProductOrderCreateEvent"
    assert {key: entry["state"] for key, entry in items_by_id(first).items()} == {
        "1": "acknowledged",
        "2": "acknowledged",
    }
    last = events[-1]
    assert last["eventType"] == "ProductOrderStateChangeEvent"
    final = last["event"]["productOrder"]
    assert final["state"] == "partial"
    assert {key: entry["state"] for key, entry in items_by_id(final).items()} == {
        "1": "completed",
        "2": "cancelled",
    }
    assert items_by_id(final)["1"]["product"]["href"].startswith(settings.SITE_URL)
