"""TMF622 v5's ProductOrderMilestoneEvent and ProductOrderJeopardyAlertEvent, delivered on the
hub to a real listener, each valid against the official v5 document; and the jeopardy alerts
on the order itself (productOrderJeopardyAlert)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest

from orders.jeopardy import jeopardy_scan
from orders.models import Order
from orders.states import OrderStatus
from tests.factories import submit_order
from tests.tmf.conftest import TMF622
from tests.tmf.hub_listener import Listener, running_listener
from tests.tmf.schema import assert_each_valid, assert_valid

pytestmark = pytest.mark.django_db
V5 = "TMF622v5"
MILESTONE = "ProductOrderMilestoneEvent"
JEOPARDY = "ProductOrderJeopardyAlertEvent"


@pytest.fixture
def listener() -> Iterator[Listener]:
    yield from running_listener()


@pytest.fixture
def subscriber(make_api_client):
    return make_api_client("read", "subscribe", name="crm")


def register(subscriber, listener: Listener, query: str) -> None:
    response = subscriber.post(
        f"{TMF622}/hub", {"callback": listener.url, "query": query}, format="json"
    )
    assert response.status_code == 201, response.content


def test_each_milestone_reached_is_a_v5_milestone_event(
    subscriber, listener, place_order, plan, serviceable_area
):
    register(subscriber, listener, f"eventType={MILESTONE}")

    order = place_order(plan=plan, area=serviceable_area, email="pat@example.com")

    assert order.status == OrderStatus.COMPLETED
    assert listener.event_types() and set(listener.event_types()) == {MILESTONE}
    reached = []
    for item in listener.delivered:
        envelope = item.event
        assert_valid(V5, MILESTONE, envelope)
        assert envelope["@type"] == MILESTONE
        payload = envelope["event"]["productOrder"]
        assert payload["id"] == order.pk
        assert_each_valid(V5, "ProductOrderMilestone", payload["productOrderMilestone"])
        reached += [m["name"] for m in payload["productOrderMilestone"]]
        assert {m["status"] for m in payload["productOrderMilestone"]} == {"Completed"}
    # every milestone once, the line's among them
    assert sorted(reached) == sorted(set(reached))
    assert {"Order accepted", "Provisioning started", "Billing started", "Order completed"} <= set(
        reached
    )
    assert any(name.startswith("Item 1 active") for name in reached)


def test_a_jeopardy_raised_is_a_v5_jeopardy_alert_event_and_shows_on_the_order(
    subscriber,
    api_reader,
    listener,
    plan,
    serviceable_area,
    lead_user,
    django_capture_on_commit_callbacks,
):
    register(subscriber, listener, f"eventType={JEOPARDY}")
    order = Order.objects.get(pk=submit_order(plan=plan, area=serviceable_area).order.pk)

    with django_capture_on_commit_callbacks(execute=True):
        jeopardy_scan(now=order.submitted_at + datetime.timedelta(minutes=61))

    [received] = listener.delivered
    assert_valid(V5, JEOPARDY, received.event)
    [alert] = received.event["event"]["productOrder"]["productOrderJeopardyAlert"]
    assert_valid(V5, "ProductOrderJeopardyAlert", alert)
    assert alert["jeopardyType"] == "Late" and alert["exception"] == "Order accepted"
    assert "Now expected by" in alert["message"]

    # and the order read through the API carries it
    read = api_reader.get(f"{TMF622}/productOrder/{order.pk}").json()
    [shown] = read["productOrderJeopardyAlert"]
    assert_valid(V5, "ProductOrderJeopardyAlert", shown)
    assert shown["id"] == alert["id"] and shown["jeopardyType"] == "Late"


def test_a_listener_for_everything_is_not_sent_v5_only_events(
    subscriber, listener, place_order, plan, serviceable_area
):
    # A v4 listener registered with no query: every v4 event, none of v5's own
    response = subscriber.post(f"{TMF622}/hub", {"callback": listener.url}, format="json")
    assert response.status_code == 201

    place_order(plan=plan, area=serviceable_area, email="pat@example.com")

    assert "ProductOrderStateChangeEvent" in listener.event_types()
    assert MILESTONE not in listener.event_types()
