"""Order events become hub notifications (TMF622 ProductOrder events).

On every status change (``orders.signals.order_status_changed``, inside the transaction that
made it, so the notification commits or rolls back with the change):

- a new order (``from_status`` empty) is a ``ProductOrderCreateEvent``;
- a change of TMF state is a ``ProductOrderStateChangeEvent``. Internal moves that keep the TMF
  state (awaiting manual provisioning, provisioning and activated are all ``inProgress``) are
  not TMF state changes and publish nothing;
- an order that goes to 'exception' (TMF ``held``: activation failed and a person must act) is
  also a ``ProductOrderInformationRequiredEvent``.

The resource is the order as TMF622 shows it (``product_order_representation``, hrefs on
``settings.SITE_URL``), taken at the moment of the change. An order a client deleted through
TMF622 no longer exists for the API, so it publishes nothing. Cancellation and delete events are
published by the TMF622 views themselves.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from orders.models import Order, OrderEvent
from orders.signals import order_status_changed
from orders.states import TMF_STATE, OrderStatus
from tmf.hub.publish import hub_has_listeners, publish_event
from tmf.models import DeletedProductOrder, HubApi
from tmf.productorder.representation import product_order_representation

CREATE = "ProductOrderCreateEvent"
STATE_CHANGE = "ProductOrderStateChangeEvent"
INFORMATION_REQUIRED = "ProductOrderInformationRequiredEvent"


def order_event_types(from_status: str, to_status: str) -> list[str]:
    """The TMF622 events a status change from ``from_status`` to ``to_status`` publishes."""
    if not from_status:
        return [CREATE]
    types: list[str] = []
    if TMF_STATE.get(OrderStatus(from_status)) != TMF_STATE.get(OrderStatus(to_status)):
        types.append(STATE_CHANGE)
    if to_status == OrderStatus.EXCEPTION:
        types.append(INFORMATION_REQUIRED)
    return types


def _description(event_type: str, order: Order, event: OrderEvent) -> str:
    if event_type == CREATE:
        return f"Product order {order.pk} received."
    if event_type == STATE_CHANGE:
        before = TMF_STATE[OrderStatus(event.from_status)]
        after = TMF_STATE[OrderStatus(event.to_status)]
        return f"Product order {order.pk} moved from {before} to {after}."
    return f"Product order {order.pk} is held: activation needs a person to act."


@receiver(order_status_changed, dispatch_uid="tmf.publish_product_order_events")
def publish_product_order_events(
    sender: Any, *, order: Order, event: OrderEvent, **kwargs: Any
) -> None:
    types = order_event_types(event.from_status, event.to_status)
    if not types or not hub_has_listeners(HubApi.PRODUCT_ORDERING):
        return
    if DeletedProductOrder.objects.filter(order_id=order.pk).exists():
        return
    resource = product_order_representation(order)
    for event_type in types:
        publish_event(
            api=HubApi.PRODUCT_ORDERING,
            event_type=event_type,
            resource_name="productOrder",
            resource=resource,
            order=order,
            description=_description(event_type, order, event),
            occurred_at=event.created_at,
        )
