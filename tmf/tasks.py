"""Celery tasks of the TMF layer: hub deliveries (tmf.hub.delivery), run through the outbox.
Thin and idempotent: a delivery that is not pending and due is left alone, so a duplicate
message does no harm."""

from __future__ import annotations

from orders.outbox import outbox_task
from tmf.hub import delivery


# Not one transaction: the listener is called between the claim and the record. Each try's
# record and its message's completion commit together (tmf.hub.delivery._record).
@outbox_task("tmf.deliver_event", atomic=False)
def deliver_event(delivery_id: int, replay: bool = False, order_id: str | None = None) -> str:
    """One try of one delivery (``order_id`` is only the outbox's label for the message)."""
    return delivery.delivery_send_and_catch_up(delivery_id, replay=replay).value


@outbox_task("tmf.deliver_due_events", atomic=False)
def deliver_due_events(subscription_id: str | None = None) -> int:
    """A listener answered again: its deliveries that wait out a backoff, oldest first."""
    return delivery.deliveries_send_due(subscription_id=subscription_id)
