"""The installed base follows order completion: maintenance is told what the customer has."""

from typing import Any

from django.dispatch import receiver

from inventory.services import products_change, products_record
from orders.models import Order, OrderEvent
from orders.signals import order_status_changed
from orders.states import OrderStatus


@receiver(order_status_changed, dispatch_uid="inventory.record_products")
def record_products(sender: type[Order], order: Order, event: OrderEvent, **kwargs: Any) -> None:
    if event.to_status in (OrderStatus.COMPLETED, OrderStatus.PARTIAL):
        products_record(order)
        products_change(order)
