"""TMF622 PATCH of an order's items (tmf.productorder.amend): the full item list as the order
should have it, before the point of no return; re-priced, told to the hub."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from orders.models import Order
from provisioning.models import FulfilmentTask, TaskState
from provisioning.services import fulfilment_start
from tests.factories import (
    PlanFactory,
    RouterOfferingFactory,
    StaticIpOfferingFactory,
    submit_order,
)
from tests.provisioning.running import run_ready
from tests.tmf.product_order_bodies import ORDERS, order_body
from tests.tmf.schema import assert_valid

pytestmark = pytest.mark.django_db


@pytest.fixture
def gigabit(db):
    return PlanFactory(code="fibre-900", name="Fibre 900", download_mbps=900)


@pytest.fixture
def acknowledged(api_all, plan, manual_area):
    """An order just received through the API: its after-commit work has not run."""
    response = api_all.post(ORDERS, order_body(postcode=manual_area.postcode), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def add_on(item_id: str, code: str) -> dict:
    return {
        "id": item_id,
        "action": "add",
        "productOffering": {"id": code},
        "productOrderItemRelationship": [{"id": "1", "relationshipType": "reliesOn"}],
    }


def with_line(order: dict, code: str) -> dict:
    line = dict(order["productOrderItem"][0])
    line["productOffering"] = {"id": code}
    return line


def test_patch_items_upgrades_the_plan_and_adds_a_router_re_priced(
    api_all, acknowledged, gigabit, django_capture_on_commit_callbacks
):
    from tmf.models import EventDelivery

    router = RouterOfferingFactory()
    hub = api_all.post(
        f"{ORDERS.rsplit('/', 1)[0]}/hub", {"callback": "http://127.0.0.1:9/x"}, format="json"
    )
    assert hub.status_code == 201
    # When the CRM sends the items as they should be: Fibre 900 and a router
    body = {
        "productOrderItem": [with_line(acknowledged, "fibre-900"), add_on("router", router.code)]
    }
    with django_capture_on_commit_callbacks(execute=False):
        response = api_all.patch(acknowledged["href"], body, format="json")

    # Then the answer is the order as it now is, conforming, re-priced
    assert response.status_code == 200, response.json()
    answer = response.json()
    assert_valid("TMF622", "ProductOrder", answer)
    offerings = [i["productOffering"]["id"] for i in answer["productOrderItem"]]
    assert offerings == ["fibre-900", router.code]
    assert answer["productOrderItem"][0]["id"] == "1"
    order = Order.objects.get(pk=acknowledged["id"])
    assert order.monthly_price == gigabit.monthly_price + router.monthly_price
    recurring = next(p for p in answer["orderTotalPrice"] if p["priceType"] == "recurring")
    assert recurring["price"]["taxIncludedAmount"]["value"] == float(order.monthly_price)
    # ... and the hub is told the items changed
    [event] = [
        json.loads(d.body)
        for d in EventDelivery.objects.filter(event_type="ProductOrderAttributeValueChangeEvent")
    ]
    assert event["fieldPath"] == "productOrderItem"

    # When the same items are sent back (as the answer has them), nothing changes
    again = api_all.patch(
        acknowledged["href"], {"productOrderItem": answer["productOrderItem"]}, format="json"
    )
    assert again.status_code == 200
    assert Order.objects.get(pk=acknowledged["id"]).version == order.version


def test_patch_items_taking_an_add_on_off(api_all, plan, manual_area):
    ip = StaticIpOfferingFactory()
    body = order_body(postcode=manual_area.postcode)
    body["productOrderItem"].append(add_on("2", ip.code))
    created = api_all.post(ORDERS, body, format="json").json()

    response = api_all.patch(
        created["href"], {"productOrderItem": [created["productOrderItem"][0]]}, format="json"
    )

    assert response.status_code == 200, response.json()
    states = {i["id"]: i["state"] for i in response.json()["productOrderItem"]}
    assert states["2"] == "cancelled"
    assert Order.objects.get(pk=created["id"]).monthly_price == plan.monthly_price


def test_patch_items_past_the_point_of_no_return_is_409_ponr(
    api_all, plan, serviceable_area, gigabit
):
    # Given an order whose line's activation has started
    order = submit_order(plan=plan, area=serviceable_area).order
    fulfilment_start(order.pk)
    run_ready(order, until="1.activate_line")
    FulfilmentTask.objects.filter(order=order, key="1.activate_line").update(
        state=TaskState.RUNNING, started_at=timezone.now()
    )
    current = api_all.get(f"{ORDERS}/{order.pk}").json()

    response = api_all.patch(
        current["href"], {"productOrderItem": [with_line(current, "fibre-900")]}, format="json"
    )

    assert response.status_code == 409
    assert_valid("TMF622", "Error", response.json())
    assert response.json()["code"] == "PONR"
    assert Order.objects.get(pk=order.pk).plan == plan


def test_patch_items_a_combination_the_rules_refuse_is_400_naming_the_item(api_all, acknowledged):
    ip, other = StaticIpOfferingFactory(), StaticIpOfferingFactory()
    body = {
        "productOrderItem": [
            acknowledged["productOrderItem"][0],
            add_on("a", ip.code),
            add_on("b", other.code),
        ]
    }

    response = api_all.patch(acknowledged["href"], body, format="json")

    assert response.status_code == 400, response.json()
    assert_valid("TMF622", "Error", response.json())
    assert "productOrderItem[2]" in response.json()["fieldErrors"]
    assert Order.objects.get(pk=acknowledged["id"]).items.count() == 1


def test_patch_items_an_unknown_offering_or_an_orphan_add_on_is_400_naming_it(
    api_all, acknowledged
):
    ip = StaticIpOfferingFactory()
    orphan = add_on("2", ip.code)
    orphan["productOrderItemRelationship"] = [{"id": "9", "relationshipType": "reliesOn"}]
    body = {"productOrderItem": [with_line(acknowledged, "no-such"), orphan]}

    response = api_all.patch(acknowledged["href"], body, format="json")

    assert response.status_code == 400
    assert set(response.json()["fieldErrors"]) == {
        "productOrderItem[0].productOffering.id",
        "productOrderItem[1].productOrderItemRelationship",
    }


def test_a_read_only_client_cannot_patch_items(api_reader, acknowledged, gigabit):
    response = api_reader.patch(
        acknowledged["href"],
        {"productOrderItem": [with_line(acknowledged, "fibre-900")]},
        format="json",
    )
    assert response.status_code == 403
    assert Order.objects.get(pk=acknowledged["id"]).plan.code == "fibre-500"


def test_patch_items_racing_a_running_task_is_409_conflict(api_all, plan, serviceable_area):
    # Given an order with a static IP whose binding is on the network at this moment
    ip = StaticIpOfferingFactory()
    order = submit_order(plan=plan, add_ons=(ip,), area=serviceable_area).order
    fulfilment_start(order.pk)
    run_ready(order, until="1.activate_line")
    FulfilmentTask.objects.filter(order=order, key="2.bind_address").update(
        state=TaskState.RUNNING, started_at=timezone.now()
    )
    current = api_all.get(f"{ORDERS}/{order.pk}").json()

    # When the CRM takes the static IP off
    response = api_all.patch(
        current["href"], {"productOrderItem": current["productOrderItem"][:1]}, format="json"
    )

    # Then it is a conflict to retry, and nothing changed
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "CONFLICT"
    assert "is running on the network" in response.json()["message"]
    assert Order.objects.get(pk=order.pk).monthly_price == plan.monthly_price + ip.monthly_price
