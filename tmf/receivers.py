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

Catalogue changes (a plan saved in the admin) are TMF620 events on the catalogue's hub: a new
plan is a ``ProductOfferingCreateEvent`` and a ``ProductOfferingPriceCreateEvent``; putting a
plan on or off sale is a ``ProductOfferingStateChangeEvent`` (its lifecycleStatus); a changed
name, description or speed is a ``ProductOfferingAttributeValueChangeEvent``; a changed price
is a ``ProductOfferingPriceAttributeValueChangeEvent``, so billing and CRM systems learn of a
new price before the first order at it. A plan with a one-time charge has a second price
(``<code>-one-time``): created with the plan, or with the first non-zero charge, it is a
``ProductOfferingPriceCreateEvent``; a changed charge its ``...AttributeValueChangeEvent``; a
charge set back to zero removes it (``...DeleteEvent``, with the charge it had).

Specification changes (a ProductSpecification saved in the admin) go to the same hub, in the
same transaction: a new one is a ``ProductSpecificationCreateEvent``; a changed
``lifecycleStatus`` a ``ProductSpecificationStateChangeEvent``; a changed name, description,
brand, version, characteristics or parent an ``ProductSpecificationAttributeValueChangeEvent``.
The TMF620 v4.0.0 swagger declares only the Create (and Delete) event for specifications; the
other two are named as the offering's events are, the pattern the API uses for every resource
it declares them for. A change to the fulfilment plan alone publishes nothing: TMF620 does not
show it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from orders.models import Order, OrderEvent, Plan, ProductSpecification, ScheduledCancellation
from orders.signals import order_status_changed, scheduled_cancellation_settled
from orders.states import TMF_STATE, OrderStatus
from tmf.catalog.representation import (
    Price,
    PriceKind,
    offering_representation,
    price_representation,
    specification_representation,
)
from tmf.hub.publish import hub_has_listeners, publish_event
from tmf.models import DeletedProductOrder, HubApi
from tmf.productorder.representation import product_order_representation
from tmf.productorder.services import cancellation_follow, schedule_follow

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


@receiver(scheduled_cancellation_settled, dispatch_uid="tmf.follow_scheduled_cancellation")
def follow_scheduled_cancellation(
    sender: Any, *, schedule: ScheduledCancellation, order: Order, **kwargs: Any
) -> None:
    schedule_follow(schedule, order)  # the cancelProductOrder that asked for it moves on


@receiver(order_status_changed, dispatch_uid="tmf.publish_product_order_events")
def publish_product_order_events(
    sender: Any, *, order: Order, event: OrderEvent, **kwargs: Any
) -> None:
    if event.from_status == OrderStatus.CANCELLING and event.to_status == OrderStatus.CANCELLED:
        cancellation_follow(order)  # the cancelProductOrder requests in progress are done
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


# --- TMF620: the catalogue --------------------------------------------------------------------
OFFERING_ATTRIBUTES = (
    "name",
    "description",
    "download_mbps",
    "upload_mbps",
    "specification_id",
    "characteristic_values",
    "technologies",
)
PRICE_ATTRIBUTES = ("monthly_price", "currency")
ONE_TIME_PRICE = "productOfferingPrice:oneTime"


@receiver(pre_save, sender=Plan, dispatch_uid="tmf.remember_plan_before_save")
def remember_plan_before_save(sender: Any, instance: Plan, **kwargs: Any) -> None:
    before = Plan.objects.filter(pk=instance.pk).values().first() if instance.pk else None
    instance._tmf_before = before  # type: ignore[attr-defined]


