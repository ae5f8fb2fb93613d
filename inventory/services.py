"""Writes to the installed base."""

from __future__ import annotations

import logging
import uuid

from django.utils import timezone

from inventory.models import Product, ProductStatus
from inventory.signals import products_created
from orders.models import Order, OrderItem
from orders.states import ItemAction, ItemState

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
    if created:
        products_created.send(sender=Product, order=order, products=created)
        logger.info("order %s: %d product(s) in the installed base", order.pk, len(created))
    return created
