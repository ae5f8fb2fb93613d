"""Billing reacts to activation by queueing the account start (after commit)."""

from typing import Any

from django.dispatch import receiver

from billing.services import START_BILLING_TASK
from orders.models import Order
from orders.outbox import outbox_enqueue
from orders.signals import order_activated


@receiver(order_activated, dispatch_uid="billing.queue_account_start")
def queue_account_start(sender: type[Order], order: Order, **kwargs: Any) -> None:
    outbox_enqueue(START_BILLING_TASK, order=order)
