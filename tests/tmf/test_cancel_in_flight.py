"""TMF622 cancelProductOrder for an order in flight: while what its plan did is undone the
request is inProgress and the order pendingCancellation; then done and cancelled, with a
CancelProductOrderStateChangeEvent. Past the point of no return: 409 with code PONR."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from orders import order_id
from provisioning.models import FulfilmentTask, TaskState
from provisioning.services import fulfilment_start
from tests.provisioning.running import held_by_network, run_ready
from tests.tmf.product_order_bodies import CANCELS, ORDERS, order_body
from tests.tmf.schema import assert_valid
from tmf.models import EventDelivery

pytestmark = pytest.mark.django_db
SPEC = "TMF622"


@pytest.fixture
def in_flight(api_all, plan, serviceable_area):
    """An order taken through the API whose tasks are done up to activating the line."""
    created = api_all.post(ORDERS, order_body(postcode=serviceable_area.postcode), format="json")
    assert created.status_code == 201
    pk = order_id.normalize(created.json()["id"])
    fulfilment_start(pk)
    run_ready(pk, until="1.activate_line")
    return created.json()


def test_a_cancel_in_flight_is_in_progress_until_every_undo_is_done(api_all, in_flight):
    # When the client cancels the order in flight
    response = api_all.post(
        CANCELS,
        {"productOrder": {"id": in_flight["id"]}, "cancellationReason": "Moved abroad."},
        format="json",
    )

    # Then the request is in progress and the order pending cancellation
    assert response.status_code == 201
    cancel = response.json()
    assert_valid(SPEC, "CancelProductOrder", cancel)
    assert cancel["state"] == "inProgress"
    assert api_all.get(in_flight["href"]).json()["state"] == "pendingCancellation"

    # When the plan's undos have run
    pk = order_id.normalize(in_flight["id"])
    run_ready(pk)

    # Then nothing is left on the network, the order is cancelled and the request done
    assert held_by_network(pk) == set()
    order = api_all.get(in_flight["href"]).json()
    assert order["state"] == "cancelled"
    assert_valid(SPEC, "ProductOrder", order)
    done = api_all.get(cancel["href"]).json()
    assert done["state"] == "done" and done["effectiveCancellationDate"]
    assert_valid(SPEC, "CancelProductOrder", done)


def test_a_cancel_in_flight_is_told_to_listeners_when_it_is_done(api_all, in_flight):
    # Given a client listening for cancellations changing state
    registered = api_all.post(
        f"{ORDERS.rsplit('/', 1)[0]}/hub",
        {
            "callback": "https://crm.example.com/tmf/events",
            "query": "eventType=CancelProductOrderStateChangeEvent",
        },
        format="json",
    )
    assert registered.status_code == 201
    api_all.post(CANCELS, {"productOrder": {"id": in_flight["id"]}}, format="json")

    # When the undos are done
    run_ready(order_id.normalize(in_flight["id"]))

    # Then it is told once, with the request done
    (delivery,) = EventDelivery.objects.filter(event_type="CancelProductOrderStateChangeEvent")
    event = json.loads(delivery.body)
    assert event["event"]["cancelProductOrder"]["state"] == "done"


def test_past_the_point_of_no_return_the_cancel_is_409_ponr(api_all, in_flight):
    pk = order_id.normalize(in_flight["id"])
    FulfilmentTask.objects.filter(order_id=pk, key="1.activate_line").update(
        state=TaskState.RUNNING, started_at=timezone.now()
    )

    response = api_all.post(CANCELS, {"productOrder": {"id": in_flight["id"]}}, format="json")

    assert response.status_code == 409
    body = response.json()
    assert_valid(SPEC, "Error", body)
    assert body["code"] == "PONR"
    assert "Activate line started at" in body["message"]
    assert api_all.get(in_flight["href"]).json()["state"] == "inProgress"
