"""TMF622 cancelProductOrder for a later date: acknowledged until then, carried out on the date
by the due scan (inProgress, done), or terminatedWithError with the reason when the order can no
longer be cancelled by then; every move told to the hub's listeners."""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone

from orders import order_id
from orders.models import Order, ScheduledCancellation
from orders.scheduled_cancellations import (
    order_cancellation_withdraw,
    scheduled_cancellations_carry_out_due,
)
from orders.states import EventSource, OrderStatus
from provisioning.models import FulfilmentTask, TaskState
from provisioning.services import fulfilment_start
from tests.provisioning.running import run_ready
from tests.tmf.product_order_bodies import CANCELS, ORDERS, order_body
from tests.tmf.schema import assert_valid
from tmf.models import EventDelivery

pytestmark = pytest.mark.django_db
SPEC = "TMF622"
STATE_CHANGE = "CancelProductOrderStateChangeEvent"


def _later(days: int = 3) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=days)


@pytest.fixture
def listening(api_all):
    registered = api_all.post(
        f"{ORDERS.rsplit('/', 1)[0]}/hub",
        {"callback": "https://crm.example.com/tmf/events"},
        format="json",
    )
    assert registered.status_code == 201


@pytest.fixture
def received(api_all, plan, manual_area):
    created = api_all.post(ORDERS, order_body(postcode=manual_area.postcode), format="json")
    assert created.status_code == 201
    return created.json()


def _state_changes() -> list[dict]:
    deliveries = EventDelivery.objects.filter(event_type=STATE_CHANGE).order_by("pk")
    return [json.loads(delivery.body) for delivery in deliveries]


def test_a_cancel_for_a_later_date_is_acknowledged_then_done_on_the_date(
    api_all, received, listening
):
    due = _later()

    # When the client asks for the order to be cancelled in three days
    response = api_all.post(
        CANCELS,
        {
            "productOrder": {"id": received["id"]},
            "cancellationReason": "Moving abroad next week.",
            "requestedCancellationDate": due.isoformat(),
        },
        format="json",
    )

    # Then the request is acknowledged, as the official swagger has it, and the order goes on
    assert response.status_code == 201, response.json()
    cancel = response.json()
    assert_valid(SPEC, "CancelProductOrder", cancel)
    assert cancel["state"] == "acknowledged"
    assert "effectiveCancellationDate" not in cancel
    assert api_all.get(received["href"]).json()["state"] != "cancelled"
    assert api_all.get(cancel["href"]).json()["state"] == "acknowledged"

    # When the due scan runs before the date, nothing happens
    assert scheduled_cancellations_carry_out_due() == 0
    assert api_all.get(cancel["href"]).json()["state"] == "acknowledged"

    # When it runs on the date (twice: a beat message delivered twice)
    assert scheduled_cancellations_carry_out_due(now=due) == 1
    assert scheduled_cancellations_carry_out_due(now=due) == 0

    # Then the order is cancelled and the request done, once
    order = api_all.get(received["href"]).json()
    assert order["state"] == "cancelled"
    assert_valid(SPEC, "ProductOrder", order)
    done = api_all.get(cancel["href"]).json()
    assert_valid(SPEC, "CancelProductOrder", done)
    assert done["state"] == "done" and done["effectiveCancellationDate"]
    assert [event["event"]["cancelProductOrder"]["state"] for event in _state_changes()] == [
        "inProgress",
        "done",
    ]


def test_a_cancel_for_a_later_date_past_the_point_of_no_return_by_then_terminates_with_error(
    api_all, plan, serviceable_area, listening
):
    # Given an order in flight with a cancellation scheduled for later
    created = api_all.post(ORDERS, order_body(postcode=serviceable_area.postcode), format="json")
    pk = order_id.normalize(created.json()["id"])
    fulfilment_start(pk)
    run_ready(pk, until="1.activate_line")
    due = _later(1)
    cancel = api_all.post(
        CANCELS,
        {
            "productOrder": {"id": created.json()["id"]},
            "requestedCancellationDate": due.isoformat(),
        },
        format="json",
    ).json()
    assert cancel["state"] == "acknowledged"

    # When the line's activation starts before the date, and the date comes
    FulfilmentTask.objects.filter(order_id=pk, key="1.activate_line").update(
        state=TaskState.RUNNING, started_at=timezone.now()
    )
    scheduled_cancellations_carry_out_due(now=due)

    # Then the order is left alone and the request terminated with the reason on the hub
    assert Order.objects.get(pk=pk).status == OrderStatus.PROVISIONING
    refused = api_all.get(cancel["href"]).json()
    assert_valid(SPEC, "CancelProductOrder", refused)
    assert refused["state"] == "terminatedWithError"
    (event,) = _state_changes()
    assert event["event"]["cancelProductOrder"]["state"] == "terminatedWithError"
    assert "point of no return" in event["description"]


def test_a_second_cancel_for_a_later_date_is_409_naming_the_first(api_all, received):
    first = _later(5)
    api_all.post(
        CANCELS,
        {"productOrder": {"id": received["id"]}, "requestedCancellationDate": first.isoformat()},
        format="json",
    )

    response = api_all.post(
        CANCELS,
        {
            "productOrder": {"id": received["id"]},
            "requestedCancellationDate": _later(7).isoformat(),
        },
        format="json",
    )

    assert response.status_code == 409
    assert_valid(SPEC, "Error", response.json())
    assert response.json()["code"] == "NOT_CANCELLABLE"
    assert "already to be cancelled on" in response.json()["message"]
    assert (
        ScheduledCancellation.objects.filter(order_id=order_id.normalize(received["id"])).count()
        == 1
    )


def test_a_cancel_for_a_later_date_withdrawn_by_staff_terminates_with_error(
    api_all, received, listening, support_user
):
    cancel = api_all.post(
        CANCELS,
        {"productOrder": {"id": received["id"]}, "requestedCancellationDate": _later().isoformat()},
        format="json",
    ).json()

    # When support withdraws it (the customer changed their mind on the phone)
    order_cancellation_withdraw(
        order_id.normalize(received["id"]), actor=support_user, source=EventSource.SUPPORT_PORTAL
    )

    # Then the request ends in error, saying why, and the order goes on
    withdrawn = api_all.get(cancel["href"]).json()
    assert_valid(SPEC, "CancelProductOrder", withdrawn)
    assert withdrawn["state"] == "terminatedWithError"
    (event,) = _state_changes()
    assert "Withdrawn by" in event["description"]
    assert api_all.get(received["href"]).json()["state"] != "cancelled"
