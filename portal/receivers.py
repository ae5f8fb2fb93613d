"""The portal reacts to business events from orders/ by writing outbox rows (never by sending:
receivers run inside the transaction that caused the event)."""

from typing import Any

from django.dispatch import receiver

from orders.models import Customer, Order
from orders.signals import customer_registered
from portal.accounts import customer_invitation_queue


@receiver(customer_registered, dispatch_uid="portal.queue_customer_invitation")
def queue_customer_invitation(
    sender: type[Customer], customer: Customer, order: Order, **kwargs: Any
) -> None:
    customer_invitation_queue(customer=customer, order=order)
