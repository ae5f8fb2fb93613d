"""The event hub as an integrator meets it: registering listeners on /hub, and the signed
ProductOrder notifications that real orders send them (tmf.hub.views, tmf.hub.publish,
tmf.hub.query, tmf.receivers)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction

from orders.models import Order
from orders.services import order_cancel
from orders.states import EventSource, OrderStatus
from tests.tmf.conftest import TMF620, TMF622, TMF679, ApiCaller
from tests.tmf.hub_listener import Listener, running_listener
from tmf.hub.publish import publish_event, signature, signature_valid
from tmf.hub.query import InvalidQuery, parse_query
from tmf.models import DeletedProductOrder, EventDelivery, HubApi, HubSubscription
from tmf.receivers import order_event_types

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A real HTTP listener on 127.0.0.1 (tests/tmf/hub_listener.py)."""
    yield from running_listener()


ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
CREATE = "ProductOrderCreateEvent"
STATE_CHANGE = "ProductOrderStateChangeEvent"
INFO_REQUIRED = "ProductOrderInformationRequiredEvent"


def register(caller: ApiCaller, callback: str, base: str = TMF622, **extra: Any) -> dict[str, Any]:
    response = caller.post(f"{base}/hub", {"callback": callback, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def subscriber(make_api_client: Any) -> ApiCaller:
    return make_api_client("read", "subscribe", name="crm")


# --- registering ---------------------------------------------------------------------------------
def test_register_answers_201_with_location_and_a_secret_shown_only_once(subscriber):
    response = subscriber.post(
        f"{TMF622}/hub", {"callback": "https://crm.example.com/tmf/events"}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert body["callback"] == "https://crm.example.com/tmf/events"
    assert body["query"] == ""
    assert len(body["secret"]) >= 16
    assert response["Location"] == f"http://testserver{TMF622}/hub/{body['id']}"
    shown = subscriber.get(response["Location"])
    assert shown.status_code == 200
    assert shown.json() == {"id": body["id"], "callback": body["callback"], "query": ""}
    listed = subscriber.get(f"{TMF622}/hub").json()
    assert [item["id"] for item in listed] == [body["id"]]
    assert "secret" not in json.dumps(listed)
    assert HubSubscription.objects.get(pk=body["id"]).secret == body["secret"]


def test_register_with_own_secret_uses_it_and_does_not_echo_it(subscriber):
    body = register(subscriber, "http://127.0.0.1:9/cb", secret="correct horse battery staple")

    assert "secret" not in body
    assert HubSubscription.objects.get(pk=body["id"]).secret == "correct horse battery staple"


def test_each_api_has_its_own_hub(subscriber):
    on_679 = register(subscriber, "https://crm.example.com/pq", base=TMF679)
    on_620 = register(subscriber, "https://crm.example.com/cat", base=TMF620)

    assert HubSubscription.objects.get(pk=on_679["id"]).api == HubApi.QUALIFICATION
    assert HubSubscription.objects.get(pk=on_620["id"]).api == HubApi.CATALOG
    # A listener is found only on the hub it was registered with.
    assert subscriber.get(f"{TMF622}/hub/{on_679['id']}").status_code == 404
    assert subscriber.delete(f"{TMF622}/hub/{on_679['id']}").status_code == 404


def test_hub_needs_the_subscribe_scope(api_writer, subscriber):
    listener_id = register(subscriber, "https://crm.example.com/e")["id"]

    refused = api_writer.post(f"{TMF622}/hub", {"callback": "https://x.example/e"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["@type"] == "Error"
    assert refused.json()["status"] == "403"
    assert api_writer.get(f"{TMF622}/hub/{listener_id}").status_code == 403
    assert api_writer.delete(f"{TMF622}/hub/{listener_id}").status_code == 403
    assert HubSubscription.objects.filter(deleted_at__isnull=True).count() == 1


def test_hub_without_a_token_is_401(client):
    response = client.post(
        f"{TMF622}/hub", {"callback": "https://x.example/e"}, content_type="application/json"
    )

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] == "UNAUTHORIZED"
    assert not HubSubscription.objects.exists()


def test_another_clients_listener_is_not_found(subscriber, make_api_client):
    listener_id = register(subscriber, "https://crm.example.com/e")["id"]
    other = make_api_client("read", "subscribe", name="billing-system")

    assert other.get(f"{TMF622}/hub/{listener_id}").status_code == 404
    assert other.delete(f"{TMF622}/hub/{listener_id}").status_code == 404
    assert other.get(f"{TMF622}/hub").json() == []
    assert HubSubscription.objects.get(pk=listener_id).deleted_at is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "callback"),
        ({"callback": ""}, "callback"),
        ({"callback": 42}, "callback"),
        ({"callback": ["https://x.example"]}, "callback"),
        ({"callback": "ftp://files.example.com/in"}, "callback"),
        ({"callback": "crm.example.com/events"}, "callback"),
        ({"callback": "http://"}, "callback"),
        ({"callback": "http://[::1/events"}, "callback"),
        ({"callback": "https://user:pw@crm.example.com/e"}, "callback"),
        ({"callback": "https://crm.example.com/e", "query": 7}, "query"),
        ({"callback": "https://crm.example.com/e", "query": "eventType"}, "query"),
        ({"callback": "https://crm.example.com/e", "query": "eventType="}, "query"),
        ({"callback": "https://crm.example.com/e", "query": "event..state=x"}, "query"),
        ({"callback": "https://crm.example.com/e", "query": "eventType=OrderShipped"}, "query"),
        ({"callback": "https://crm.example.com/e", "secret": "short"}, "secret"),
        ({"callback": "https://crm.example.com/e", "secret": 1234567890123456789}, "secret"),
    ],
)
def test_invalid_registration_is_a_400_naming_the_attribute(subscriber, body, field):
    response = subscriber.post(f"{TMF622}/hub", body, format="json")

    assert response.status_code == 400
    error = response.json()
    assert error["@type"] == "Error"
    assert error["status"] == "400"
    assert field in error["fieldErrors"]
    assert not HubSubscription.objects.exists()


@pytest.mark.parametrize("meta", [None, ["EventSubscriptionInput"], 7, "E" * 121])
def test_a_registration_whose_type_is_not_short_text_is_a_400_naming_it(subscriber, meta):
    # Given a registration whose @type is null, a list, a number or 121 characters
    body = {"callback": "https://crm.example.com/e", "@type": meta}

    # When it is posted, then it is refused naming @type, and nothing is registered
    response = subscriber.post(f"{TMF622}/hub", body, format="json")

    assert response.status_code == 400
    assert set(response.json()["fieldErrors"]) == {"@type"}
    assert not HubSubscription.objects.exists()


def test_a_registration_sent_as_merge_patch_is_a_415_naming_the_content_type(subscriber):
    # Given a valid registration labelled as a JSON merge patch
    body = json.dumps({"callback": "https://crm.example.com/e"})

    # When it is posted, then it is refused as the wrong media type, naming the header
    response = subscriber.post(f"{TMF622}/hub", body, content_type="application/merge-patch+json")

    assert response.status_code == 415
    assert set(response.json()["fieldErrors"]) == {"Content-Type"}
    assert not HubSubscription.objects.exists()


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"https://crm.example.com/e"', b"null"])
def test_a_body_that_is_no_json_object_is_a_400(subscriber, raw):
    response = subscriber.post(f"{TMF622}/hub", raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["@type"] == "Error"
    assert not HubSubscription.objects.exists()


def test_delete_is_204_and_the_listener_gets_no_more_events(
    subscriber, listener, place_order, plan, serviceable_area
):
    listener_id = register(subscriber, listener.url)["id"]

    response = subscriber.delete(f"{TMF622}/hub/{listener_id}")
    assert response.status_code == 204
    # Empty, and declared JSON as the swaggers' "produces" says of every answer
    assert (response.content, response["Content-Type"]) == (b"", "application/json; charset=utf-8")
    assert subscriber.delete(f"{TMF622}/hub/{listener_id}").status_code == 404
    assert subscriber.get(f"{TMF622}/hub/{listener_id}").status_code == 404
    place_order(plan=plan, area=serviceable_area, email="after@example.com")

    assert listener.received == []
    assert HubSubscription.objects.get(pk=listener_id).deleted_at is not None


def test_deliveries_stay_in_the_log_and_stop_when_the_listener_is_unregistered(
    subscriber, listener, submitted_order
):
    listener_id = register(subscriber, listener.url)["id"]
    with transaction.atomic():  # published, but its transaction's after-commit work never runs
        [delivery] = publish_event(
            api=HubApi.PRODUCT_ORDERING,
            event_type=STATE_CHANGE,
            resource_name="productOrder",
            resource={"id": submitted_order.pk},
            order=submitted_order,
        )
    subscriber.delete(f"{TMF622}/hub/{listener_id}")

    from tmf.tasks import deliver_due_events

    deliver_due_events()

    delivery.refresh_from_db()
    assert listener.received == []
    assert delivery.status == EventDelivery.Status.FAILED
    assert "unregistered" in delivery.last_error


# --- what a listener receives from real orders --------------------------------------------------
def test_an_order_sends_create_then_state_changes_to_completed_signed(
    subscriber, listener, place_order, plan, serviceable_area
):
    registration = register(subscriber, listener.url)

    order = place_order(plan=plan, area=serviceable_area, email="pat@example.com")

    assert order.status == OrderStatus.COMPLETED
    assert listener.event_types() == [CREATE, STATE_CHANGE, STATE_CHANGE]
    states = [item.event["event"]["productOrder"]["state"] for item in listener.delivered]
    assert states == ["acknowledged", "inProgress", "completed"]
    for item in listener.delivered:
        assert item.event["event"]["productOrder"]["id"] == order.pk
        assert item.headers["Content-Type"] == "application/json"
        assert item.headers["X-Event-Id"] == item.event["eventId"]
        assert item.headers["X-Event-Type"] == item.event["eventType"]
        assert item.headers["X-Delivery-Attempt"] == "1"
        assert signature_valid(registration["secret"], item.body, item.headers["X-Signature-256"])
        tampered = item.body.replace(b"completed", b"cancelled").replace(
            b"acknowledged", b"rejected"
        )
        assert tampered != item.body
        assert not signature_valid(
            registration["secret"], tampered, item.headers["X-Signature-256"]
        )
        assert not signature_valid(
            "another-listeners-secret", item.body, item.headers["X-Signature-256"]
        )
    # The log holds exactly the bytes that were sent.
    logged = EventDelivery.objects.filter(order=order).order_by("created_at", "id")
    assert [row.body.encode() for row in logged] == [item.body for item in listener.delivered]
    assert {row.status for row in logged} == {EventDelivery.Status.DELIVERED}


def test_the_envelope_is_tmf_v4(subscriber, listener, place_order, plan, serviceable_area):
    register(subscriber, listener.url, query="eventType=ProductOrderCreateEvent")

    order = place_order(plan=plan, area=serviceable_area, email="pat@example.com")

    [received] = listener.delivered
    envelope = received.event
    assert uuid.UUID(envelope["eventId"]).version == 4
    assert envelope["eventType"] == CREATE
    assert ISO_Z.match(envelope["eventTime"])
    assert envelope["timeOcurred"] == envelope["eventTime"]  # sic: the v4 spelling
    assert "timeOccurred" not in envelope
    assert envelope["title"] == "Product order create"
    assert order.pk in envelope["description"]
    assert envelope["domain"] == HubApi.PRODUCT_ORDERING
    assert list(envelope["event"]) == ["productOrder"]
    product_order = envelope["event"]["productOrder"]
    assert product_order["id"] == order.pk
    assert product_order["href"] == f"{settings.SITE_URL}{TMF622}/productOrder/{order.pk}"
    assert product_order["@type"] == "ProductOrder"
    assert "fieldPath" not in envelope


def test_an_order_whose_activation_fails_asks_for_information(
    subscriber, listener, place_order, plan, faulty_area
):
    register(subscriber, listener.url)

    order = place_order(plan=plan, area=faulty_area, email="held@example.com")

    assert order.status == OrderStatus.EXCEPTION
    assert listener.event_types() == [CREATE, STATE_CHANGE, STATE_CHANGE, INFO_REQUIRED]
    held = listener.delivered[-1].event
    assert held["event"]["productOrder"]["state"] == "held"
    assert listener.delivered[-2].event["event"]["productOrder"]["state"] == "held"


def test_internal_moves_within_in_progress_are_no_tmf_state_change(
    subscriber, listener, place_order, plan, serviceable_area
):
    register(subscriber, listener.url, query="eventType=ProductOrderStateChangeEvent")

    order = place_order(plan=plan, area=serviceable_area, email="pat@example.com")

    # provisioning -> activated happened, but both are inProgress for TMF622.
    assert order.events.filter(to_status=OrderStatus.ACTIVATED).exists()
    states = [item.event["event"]["productOrder"]["state"] for item in listener.delivered]
    assert states == ["inProgress", "completed"]


@pytest.mark.parametrize(
    ("from_status", "to_status", "expected"),
    [
        ("", OrderStatus.SUBMITTED, [CREATE]),
        (OrderStatus.SUBMITTED, OrderStatus.PROVISIONING, [STATE_CHANGE]),
        (OrderStatus.AWAITING_MANUAL, OrderStatus.PROVISIONING, []),
        (OrderStatus.PROVISIONING, OrderStatus.ACTIVATED, []),
        (OrderStatus.PROVISIONING, OrderStatus.EXCEPTION, [STATE_CHANGE, INFO_REQUIRED]),
        (OrderStatus.EXCEPTION, OrderStatus.PROVISIONING, [STATE_CHANGE]),
        (OrderStatus.SUBMITTED, OrderStatus.CANCELLED, [STATE_CHANGE]),
    ],
)
def test_which_status_changes_are_published(from_status, to_status, expected):
    assert order_event_types(from_status, to_status) == expected


def test_an_order_deleted_through_the_api_publishes_nothing(
    subscriber, listener, submitted_order, django_capture_on_commit_callbacks
):
    register(subscriber, listener.url)
    DeletedProductOrder.objects.create(order=submitted_order, client=subscriber.client_row)

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(submitted_order.pk, actor=None, reason="Gone", source=EventSource.API)

    assert Order.objects.get(pk=submitted_order.pk).status == OrderStatus.CANCELLED
    assert listener.received == []
    assert not EventDelivery.objects.exists()


def test_nothing_is_sent_for_a_change_that_rolls_back(subscriber, listener, submitted_order):
    register(subscriber, listener.url)

    with pytest.raises(RuntimeError, match="boom"), transaction.atomic():
        publish_event(
            api=HubApi.PRODUCT_ORDERING,
            event_type=STATE_CHANGE,
            resource_name="productOrder",
            resource={"id": submitted_order.pk},
        )
        raise RuntimeError("boom")

    assert not EventDelivery.objects.exists()
    assert listener.received == []


@pytest.mark.django_db(transaction=True)
def test_publish_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        publish_event(
            api=HubApi.PRODUCT_ORDERING,
            event_type=CREATE,
            resource_name="productOrder",
            resource={},
        )


def test_publish_works_for_any_event_and_resource(
    subscriber, listener, submitted_order, django_capture_on_commit_callbacks
):
    registration = register(subscriber, listener.url)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        publish_event(
            api=HubApi.PRODUCT_ORDERING,
            event_type="CancelProductOrderCreateEvent",
            resource_name="cancelProductOrder",
            resource={"id": "c1", "state": "acknowledged"},
            order=submitted_order,
            description="Cancellation requested.",
            field_path="cancellationReason",
        )

    [received] = listener.delivered
    assert received.event["eventType"] == "CancelProductOrderCreateEvent"
    assert received.event["event"] == {"cancelProductOrder": {"id": "c1", "state": "acknowledged"}}
    assert received.event["fieldPath"] == "cancellationReason"
    assert received.headers["X-Signature-256"] == signature(registration["secret"], received.body)


# --- choosing events with a query ---------------------------------------------------------------
def test_listeners_get_only_the_events_their_query_selects(
    make_api_client, listener, place_order, plan, serviceable_area, manual_area
):
    crm = make_api_client("read", "subscribe", name="crm")
    billing = make_api_client("read", "subscribe", name="billing-feed")
    register(crm, listener.url + "?who=crm", query="eventType=ProductOrderCreateEvent")
    register(
        billing,
        listener.url + "?who=billing",
        query="eventType=ProductOrderStateChangeEvent&event.productOrder.state=completed,cancelled",
    )

    done = place_order(plan=plan, area=serviceable_area, email="done@example.com")
    place_order(plan=plan, area=manual_area, email="waiting@example.com")

    by_listener: dict[str, list[tuple[str, str]]] = {}
    for item in listener.delivered:
        order = item.event["event"]["productOrder"]
        by_listener.setdefault(item.path, []).append((item.event["eventType"], order["id"]))
    assert len(by_listener["/events?who=crm"]) == 2
    assert {event_type for event_type, _ in by_listener["/events?who=crm"]} == {CREATE}
    assert by_listener["/events?who=billing"] == [(STATE_CHANGE, done.pk)]


def test_query_matching():
    envelope = {
        "eventType": STATE_CHANGE,
        "event": {
            "productOrder": {
                "state": "completed",
                "productOrderItem": [
                    {"productOffering": {"id": "fibre-100"}, "quantity": 1},
                    {"productOffering": {"id": "fibre-500"}, "quantity": 2},
                ],
            }
        },
    }

    def matches(query: str) -> bool:
        return parse_query(query, api=HubApi.PRODUCT_ORDERING).matches(envelope)

    assert matches("")
    assert matches("?eventType=ProductOrderStateChangeEvent")
    assert matches("eventType=ProductOrderCreateEvent,ProductOrderStateChangeEvent")
    assert matches("eventType=ProductOrderCreateEvent&eventType=ProductOrderStateChangeEvent")
    assert not matches("eventType=ProductOrderCreateEvent")
    assert matches("event.productOrder.state=completed&eventType=ProductOrderStateChangeEvent")
    assert not matches("event.productOrder.state=held&eventType=ProductOrderStateChangeEvent")
    assert matches("event.productOrder.productOrderItem.productOffering.id=fibre-500")
    assert not matches("event.productOrder.productOrderItem.productOffering.id=fibre-900")
    assert matches("event.productOrder.productOrderItem.quantity=2")
    assert not matches("event.productOrder.missing=x")
    with pytest.raises(InvalidQuery):
        parse_query("eventType=ProductOrderCreateEvent&", api=HubApi.PRODUCT_ORDERING)
    with pytest.raises(InvalidQuery, match="Unknown event type"):
        parse_query("eventType=ProductOrderCreateEvent", api=HubApi.CATALOG)
