"""Catalogue changes reach the TMF620 hub: a CRM or billing system listening there learns of a
new plan, a plan taken off sale and a new price, signed like every notification."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from tests.factories import PlanFactory
from tests.tmf.conftest import TMF620, TMF622
from tests.tmf.hub_listener import Listener, running_listener
from tmf.hub.publish import signature_valid

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
