"""A client chooses where our worker sends notifications, so the hub refuses callbacks in the
networks TMF_HUB_BLOCKED_NETWORKS lists (cloud metadata, loopback in production), when the
listener registers and again before each delivery."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from tests.tmf.conftest import TMF622
from tmf.hub.delivery import deliveries_send_due
from tmf.hub.publish import publish_event
from tmf.models import DeliveryAttempt, EventDelivery, HubApi

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscriber(make_api_client):
    return make_api_client("read", "subscribe", name="crm")


def test_a_callback_on_the_metadata_service_is_refused_at_registration(subscriber):
    response = subscriber.post(
        f"{TMF622}/hub", {"callback": "http://169.254.169.254/latest/meta-data"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert "169.254.169.254" in body["fieldErrors"]["callback"]
    assert "TMF_HUB_BLOCKED_NETWORKS" in body["message"]


def test_loopback_is_refused_where_the_setting_lists_it(subscriber, settings):
    # Given production's list, which adds loopback
    settings.TMF_HUB_BLOCKED_NETWORKS = [*settings.TMF_HUB_BLOCKED_NETWORKS, "127.0.0.0/8"]
    response = subscriber.post(
        f"{TMF622}/hub", {"callback": "http://localhost:8000/admin"}, format="json"
    )
    assert response.status_code == 400
    assert "127.0.0.1" in response.json()["fieldErrors"]["callback"]


def test_a_listener_whose_address_became_blocked_is_not_called(
    subscriber, settings, django_capture_on_commit_callbacks
):
    # Given a listener registered on loopback while that was allowed
    registered = subscriber.post(
        f"{TMF622}/hub", {"callback": "http://127.0.0.1:9/listener"}, format="json"
    )
    assert registered.status_code == 201
    # When loopback is blocked and an event is due for it
    settings.TMF_HUB_BLOCKED_NETWORKS = ["127.0.0.0/8"]
    with transaction.atomic():
        [delivery] = publish_event(
            api=HubApi.PRODUCT_ORDERING,
            event_type="ProductOrderCreateEvent",
            resource_name="productOrder",
            resource={"id": "X"},
        )
    deliveries_send_due()
    # Then the worker refused to send it: a failed try saying why, nothing sent
    delivery = EventDelivery.objects.get(pk=delivery.pk)
    assert delivery.status == EventDelivery.Status.PENDING
    [attempt] = DeliveryAttempt.objects.filter(delivery=delivery)
    assert attempt.status_code is None
    assert "TMF_HUB_BLOCKED_NETWORKS" in attempt.error
    assert json.loads(delivery.body)["eventType"] == "ProductOrderCreateEvent"
