"""Delivering notifications to a real HTTP listener that is down, failing or slow to come back:
retries with growing delays, the due sweep, giving up, replay (tmf.hub.delivery, tmf.tasks).

Time is driven by moving ``next_attempt_at`` into the past, never by sleeping.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from orders.models import Order, OutboxMessage
from orders.outbox import outbox_dispatch_due
from tests.tmf.conftest import TMF622, ApiCaller
from tests.tmf.hub_listener import Listener, running_listener
from tmf.hub.delivery import Result, deliveries_replay, delivery_send, retry_delay
from tmf.hub.publish import publish_event, signature_valid
from tmf.models import DeliveryAttempt, EventDelivery, HubApi
from tmf.tasks import deliver_due_events, deliver_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A real HTTP listener on 127.0.0.1 (tests/tmf/hub_listener.py)."""
    yield from running_listener()


CREATE_ONLY = "eventType=ProductOrderCreateEvent"


@pytest.fixture
def subscriber(make_api_client: Any) -> ApiCaller:
    return make_api_client("read", "subscribe", name="crm")


def register(caller: ApiCaller, callback: str, **extra: Any) -> dict[str, Any]:
    response = caller.post(f"{TMF622}/hub", {"callback": callback, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def make_due(delivery: EventDelivery) -> None:
    """As if the wait before the next try were over."""
    EventDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )


# The wait is counted from the end of a try, which is recorded a moment after the answer came
# (a busy machine makes that moment longer): allow for it rather than race it.
RECORD_SLACK_SECONDS = 1.0


def wait_of(delivery: EventDelivery) -> float:
    """Seconds between the end of the last try and the next one."""
    assert delivery.last_attempt_at is not None
    last_try = delivery.tries.order_by("-attempted_at", "-pk").first()
    assert last_try is not None
    ended_at = delivery.last_attempt_at + datetime.timedelta(milliseconds=last_try.duration_ms)
    return (delivery.next_attempt_at - ended_at).total_seconds()


def publish_quietly(order: Order, event_type: str = "ProductOrderStateChangeEvent") -> None:
    """Publish and commit (as far as a test can) without the after-commit send: as if the
    broker had been down when the transaction committed."""
    with transaction.atomic():
        publish_event(
            api=HubApi.PRODUCT_ORDERING,
            event_type=event_type,
            resource_name="productOrder",
            resource={"id": order.pk},
            order=order,
        )


def test_the_next_try_is_work_on_record_sent_by_the_outbox_when_due(
    subscriber,
    listener,
    place_order,
    plan,
    serviceable_area,
    settings,
    django_capture_on_commit_callbacks,
):
    # Given a listener that is down when an event is first sent
    settings.TMF_HUB_RETRY_BASE_SECONDS = 10
    register(subscriber, listener.url, query=CREATE_ONLY)
    listener.down()
    order = place_order(plan=plan, area=serviceable_area, email="pat@example.com")
    delivery = EventDelivery.objects.get(order=order)
    # Then the first try's message is done, and the next try is a message of its own, on
    # record, waiting for its time (no sweep has to find the delivery)
    tries = OutboxMessage.objects.filter(task_name="tmf.deliver_event", order=order).order_by("pk")
    assert [m.state for m in tries] == ["completed", "waiting"]
    next_try = tries[1]
    assert next_try.kwargs["delivery_id"] == delivery.pk
    assert abs((next_try.not_before - delivery.next_attempt_at).total_seconds()) < 1
    assert outbox_dispatch_due() == 0  # not due yet
    # When its time comes and the listener is back
    listener.up()
    make_due(delivery)
    OutboxMessage.objects.filter(pk=next_try.pk).update(not_before=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_dispatch_due() == 1
    # Then the outbox's due dispatcher alone delivers it
    delivery.refresh_from_db()
    assert delivery.status == EventDelivery.Status.DELIVERED
    next_try.refresh_from_db()
    assert next_try.state == "completed"


def test_a_listener_that_is_down_then_failing_gets_the_event_in_the_end(
    subscriber, listener, place_order, plan, serviceable_area, settings
):
    settings.TMF_HUB_RETRY_BASE_SECONDS = 10
    settings.TMF_HUB_MAX_ATTEMPTS = 5
    registration = register(subscriber, listener.url, query=CREATE_ONLY)
    listener.down()

    # Try 1, at once after commit: connection refused.
    order = place_order(plan=plan, area=serviceable_area, email="pat@example.com")
    delivery = EventDelivery.objects.get(order=order)
    assert delivery.status == EventDelivery.Status.PENDING
    assert delivery.attempts == 1
    assert delivery.last_status_code is None
    assert delivery.last_error
    assert 9 <= wait_of(delivery) <= 10 + RECORD_SLACK_SECONDS

    # Not due yet: the sweep leaves it alone.
    deliver_due_events()
    delivery.refresh_from_db()
    assert delivery.attempts == 1

    # Try 2: the listener is back but answers 500.
    listener.up()
    listener.answers = [500]
    make_due(delivery)
    deliver_due_events()
    delivery.refresh_from_db()
    assert delivery.status == EventDelivery.Status.PENDING
    assert delivery.attempts == 2
    assert delivery.last_status_code == 500
    assert "500" in delivery.last_error
    assert 18 <= wait_of(delivery) <= 20 + RECORD_SLACK_SECONDS

    # Try 3: 503, the wait grows again.
    listener.answers = [503]
    make_due(delivery)
    deliver_due_events()
    delivery.refresh_from_db()
    assert delivery.attempts == 3
    assert 36 <= wait_of(delivery) <= 40 + RECORD_SLACK_SECONDS

    # Try 4: taken.
    make_due(delivery)
    assert deliver_due_events() == 1

    delivery.refresh_from_db()
    assert delivery.status == EventDelivery.Status.DELIVERED
    assert delivery.delivered_at is not None
    tries = list(delivery.tries.all())
    assert [attempt.status_code for attempt in tries] == [None, 500, 503, 200]
    assert tries[0].error
    assert not any(attempt.replay for attempt in tries)
    [received] = listener.delivered
    assert received.headers["X-Delivery-Attempt"] == "4"
    assert received.body == delivery.body.encode()
    assert received.event["event"]["productOrder"]["id"] == order.pk
    assert signature_valid(
        registration["secret"], received.body, received.headers["X-Signature-256"]
    )
    # Every try sent the same notification.
    assert {item.body for item in listener.received} == {received.body}


def test_a_listener_that_never_answers_well_is_given_up_and_replay_delivers(
    subscriber,
    listener,
    place_order,
    plan,
    serviceable_area,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.TMF_HUB_MAX_ATTEMPTS = 3
    register(subscriber, listener.url, query=CREATE_ONLY)
    listener.default = 502

    order = place_order(plan=plan, area=serviceable_area, email="pat@example.com")
    delivery = EventDelivery.objects.get(order=order)
    for _ in range(2):
        make_due(delivery)
        deliver_due_events()
    delivery.refresh_from_db()
    assert delivery.status == EventDelivery.Status.FAILED
    assert delivery.attempts == 3
    assert len(listener.received) == 3

    # Failed is final for the sweep.
    make_due(delivery)
    deliver_due_events()
    assert len(listener.received) == 3

    # The listener is fixed; a person replays the delivery.
    listener.default = 204
    with django_capture_on_commit_callbacks(execute=True):
        outcome = deliveries_replay([delivery.pk])

    assert outcome.queued == 1
    delivery.refresh_from_db()
    assert delivery.status == EventDelivery.Status.DELIVERED
    assert delivery.attempts == 4
    last = delivery.tries.last()
    assert last is not None
    assert last.replay is True
    assert last.status_code == 204
    assert listener.received[-1].headers["X-Delivery-Attempt"] == "4"
    assert listener.received[-1].body == listener.received[0].body


def test_a_replay_that_fails_again_goes_back_to_failed(
    subscriber, listener, submitted_order, settings, django_capture_on_commit_callbacks
):
    settings.TMF_HUB_MAX_ATTEMPTS = 1
    register(subscriber, listener.url)
    listener.default = 500
    publish_quietly(submitted_order)
    deliver_due_events()
    delivery = EventDelivery.objects.get()
    assert delivery.status == EventDelivery.Status.FAILED

    with django_capture_on_commit_callbacks(execute=True):
        deliveries_replay([delivery.pk])

    delivery.refresh_from_db()
    assert delivery.status == EventDelivery.Status.FAILED
    assert [attempt.replay for attempt in delivery.tries.all()] == [False, True]


def test_retry_delays_double_up_to_the_cap(settings):
    settings.TMF_HUB_RETRY_BASE_SECONDS = 10
    settings.TMF_HUB_RETRY_MAX_SECONDS = 100

    waits = [retry_delay(attempts).total_seconds() for attempts in range(1, 8)]

    expected = [10, 20, 40, 80, 100, 100, 100]
    for wait, full in zip(waits, expected, strict=True):
        assert 0.9 * full <= wait <= full


def test_the_sweep_sends_what_the_broker_never_took_oldest_first(
    subscriber, listener, submitted_order
):
    register(subscriber, listener.url)
    publish_quietly(submitted_order, "ProductOrderCreateEvent")
    publish_quietly(submitted_order, "ProductOrderStateChangeEvent")
    assert listener.received == []

    assert deliver_due_events() == 2

    assert listener.event_types() == ["ProductOrderCreateEvent", "ProductOrderStateChangeEvent"]
    assert set(EventDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_the_sweep_stops_at_a_failing_listeners_first_failure(
    make_api_client, listener, submitted_order
):
    register(make_api_client("read", "subscribe", name="down"), "http://127.0.0.1:9/never")
    register(make_api_client("read", "subscribe", name="up"), listener.url)
    publish_quietly(submitted_order, "ProductOrderCreateEvent")
    publish_quietly(submitted_order, "ProductOrderStateChangeEvent")

    deliver_due_events()

    to_down = EventDelivery.objects.filter(subscription__client__name="down").order_by("id")
    # The older one was tried and failed; the newer one waits behind it, untried.
    assert [row.attempts for row in to_down] == [1, 0]
    # Other listeners are not held back.
    assert listener.event_types() == ["ProductOrderCreateEvent", "ProductOrderStateChangeEvent"]


def test_a_listener_that_comes_back_gets_its_backlog_at_once(
    subscriber, listener, submitted_order, django_capture_on_commit_callbacks
):
    register(subscriber, listener.url)
    listener.down()
    for event_type in ("ProductOrderCreateEvent", "ProductOrderStateChangeEvent"):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            publish_event(
                api=HubApi.PRODUCT_ORDERING,
                event_type=event_type,
                resource_name="productOrder",
                resource={"id": submitted_order.pk},
                order=submitted_order,
            )
    waiting = EventDelivery.objects.filter(status="pending")
    assert waiting.count() == 2
    assert all(row.next_attempt_at > timezone.now() for row in waiting)

    listener.up()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        publish_event(
            api=HubApi.PRODUCT_ORDERING,
            event_type="ProductOrderInformationRequiredEvent",
            resource_name="productOrder",
            resource={"id": submitted_order.pk},
            order=submitted_order,
        )

    # Nothing waits out its backoff once the listener answers; the backlog goes oldest first.
    assert not EventDelivery.objects.exclude(status="delivered").exists()
    assert listener.event_types() == [
        "ProductOrderInformationRequiredEvent",
        "ProductOrderCreateEvent",
        "ProductOrderStateChangeEvent",
    ]


def test_a_delivery_is_sent_once_however_many_times_it_is_asked(
    subscriber, listener, submitted_order
):
    register(subscriber, listener.url)
    publish_quietly(submitted_order)
    delivery = EventDelivery.objects.get()

    # A duplicate task message, the sweep and another worker all ask for the same delivery.
    assert deliver_event(delivery_id=delivery.pk) == "delivered"
    assert deliver_event(delivery_id=delivery.pk) == "skipped"
    assert deliver_due_events() == 0
    assert delivery_send(delivery.pk) is Result.SKIPPED

    assert len(listener.received) == 1
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 1


def test_a_delivery_being_sent_is_not_taken_by_a_second_worker(
    subscriber, listener, submitted_order
):
    from tmf.hub import delivery as hub_delivery

    register(subscriber, listener.url)
    publish_quietly(submitted_order)
    row = EventDelivery.objects.get()

    claim = hub_delivery._claim(row.pk)  # worker 1 claimed it and is sending
    assert claim is not None

    assert delivery_send(row.pk) is Result.SKIPPED  # worker 2
    assert deliver_due_events() == 0  # the sweep
    assert deliveries_replay([row.pk]).in_flight == 1  # a person
    assert listener.received == []
    row.refresh_from_db()
    assert row.attempts == 1


def test_a_slow_listener_times_out_and_is_retried(subscriber, submitted_order, settings):
    import socket

    settings.TMF_HUB_TIMEOUT_SECONDS = 0.3
    # Accepts connections (the kernel's backlog) but never answers.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    try:
        register(subscriber, f"http://127.0.0.1:{silent.getsockname()[1]}/events")
        publish_quietly(submitted_order)

        assert deliver_due_events() == 0
    finally:
        silent.close()

    delivery = EventDelivery.objects.get()
    assert delivery.status == EventDelivery.Status.PENDING
    assert delivery.attempts == 1
    assert "No answer" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()


def test_redirects_are_not_followed(subscriber, listener, submitted_order):
    register(subscriber, listener.url)
    listener.answers = [302]
    publish_quietly(submitted_order)

    deliver_due_events()

    delivery = EventDelivery.objects.get()
    assert delivery.status == EventDelivery.Status.PENDING
    assert delivery.last_status_code == 302
    assert len(listener.received) == 1


def test_delivery_task_survives_a_listener_url_that_cannot_be_sent_to(subscriber, submitted_order):
    registration = register(subscriber, "http://127.0.0.1:9/events")
    # A row edited by hand into something requests cannot use.
    from tmf.models import HubSubscription

    HubSubscription.objects.filter(pk=registration["id"]).update(callback="http://[::1/x")
    publish_quietly(submitted_order)

    assert deliver_due_events() == 0

    delivery = EventDelivery.objects.get()
    assert delivery.status == EventDelivery.Status.PENDING
    assert delivery.attempts == 1
    assert delivery.last_error
