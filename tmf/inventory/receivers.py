"""Installed-base events become TMF637 hub notifications.

- Products entering the installed base (``inventory.signals.products_created``, sent by
  ``products_record`` in the transaction that completes the order) are one
  ``ProductCreateEvent`` each, the line first, then its add-ons;
- a product whose status changed (``inventory.signals.product_status_changed``: a
  suspension, a resumption, a cease) is a ``ProductStateChangeEvent``;
- a product moved to another offering (``inventory.signals.product_changed``: a plan change)
  is a ``ProductAttributeValueChangeEvent`` whose fieldPath names what changed with it.

The deliveries are written in the transaction that made the change (a savepoint of it, as the
catalogue's are), so they commit or roll back with it and are sent only after it commits. The
resource is the product as TMF637 shows it, at the moment of the change, with hrefs on
``settings.SITE_URL``. Listeners need ``read`` as well as ``subscribe`` (tmf.hub.publish), the
scope that lets a client read the installed base.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import receiver

from inventory.models import Product
from inventory.signals import product_changed, product_status_changed, products_created
from orders.models import Order
from tmf.hub.publish import hub_has_listeners, publish_event
from tmf.inventory.representation import product_representation
from tmf.inventory.selectors import products_base
from tmf.models import HubApi

CREATE = "ProductCreateEvent"
STATE_CHANGE = "ProductStateChangeEvent"
ATTRIBUTE_CHANGE = "ProductAttributeValueChangeEvent"
# What a plan change changes on the product, as TMF637 names it.
PLAN_CHANGE_FIELDS = "productOffering,name,productCharacteristic,productPrice"


@receiver(products_created, dispatch_uid="tmf.publish_product_create_events")
def publish_product_create_events(
    sender: Any, *, order: Order, products: list[Product], **kwargs: Any
) -> None:
    if not products or not hub_has_listeners(HubApi.INVENTORY):
        return
    # Read back with what the representation needs, in one query (the rows just inserted).
    rows = products_base().filter(pk__in=[product.pk for product in products])
    ordered = sorted(rows, key=lambda product: product.order_item.position)
    with transaction.atomic():
        for product in ordered:
            publish_event(
                api=HubApi.INVENTORY,
                event_type=CREATE,
                resource_name="product",
                resource=product_representation(product),
                order=order,
                description=f"{product.name} of order {order.pk} is in the installed base.",
                occurred_at=product.start_date,
            )


@receiver(product_status_changed, dispatch_uid="tmf.publish_product_state_change_event")
def publish_product_state_change_event(
    sender: Any, *, product: Product, from_status: str, order: Order | None = None, **kwargs: Any
) -> None:
    if from_status == product.status or not hub_has_listeners(HubApi.INVENTORY):
        return
    current = products_base().get(pk=product.pk)
    # The delivery is logged under the order that changed the product (a suspension, a cease),
    # else the one that delivered it.
    cause = order or current.order
    with transaction.atomic():
        publish_event(
            api=HubApi.INVENTORY,
            event_type=STATE_CHANGE,
            resource_name="product",
            resource=product_representation(current),
            order=cause,
            description=f"{current.name} moved from {from_status} to {current.status}"
            + (f" (order {cause.pk})." if cause.pk != current.order_id else "."),
        )


@receiver(product_changed, dispatch_uid="tmf.publish_product_attribute_value_change_event")
def publish_product_attribute_value_change_event(
    sender: Any, *, product: Product, order: Order, **kwargs: Any
) -> None:
    if not hub_has_listeners(HubApi.INVENTORY):
        return
    current = products_base().get(pk=product.pk)
    with transaction.atomic():
        publish_event(
            api=HubApi.INVENTORY,
            event_type=ATTRIBUTE_CHANGE,
            resource_name="product",
            resource=product_representation(current),
            order=order,
            description=f"{current.name}: plan changed by order {order.pk}.",
            field_path=PLAN_CHANGE_FIELDS,
        )