def catalog_event_types(before: dict[str, Any] | None, plan: Plan) -> list[tuple[str, str]]:
    """(event type, resource name) pairs a plan's save publishes."""
    if before is None:
        types = [
            ("ProductOfferingCreateEvent", "productOffering"),
            ("ProductOfferingPriceCreateEvent", "productOfferingPrice"),
        ]
        if plan.one_time_price > 0:
            types.append(("ProductOfferingPriceCreateEvent", ONE_TIME_PRICE))
        return types
    types = []
    if before["is_active"] != plan.is_active:
        types.append(("ProductOfferingStateChangeEvent", "productOffering"))
    if any(before[name] != getattr(plan, name) for name in OFFERING_ATTRIBUTES):
        types.append(("ProductOfferingAttributeValueChangeEvent", "productOffering"))
    if any(before[name] != getattr(plan, name) for name in PRICE_ATTRIBUTES):
        types.append(("ProductOfferingPriceAttributeValueChangeEvent", "productOfferingPrice"))
    if before["one_time_price"] != plan.one_time_price:
        if not plan.one_time_price:
            kind = "Delete"  # the one-time price is gone from the catalogue
        elif not before["one_time_price"]:
            kind = "Create"
        else:
            kind = "AttributeValueChange"
        types.append((f"ProductOfferingPrice{kind}Event", ONE_TIME_PRICE))
    return types


def _one_time_price(plan: Plan, before: dict[str, Any] | None) -> dict[str, Any]:
    """The one-time price as TMF620 shows it; once removed (a charge of zero), as it was."""
    resource = price_representation(Price(plan, PriceKind.ONE_TIME))
    if not plan.one_time_price and before is not None:
        resource["price"] = {**resource["price"], "value": float(before["one_time_price"])}
    return resource


@receiver(post_save, sender=Plan, dispatch_uid="tmf.publish_catalog_events")
def publish_catalog_events(sender: Any, instance: Plan, created: bool, **kwargs: Any) -> None:
    before = None if created else getattr(instance, "_tmf_before", None)
    if not created and before is None:
        return  # saved without the pre_save snapshot (raw fixture loading): nothing to compare
    types = catalog_event_types(before, instance)
    if not types or not hub_has_listeners(HubApi.CATALOG):
        return
    render = {
        "productOffering": offering_representation,
        "productOfferingPrice": price_representation,
        ONE_TIME_PRICE: lambda plan: _one_time_price(plan, before),
    }
    with transaction.atomic():  # the deliveries commit with the save when it has a transaction
        for event_type, resource_name in types:
            publish_event(
                api=HubApi.CATALOG,
                event_type=event_type,
                resource_name=resource_name.partition(":")[0],
                resource=render[resource_name](instance),
                description=f"{instance.name} ({instance.code}): "
                f"{event_type.removesuffix('Event')}.",
            )


SPECIFICATION_ATTRIBUTES = (
    "name",
    "description",
    "brand",
    "version",
    "characteristics",
    "parent_kind",
)


@receiver(pre_save, sender=ProductSpecification, dispatch_uid="tmf.remember_spec_before_save")
def remember_specification_before_save(
    sender: Any, instance: ProductSpecification, **kwargs: Any
) -> None:
    before = (
        ProductSpecification.objects.filter(pk=instance.pk).values().first()
        if instance.pk
        else None
    )
    instance._tmf_before = before  # type: ignore[attr-defined]


def specification_event_types(
    before: dict[str, Any] | None, specification: ProductSpecification
) -> list[str]:
    """The TMF620 events a specification's save publishes."""
    if before is None:
        return ["ProductSpecificationCreateEvent"]
    types = []
    if before["lifecycle_status"] != specification.lifecycle_status:
        types.append("ProductSpecificationStateChangeEvent")
    if any(before[name] != getattr(specification, name) for name in SPECIFICATION_ATTRIBUTES):
        types.append("ProductSpecificationAttributeValueChangeEvent")
    return types


@receiver(post_save, sender=ProductSpecification, dispatch_uid="tmf.publish_spec_events")
def publish_specification_events(
    sender: Any, instance: ProductSpecification, created: bool, **kwargs: Any
) -> None:
    before = None if created else getattr(instance, "_tmf_before", None)
    if not created and before is None:
        return  # saved without the pre_save snapshot (raw fixture loading): nothing to compare
    types = specification_event_types(before, instance)
    if not types or not hub_has_listeners(HubApi.CATALOG):
        return
    resource = specification_representation(instance)
    with transaction.atomic():  # the deliveries commit with the save when it has a transaction
        for event_type in types:
            publish_event(
                api=HubApi.CATALOG,
                event_type=event_type,
                resource_name="productSpecification",
                resource=resource,
                description=f"{instance.name} ({instance.code}): "
                f"{event_type.removesuffix('Event')}.",
            )
