"""Defects found in review: each test shows what an integrator, a security reviewer or an
operator would have hit."""

from __future__ import annotations

import pytest
from django.db import transaction

from orders.models import Order
from tests.tmf.conftest import TMF622, TMF679
from tests.tmf.product_order_bodies import ORDERS, order_body
from tmf.hub.delivery import deliveries_send_due
from tmf.hub.publish import publish_event
from tmf.models import DeliveryAttempt, EventDelivery, HubApi, HubSubscription

pytestmark = pytest.mark.django_db

DEEP_ARRAY = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 5000 + "1" + "}" * 5000


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
@pytest.mark.parametrize(
    "path",
    [
        f"{TMF622}/productOrder",
        f"{TMF622}/cancelProductOrder",
        f"{TMF622}/hub",
        f"{TMF679}/productOfferingQualification",
    ],
)
def test_deeply_nested_json_is_a_400_not_a_500(api_all, path, body):
    response = api_all.post(path, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "MALFORMED_BODY"


def test_deeply_nested_merge_patch_is_a_400_not_a_500(api_all, plan, manual_area):
    order = api_all.post(ORDERS, order_body(postcode=manual_area.postcode), format="json")
    assert order.status_code == 201
    response = api_all.patch(
        order.json()["href"],
        data=DEEP_OBJECT,
        content_type="application/merge-patch+json",
    )
    assert response.status_code == 400


@pytest.fixture
def subscriber(make_api_client):
    return make_api_client("read", "subscribe", name="crm")


@pytest.mark.parametrize(
    "callback",
    [
        # IPv4-mapped IPv6: a dual-stack socket connects to 169.254.169.254 itself
        "http://[::ffff:169.254.169.254]/latest/meta-data",
        "http://[::ffff:a9fe:a9fe]/latest/meta-data",
        # the IPv6 unspecified address reaches this host, as 0.0.0.0 does
        "http://[::]:8000/admin",
    ],
)
def test_a_blocked_network_cannot_be_reached_through_its_ipv6_spelling(subscriber, callback):
    response = subscriber.post(f"{TMF622}/hub", {"callback": callback}, format="json")
    assert response.status_code == 400, response.json()
    assert "TMF_HUB_BLOCKED_NETWORKS" in response.json()["fieldErrors"]["callback"]


def _publish() -> list[EventDelivery]:
    with transaction.atomic():
        return publish_event(
            api=HubApi.PRODUCT_ORDERING,
            event_type="ProductOrderCreateEvent",
            resource_name="productOrder",
            resource={"id": "X"},
        )


def _register(caller) -> HubSubscription:
    response = caller.post(
        f"{TMF622}/hub", {"callback": "http://listener.example/events"}, format="json"
    )
    assert response.status_code == 201
    return HubSubscription.objects.get(pk=response.json()["id"])


@pytest.mark.parametrize("revoke", ["deactivate", "drop_subscribe", "drop_read"])
def test_a_revoked_client_gets_no_new_events(subscriber, revoke):
    _register(subscriber)
    client = subscriber.client_row
    if revoke == "deactivate":
        client.is_active = False
    else:
        client.scopes = ["subscribe"] if revoke == "drop_read" else ["read"]
    client.save()

    assert _publish() == []


def test_listening_needs_the_read_scope_too(make_api_client):
    # Events carry whole orders (customer, address): a client that may not read orders may not
    # receive them by subscribing either
    listener_only = make_api_client("subscribe", name="feed")
    response = listener_only.post(
        f"{TMF622}/hub", {"callback": "http://127.0.0.1:9/x"}, format="json"
    )
    assert response.status_code == 403
    assert "'read'" in response.json()["message"]
    assert not HubSubscription.objects.exists()


def test_a_client_revoked_after_an_event_was_queued_is_not_sent_it(
    subscriber, django_capture_on_commit_callbacks
):
    _register(subscriber)
    with django_capture_on_commit_callbacks(execute=False):
        [delivery] = _publish()
    subscriber.client_row.is_active = False
    subscriber.client_row.save()

    deliveries_send_due()

    delivery.refresh_from_db()
    assert delivery.status == EventDelivery.Status.FAILED
    assert not DeliveryAttempt.objects.filter(delivery=delivery).exists()


def test_the_longest_idempotency_key_allowed_places_and_replays_the_order(
    api_all, plan, manual_area
):
    # The API takes keys of up to 200 characters; the order's own idempotency key (200
    # characters in the database) must still hold it, else PostgreSQL refuses the write (500).
    key = "k" * 200
    body = order_body(postcode=manual_area.postcode)
    first = api_all.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = api_all.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert first.status_code == 201, first.json()
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    stored = Order.objects.get(pk=first.json()["id"]).idempotency_key
    assert len(stored) <= Order._meta.get_field("idempotency_key").max_length


def test_a_duplicate_names_the_existing_order_only_to_a_client_that_may_read_it(
    make_api_client, plan, manual_area
):
    body = order_body(postcode=manual_area.postcode)
    writer = make_api_client("create", name="web-shop")
    first = writer.post(ORDERS, body, format="json")
    assert first.status_code == 201
    # A create-only client is told there is an open order, not which
    refused = writer.post(ORDERS, body, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "DUPLICATE_ORDER"
    assert first.json()["id"] not in refused.json()["message"]
    # A client that may read orders is told which, to follow it
    reader = make_api_client("read", "create", name="crm")
    named = reader.post(ORDERS, body, format="json")
    assert first.json()["id"] in named.json()["message"]
