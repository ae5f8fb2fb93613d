"""Celery tasks of the TMF layer: hub deliveries (tmf.hub.delivery). Thin and idempotent: a
delivery that is not pending and due is left alone, so a duplicate message does no harm."""

from __future__ import annotations

from celery import shared_task

from tmf.hub import delivery


@shared_task(name="tmf.deliver_event")
def deliver_event(delivery_id: int, replay: bool = False, order_id: str | None = None) -> str:
    """One try of one delivery (``order_id`` is only the outbox's label for the message)."""
    return delivery.delivery_send_and_catch_up(delivery_id, replay=replay).value


@shared_task(name="tmf.deliver_due_events")
def deliver_due_events(subscription_id: str | None = None) -> int:
    """Beat, every 15 s: deliveries whose (re)try time has come, oldest first."""
    return delivery.deliveries_send_due(subscription_id=subscription_id)
