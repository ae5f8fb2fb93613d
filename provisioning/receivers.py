"""Provisioning reacts to order business events by queueing its own work (after commit)."""

from typing import Any

from django.dispatch import receiver

from orders.models import Order
from orders.outbox import outbox_enqueue
from orders.signals import order_due_for_activation
from provisioning.services import FULFIL_TASK


@receiver(order_due_for_activation, dispatch_uid="provisioning.queue_fulfilment")
def queue_fulfilment(sender: type[Order], order: Order, **kwargs: Any) -> None:
    outbox_enqueue(FULFIL_TASK, order=order)
