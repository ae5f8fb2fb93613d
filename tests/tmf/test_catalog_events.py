"""Catalogue changes reach the TMF620 hub: a CRM or billing system listening there learns of a
new plan, a plan taken off sale, a new price and a changed product specification, signed like
every notification."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from orders.models import LifecycleStatus, ProductKind, ProductSpecification
from tests.factories import PlanFactory, RouterOfferingFactory
from tests.tmf.conftest import TMF620, TMF622
from tests.tmf.hub_listener import Listener, running_listener
from tests.tmf.schema import assert_valid
from tmf.hub.publish import signature_valid
from tmf.models import EventDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener() -> Iterator[Listener]:
    yield from running_listener()


@pytest.fixture
def catalog_secret(make_api_client: Any, listener: Listener) -> str:
    billing = make_api_client("read", "subscribe", name="billing")
    response = billing.post(f"{TMF620}/hub", {"callback": listener.url}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["secret"]


def test_a_new_plan_a_new_price_and_retirement_are_published_on_the_catalog_hub(
    catalog_secret, listener, django_capture_on_commit_callbacks
):
    # When the ISP's staff add a plan, then change its price, then take it off sale
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        plan = PlanFactory(code="fibre-2000", name="Fibre 2000", monthly_price=Decimal("65.00"))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        plan.monthly_price = Decimal("59.00")
        plan.save()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        plan.is_active = False
        plan.save()

    # Then the catalogue's listener got each, in order, with the resource as TMF620 shows it
    events = [item.event for item in listener.delivered]
    assert [e["eventType"] for e in events] == [
        "ProductOfferingCreateEvent",
        "ProductOfferingPriceCreateEvent",
        "ProductOfferingPriceAttributeValueChangeEvent",
        "ProductOfferingStateChangeEvent",
    ]
    assert events[0]["event"]["productOffering"]["id"] == "fibre-2000"
    assert events[2]["event"]["productOfferingPrice"]["price"] == {"unit": "GBP", "value": 59.0}
    assert events[3]["event"]["productOffering"]["lifecycleStatus"] == "Retired"
    # signed with the listener's secret
    for item in listener.delivered:
        assert signature_valid(catalog_secret, item.body, item.headers["X-Signature-256"])


def test_saving_a_plan_unchanged_publishes_nothing_and_other_hubs_hear_nothing(
    make_api_client, listener, django_capture_on_commit_callbacks
):
    # Given a plan, and a listener on the ORDERING hub only
    plan = PlanFactory(code="fibre-300")
    crm = make_api_client("read", "subscribe", name="crm")
    assert crm.post(f"{TMF622}/hub", {"callback": listener.url}, format="json").status_code == 201
    # When the plan is saved with no change, and then given a new price
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        plan.save()
        plan.monthly_price = plan.monthly_price + 1
        plan.save()
    # Then nothing reaches the ordering hub's listener: catalogue events go to the catalogue hub
    assert listener.received == []


def test_specification_changes_are_published_on_the_catalog_hub(
    catalog_secret, listener, django_capture_on_commit_callbacks
):
    # When staff add a specification, put it on sale, change its characteristics, and then
    # change only its fulfilment plan (which TMF620 does not show)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        spec = ProductSpecification.objects.create(
            code="ipv6-block",
            name="IPv6 /56 block",
            kind=ProductKind.STATIC_IP,
            parent_kind=ProductKind.INTERNET_ACCESS,
            customer_label="IPv6 block",
            lifecycle_status=LifecycleStatus.IN_DESIGN,
            fulfilment_plan=[{"task": "allocate_address"}],
        )
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        spec.lifecycle_status = LifecycleStatus.LAUNCHED
        spec.save()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        spec.characteristics = [{"name": "prefixLength", "valueType": "integer", "values": [56]}]
        spec.version = "1.1"
        spec.save()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        spec.fulfilment_plan = [{"task": "allocate_address"}, {"task": "bind_address"}]
        spec.save()

    # Then the listener got one event for each visible change, with the specification as
    # TMF620 shows it at that moment
    events = [item.event for item in listener.delivered]
    assert [e["eventType"] for e in events] == [
        "ProductSpecificationCreateEvent",
        "ProductSpecificationStateChangeEvent",
        "ProductSpecificationAttributeValueChangeEvent",
    ]
    shown = [e["event"]["productSpecification"] for e in events]
    assert [s["lifecycleStatus"] for s in shown] == ["In design", "Launched", "Launched"]
    assert shown[2]["version"] == "1.1"
    assert shown[2]["productSpecCharacteristic"][0]["name"] == "prefixLength"
    assert shown[0]["productSpecificationRelationship"][0]["id"] == "internet-access"
    assert_valid("TMF620", "ProductSpecificationCreateEvent", events[0])
    for item in listener.delivered:
        assert signature_valid(catalog_secret, item.body, item.headers["X-Signature-256"])


def test_a_specification_change_rolled_back_publishes_nothing(
    catalog_secret, listener, django_capture_on_commit_callbacks
):
    spec = ProductSpecification.objects.get(code="managed-router")

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        spec.lifecycle_status = LifecycleStatus.RETIRED
        spec.save()
        raise RuntimeError("the admin's save failed after the row was written")

    assert listener.received == []
    assert not EventDelivery.objects.exists()


def test_a_router_offering_publishes_its_one_time_price_too(
    catalog_secret, listener, django_capture_on_commit_callbacks
):
    # When staff add a router offering with a fee, change the fee, then waive it
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        router = RouterOfferingFactory(code="router-ax", one_time_price=Decimal("49.00"))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        router.one_time_price = Decimal("39.00")
        router.save()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        router.one_time_price = Decimal("0.00")
        router.save()

    # Then both of its prices are announced, the new fee, and the fee's removal
    events = [item.event for item in listener.delivered]
    assert [
        (e["eventType"], e["event"].get("productOfferingPrice", {}).get("id")) for e in events
    ] == [
        ("ProductOfferingCreateEvent", None),
        ("ProductOfferingPriceCreateEvent", "router-ax-monthly"),
        ("ProductOfferingPriceCreateEvent", "router-ax-one-time"),
        ("ProductOfferingPriceAttributeValueChangeEvent", "router-ax-one-time"),
        ("ProductOfferingPriceDeleteEvent", "router-ax-one-time"),
    ]
    assert events[3]["event"]["productOfferingPrice"]["price"]["value"] == 39.0
    # the fee waived: the price is gone, and the listener is told which one it was
    assert events[4]["event"]["productOfferingPrice"]["price"]["value"] == 39.0
    assert events[0]["event"]["productOffering"]["productSpecification"]["id"] == ("managed-router")
