"""The back office's view of the APIs (tmf.admin): client systems, listeners, and the delivery
log with its replay action."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.urls import reverse

from orders.models import Order
from tests.factories import UserFactory
from tests.tmf.conftest import ApiCaller
from tests.tmf.hub_listener import Listener, running_listener
from tmf.hub.publish import publish_event
from tmf.models import ApiClient, EventDelivery, HubApi, HubSubscription
from tmf.tasks import deliver_due_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A real HTTP listener on 127.0.0.1 (tests/tmf/hub_listener.py)."""
    yield from running_listener()


CHANGELIST = "admin:tmf_eventdelivery_changelist"


@pytest.fixture
def subscriber(make_api_client: Any) -> ApiCaller:
    return make_api_client("read", "subscribe", name="crm")


def failed_delivery(caller: ApiCaller, callback: str, order: Order, settings: Any) -> EventDelivery:
    settings.TMF_HUB_MAX_ATTEMPTS = 1
    response = caller.post(
        "/tmf-api/productOrderingManagement/v4/hub", {"callback": callback}, format="json"
    )
    assert response.status_code == 201
    with transaction.atomic():
        publish_event(
            api=HubApi.PRODUCT_ORDERING,
            event_type="ProductOrderStateChangeEvent",
            resource_name="productOrder",
            resource={"id": order.pk, "state": "inProgress"},
            order=order,
        )
    deliver_due_events()
    delivery = EventDelivery.objects.get()
    assert delivery.status == EventDelivery.Status.FAILED
    return delivery


def replay_post(client: Any, *deliveries: EventDelivery) -> Any:
    return client.post(
        reverse(CHANGELIST),
        {"action": "replay", "_selected_action": [str(row.pk) for row in deliveries]},
        follow=True,
    )


def test_the_delivery_log_lists_and_shows_deliveries_with_their_tries(
    admin_client, subscriber, listener, submitted_order, settings
):
    listener.default = 500
    delivery = failed_delivery(subscriber, listener.url, submitted_order, settings)

    page = admin_client.get(reverse(CHANGELIST))
    assert page.status_code == 200
    html = page.content.decode()
    assert "ProductOrderStateChangeEvent" in html
    assert submitted_order.display_id in html
    assert listener.url in html
    assert "Failed (gave up)" in html
    assert "Replay selected deliveries" in html

    detail = admin_client.get(reverse("admin:tmf_eventdelivery_change", args=[delivery.pk]))
    assert detail.status_code == 200
    html = detail.content.decode()
    assert delivery.event_id in html
    assert "&quot;eventType&quot;: &quot;ProductOrderStateChangeEvent&quot;" in html
    assert "HTTP 500" in html  # the try, inline
    assert "Save" not in html  # read-only

    filtered = admin_client.get(reverse(CHANGELIST), {"status__exact": "delivered"})
    assert filtered.context["cl"].result_count == 0
    assert page.context["cl"].result_count == 1


def test_replay_action_queues_and_delivers(
    admin_client,
    subscriber,
    listener,
    submitted_order,
    settings,
    django_capture_on_commit_callbacks,
):
    listener.default = 500
    delivery = failed_delivery(subscriber, listener.url, submitted_order, settings)
    listener.default = 200

    with django_capture_on_commit_callbacks(execute=True):
        response = replay_post(admin_client, delivery)

    assert response.status_code == 200
    assert "1 delivery queued for replay." in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == EventDelivery.Status.DELIVERED
    last = delivery.tries.last()
    assert last is not None and last.replay
    assert listener.delivered[-1].body == delivery.body.encode()


def test_replay_skips_deliveries_of_an_unregistered_listener(
    admin_client,
    subscriber,
    listener,
    submitted_order,
    settings,
    django_capture_on_commit_callbacks,
):
    listener.default = 500
    delivery = failed_delivery(subscriber, listener.url, submitted_order, settings)
    HubSubscription.objects.update(deleted_at=delivery.created_at)
    sent_before = len(listener.received)

    with django_capture_on_commit_callbacks(execute=True):
        response = replay_post(admin_client, delivery)

    html = response.content.decode()
    assert "0 deliveries queued for replay." in html
    assert "the listener was unregistered" in html
    assert len(listener.received) == sent_before
    delivery.refresh_from_db()
    assert delivery.status == EventDelivery.Status.FAILED


def test_only_holders_of_change_permission_may_replay(
    client,
    subscriber,
    listener,
    submitted_order,
    settings,
    django_capture_on_commit_callbacks,
):
    listener.default = 500
    delivery = failed_delivery(subscriber, listener.url, submitted_order, settings)
    listener.default = 200
    viewer = UserFactory(username="hub-viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_eventdelivery"))
    client.force_login(viewer)

    page = client.get(reverse(CHANGELIST))
    assert page.status_code == 200
    assert "Replay selected deliveries" not in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        replay_post(client, delivery)
    delivery.refresh_from_db()
    assert delivery.status == EventDelivery.Status.FAILED

    viewer.user_permissions.add(Permission.objects.get(codename="change_eventdelivery"))
    with django_capture_on_commit_callbacks(execute=True):
        response = replay_post(client, delivery)
    assert "1 delivery queued for replay." in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == EventDelivery.Status.DELIVERED


def test_staff_without_tmf_permissions_do_not_see_the_log(client, lead_user):
    client.force_login(lead_user)

    assert client.get(reverse(CHANGELIST)).status_code == 403


def test_api_clients_show_scopes_and_hint_but_never_the_token(admin_client, subscriber):
    row = ApiClient.objects.get(name="crm")

    page = admin_client.get(reverse("admin:tmf_apiclient_changelist"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "crm" in html
    assert row.token_hint in html
    assert "create_api_client" in html  # where tokens come from
    assert row.token_hash not in html
    assert subscriber.token not in html

    detail = admin_client.get(reverse("admin:tmf_apiclient_change", args=[row.pk]))
    assert detail.status_code == 200
    assert row.token_hash not in detail.content.decode()
    assert admin_client.get(reverse("admin:tmf_apiclient_add")).status_code == 403


def test_an_api_client_can_be_deactivated_from_the_admin(admin_client, subscriber):
    row = ApiClient.objects.get(name="crm")

    response = admin_client.post(
        reverse("admin:tmf_apiclient_change", args=[row.pk]),
        {"scopes": ["read"], "is_active": ""},
    )

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.scopes == ["read"]
    assert row.is_active is False
    assert subscriber.get("/tmf-api/productOrderingManagement/v4/hub").status_code == 401


def test_listeners_are_listed_without_their_secret(admin_client, subscriber):
    response = subscriber.post(
        "/tmf-api/productOrderingManagement/v4/hub",
        {
            "callback": "https://crm.example.com/events",
            "query": "eventType=ProductOrderCreateEvent",
        },
        format="json",
    )
    secret = response.json()["secret"]
    listener_id = response.json()["id"]

    page = admin_client.get(reverse("admin:tmf_hubsubscription_changelist"))
    html = page.content.decode()
    assert "https://crm.example.com/events" in html
    assert secret not in html
    detail = admin_client.get(reverse("admin:tmf_hubsubscription_change", args=[listener_id]))
    assert detail.status_code == 200
    assert secret not in detail.content.decode()
    unregistered = admin_client.get(
        reverse("admin:tmf_hubsubscription_changelist"), {"registered": "deleted"}
    )
    assert unregistered.context["cl"].result_count == 0
    assert page.context["cl"].result_count == 1
