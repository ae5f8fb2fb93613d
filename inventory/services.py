"""Writes to the installed base."""

from __future__ import annotations

import logging
import uuid

from django.utils import timezone

from inventory.models import Product, ProductStatus
from inventory.signals import product_changed, product_status_changed, products_created
from orders.models import Order, OrderItem
from orders.states import ItemAction, ItemChange, ItemState

logger = logging.getLogger(__name__)


def _characteristics(item: OrderItem) -> dict[str, object]:
    offering = item.offering
    values: dict[str, object] = dict(offering.characteristic_values or {})
    if offering.download_mbps:
        values["downloadSpeed"] = offering.download_mbps
    if offering.upload_mbps:
        values["uploadSpeed"] = offering.upload_mbps
    if item.parent_id is None:
        values.setdefault("technology", item.order.service_area.technology)
    return values


def _parent(
    item: OrderItem, of_this_order: dict[int, Product], live: dict[uuid.UUID, Product]
) -> Product | None:
    if item.parent is None:
        return None
    if item.parent.product_ref is not None:
        return live.get(item.parent.product_ref)
    return of_this_order.get(item.parent.pk)


def products_record(order: Order) -> list[Product]:
    """Each delivered item of a completed order becomes a product in the customer's installed
    base, with the network identifiers its tasks recorded; an add-on's product is on its line's.
    Idempotent: items that already have a product are left alone. Call in the completion's
    transaction; one insert per level (the line, then its add-ons)."""
    created = _products_write(order)
    if created:
        products_created.send(sender=Product, order=order, products=created)
        logger.info("order %s: %d product(s) in the installed base", order.pk, len(created))
    return created


def products_import(order: Order) -> list[Product]:
    """products_record for an order brought in from the legacy system (imports): the same
    products, started on their items' (historical) completion dates, but nobody is told: the
    customer has had them all along, so no ``products_created`` (no TMF637 hub event).
    Idempotent like products_record."""
    return _products_write(order)


def _products_write(order: Order) -> list[Product]:
    items = list(
        OrderItem.objects.filter(
            order=order,
            state=ItemState.COMPLETED,
            action=ItemAction.ADD,
            product__isnull=True,
        )
        .select_related("offering__specification", "order__service_area", "parent")
        .order_by("position")
    )
    existing = {product.order_item_id: product for product in Product.objects.filter(order=order)}
    # Add-ons on a live line (the order's noChange item) go on that line's product.
    live_refs = {
        item.parent.product_ref for item in items if item.parent and item.parent.product_ref
    }
    live = {product.pk: product for product in Product.objects.filter(pk__in=live_refs)}
    created: list[Product] = []
    for level in (
        [item for item in items if item.parent_id is None],
        [item for item in items if item.parent_id is not None],
    ):
        rows = [
            Product(
                customer_id=order.customer_id,
                order=order,
                order_item=item,
                offering=item.offering,
                specification=item.offering.specification,
                parent=_parent(item, existing, live),
                name=item.offering.name,
                status=ProductStatus.ACTIVE,
                start_date=item.completed_at or timezone.now(),
                characteristics=_characteristics(item),
                network_identifiers=dict(item.network_identifiers or {}),
                recurring_price=item.recurring_price,
                one_time_price=item.one_time_price,
                currency=item.currency,
                service_address=order.service_address,
            )
            for item in level
        ]
        if rows:
            Product.objects.bulk_create(rows)
            existing.update({row.order_item_id: row for row in rows})
            created += rows
    return created


# What each completed change makes of its product's status.
CHANGED_STATUS = {
    ItemChange.SUSPEND: ProductStatus.SUSPENDED,
    ItemChange.RESUME: ProductStatus.ACTIVE,
}


def products_change(order: Order) -> list[Product]:
    """Each completed change of the order (a plan change, a suspension or resumption, a cease)
    applied to its product in the installed base: a plan change moves it to the new offering
    (its speeds and price), a cease terminates it (its history stays), a suspension suspends
    it. Each status change is a ``product_status_changed``; a plan change a
    ``product_changed``. Idempotent; call in the completion's transaction."""
    items = list(
        OrderItem.objects.filter(
            order=order,
            state=ItemState.COMPLETED,
            action__in=[ItemAction.MODIFY, ItemAction.DELETE],
        ).select_related("offering__specification", "order__service_area", "parent")
    )
    products = {
        p.pk: p
        for p in Product.objects.select_for_update().filter(
            pk__in=[item.product_ref for item in items]
        )
    }
    changed: list[Product] = []
    for item in items:
        product = products.get(item.product_ref) if item.product_ref else None
        if product is None:
            continue
        before = product.status
        if item.action == ItemAction.DELETE:
            if product.status == ProductStatus.TERMINATED:
                continue
            product.status = ProductStatus.TERMINATED
            product.termination_date = item.completed_at or timezone.now()
        elif item.change == ItemChange.PLAN:
            if product.offering_id == item.offering_id:
                continue
            product.offering = item.offering
            product.name = item.offering.name
            product.recurring_price = item.recurring_price
            product.characteristics = {
                **(product.characteristics or {}),
                **_characteristics(item),
            }
        else:
            status = CHANGED_STATUS[ItemChange(item.change)]
            if product.status == status:
                continue
            product.status = status
        product.save()
        changed.append(product)
        if product.status != before:
            product_status_changed.send(
                sender=Product, product=product, from_status=before, order=order
            )
        else:
            product_changed.send(sender=Product, product=product, order=order)
    if changed:
        logger.info("order %s: %d product(s) changed in the installed base", order.pk, len(changed))
    return changed
