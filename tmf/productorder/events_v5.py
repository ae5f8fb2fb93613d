"""TMF622 v5's ProductOrderMilestoneEvent and ProductOrderJeopardyAlertEvent on the product
ordering hub, in v5's shapes (checked against specs/TMF622-ProductOrdering-v5.0.0.oas.yaml):

- ProductOrderMilestoneEvent when milestones of an order are met: ``event.productOrder`` is
  the order as v5 reads it (id, href, state, its items' ids, actions, states and offerings),
  with ``productOrderMilestone`` the milestones just met.
- ProductOrderJeopardyAlertEvent when a jeopardy is raised or escalated to a higher level:
  the same order with ``productOrderJeopardyAlert`` that jeopardy.

The v4 representation (tmf.productorder.representation) is not v5's (its relatedParty, for
one, is v4's RelatedParty), so these events carry a v5 summary of the order rather than it;
GET productOrder/{id} gives the rest. Published in the transaction that met the milestone or
raised the jeopardy, like every hub event, and only when someone listens.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from orders.models import Order, OrderItem
from orders.models.jeopardy import Jeopardy
from orders.models.milestones import OrderMilestone
from orders.signals import jeopardy_changed, milestones_met
from orders.states import TMF_ITEM_STATE, TMF_STATE, ItemState, OrderStatus
from tmf.common import drop_empty
from tmf.hub.publish import hub_has_listeners, publish_event
from tmf.models import DeletedProductOrder, HubApi
from tmf.productorder.milestones import jeopardy_representation, milestone_representation
from tmf.productorder.representation import product_order_path

MILESTONE_EVENT = "ProductOrderMilestoneEvent"
JEOPARDY_EVENT = "ProductOrderJeopardyAlertEvent"


def _item(item: OrderItem) -> dict[str, Any]:
    return {
        "id": item.item_id,
        "action": item.action,
        "state": TMF_ITEM_STATE[ItemState(item.state)],
        "productOffering": {
            "id": item.offering.code,
            "name": item.offering.name,
            "@type": "ProductOfferingRef",
        },
        "@type": "ProductOrderItem",
    }


def v5_order(order: Order, **extensions: list[dict[str, Any]]) -> dict[str, Any]:
    """The order as TMF622 v5's ProductOrder, in brief, with ``extensions`` (its
    productOrderMilestone or productOrderJeopardyAlert)."""
    items = order.items.select_related("offering").order_by("position")
    return drop_empty(
        {
            "id": order.pk,
            "href": product_order_path(order.pk),
            "state": TMF_STATE[OrderStatus(order.status)],
            "productOrderItem": [_item(item) for item in items],
            **extensions,
            "@type": "ProductOrder",
        }
    )


def _listened(order: Order) -> bool:
    return (
        hub_has_listeners(HubApi.PRODUCT_ORDERING)
        and not DeletedProductOrder.objects.filter(order_id=order.pk).exists()
    )


@receiver(milestones_met, dispatch_uid="tmf.publish_milestone_events")
def publish_milestones_met(
    sender: Any, *, order: Order, milestones: list[OrderMilestone], **kwargs: Any
) -> None:
    if not _listened(order):
        return
    met_at = max(m.met_at for m in milestones if m.met_at is not None)
    names = ", ".join(m.name for m in milestones)
    publish_event(
        api=HubApi.PRODUCT_ORDERING,
        event_type=MILESTONE_EVENT,
        resource_name="productOrder",
        resource=v5_order(
            order,
            productOrderMilestone=[milestone_representation(order, m, met_at) for m in milestones],
        ),
        order=order,
        description=f"Product order {order.pk}: {names} reached.",
        occurred_at=met_at,
        v5=True,
    )


@receiver(jeopardy_changed, dispatch_uid="tmf.publish_jeopardy_events")
def publish_jeopardy(
    sender: Any, *, order: Order, jeopardy: Jeopardy, action: str, **kwargs: Any
) -> None:
    if action == "cleared" or not _listened(order):
        return  # a cleared jeopardy shows as its milestone's event (or the order's state)
    publish_event(
        api=HubApi.PRODUCT_ORDERING,
        event_type=JEOPARDY_EVENT,
        resource_name="productOrder",
        resource=v5_order(
            order, productOrderJeopardyAlert=[jeopardy_representation(order, jeopardy)]
        ),
        order=order,
        description=f"Product order {order.pk}: {jeopardy.get_level_display().lower()}, "
        f"{jeopardy.milestone.name}.",
        occurred_at=jeopardy.level_at,
        v5=True,
    )
