"""orders.live_push: open pages are told of a change once, after it commits, never before."""

from __future__ import annotations

import pytest
from django.db import transaction

from orders import live_push
from orders.models import OrderEvent
from orders.services import order_confirm_manual_activation
from orders.states import EventSource, OrderStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    sent: list[tuple[str, int]] = []
    monkeypatch.setattr(
        live_push, "publish", lambda order_id, version, topics=(): sent.append((order_id, version))
    )
    return sent


@pytest.fixture
def published_topics(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    sent: list[tuple[str, ...]] = []
    monkeypatch.setattr(
        live_push, "publish", lambda order_id, version, topics=(): sent.append(tuple(topics))
    )
    return sent


def test_a_status_change_is_published_once_after_its_commit_with_the_newest_version(
    customer_manual_order, lead_user, published, django_capture_on_commit_callbacks
):
    # Given a page showing the order (nothing published yet)
    before = OrderEvent.objects.filter(order=customer_manual_order).count()
    published.clear()
    # When a person confirms the line live: one transaction writing several events
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order_confirm_manual_activation(
            customer_manual_order,
            actor=lead_user,
            reason="Technician activated the line.",
            source=EventSource.ADMIN,
        )
        # Then nothing has left while the transaction is open
        assert published == []
    events = OrderEvent.objects.filter(order=customer_manual_order).order_by("id")
    assert events.count() - before > 1
    newest = events.last().pk
    # ... and once it commits (its callbacks run) the order is published once, at its newest
    # event (the billing work those callbacks start is a transaction of its own)
    for callback in callbacks:
        callback()
    assert published[0] == (customer_manual_order.pk, newest)
    assert [p for p in published if p[1] <= newest] == [(customer_manual_order.pk, newest)]


def test_a_change_rolled_back_is_never_published(
    customer_manual_order, lead_user, published, django_capture_on_commit_callbacks
):
    published.clear()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        order_confirm_manual_activation(
            customer_manual_order,
            actor=lead_user,
            reason="Technician activated the line.",
            source=EventSource.ADMIN,
        )
        raise RuntimeError("the request failed after the change")
    assert published == []
    # ... and the next transaction's change is published on its own, once
    with django_capture_on_commit_callbacks(execute=True):
        OrderEvent.objects.create(
            order=customer_manual_order, kind=OrderEvent.Kind.NOTE, reason="A note."
        )
    newest = OrderEvent.objects.filter(order=customer_manual_order).order_by("-id").first()
    assert published == [(customer_manual_order.pk, newest.pk)]


def test_messages_carry_only_the_order_id_and_version():
    message = live_push.encode_message("K7QM3XPA9Z", 42)
    assert message == '{"order":"K7QM3XPA9Z","version":42}'
    assert live_push.decode_message(message) == ("K7QM3XPA9Z", 42, ())
    assert live_push.decode_message(b"not json") is None
    assert live_push.decode_message(b"[1, 2]") is None


def test_the_channel_says_what_sort_of_change_it_was_for_the_worklists():
    # What the web processes hear names the event's kind and the status it moved to (for the
    # worklists an order may come into); what a page's stream says never does.
    topics = live_push.event_topics("status_changed", "exception")
    assert topics == ("kind:status_changed", "status:exception")
    message = live_push.encode_message("K7QM3XPA9Z", 42, topics)
    assert live_push.decode_message(message) == ("K7QM3XPA9Z", 42, tuple(sorted(topics)))
    assert live_push.event_topics("note") == ("kind:note",)


def test_a_transaction_publishes_every_sort_of_change_it_made_to_the_order(
    customer_manual_order, published_topics, django_capture_on_commit_callbacks
):
    published_topics.clear()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        OrderEvent.objects.create(
            order=customer_manual_order, kind=OrderEvent.Kind.NOTE, reason="A note."
        )
        OrderEvent.objects.create(
            order=customer_manual_order,
            kind=OrderEvent.Kind.STATUS_CHANGED,
            from_status=OrderStatus.AWAITING_MANUAL,
            to_status=OrderStatus.EXCEPTION,
        )
    [topics] = published_topics
    assert set(topics) == {"kind:note", "kind:status_changed", "status:exception"}
