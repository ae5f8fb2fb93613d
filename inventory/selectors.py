"""Reads of the installed base for other areas: the live line an order's add-ons go on
(registered with orders.installed_base from the app's ready())."""

from __future__ import annotations

import uuid

from inventory.models import Product, ProductStatus
from orders.installed_base import LiveAddOn, LiveLine
from orders.models import ProductKind


def live_line(product_id: uuid.UUID) -> LiveLine | None:
    """The internet access product ``product_id`` as orders needs it, or None: one query for
    the line with its order's address, one for its add-ons still in service."""
    product = (
        Product.objects.select_related("offering__specification", "order", "specification")
        .filter(pk=product_id, specification__kind=ProductKind.INTERNET_ACCESS)
        .first()
    )
    if product is None:
        return None
    add_ons = tuple(
        LiveAddOn(
            product_id=add_on.pk,
            name=add_on.name,
            offering=add_on.offering,
            kind=add_on.specification.kind,
            status=add_on.status,
            network_identifiers=dict(add_on.network_identifiers or {}),
        )
        for add_on in product.add_ons.exclude(status=ProductStatus.TERMINATED)
        .select_related("offering__specification", "specification")
        .order_by("created_at", "pk")
    )
    order = product.order
    return LiveLine(
        product_id=product.pk,
        customer_id=product.customer_id,
        name=product.name,
        offering=product.offering,
        status=product.status,
        is_active=product.status == ProductStatus.ACTIVE,
        address_line1=order.service_address_line1,
        address_line2=order.service_address_line2,
        city=order.service_city,
        postcode=order.service_postcode,
        network_identifiers=dict(product.network_identifiers or {}),
        add_ons=add_ons,
    )


def product_origin(product_id: uuid.UUID) -> tuple[str, str] | None:
    """The order ID and item id that delivered the product."""
    found = (
        Product.objects.filter(pk=product_id).values_list("order_id", "order_item__item_id").first()
    )
    return (str(found[0]), str(found[1])) if found else None


def product_state_label(product: Product) -> str:
    """A product's state after the changes made to it, in the words every page uses (staff's
    and the customer's alike): Active, Suspended, Ceased, or "Speed changed to <plan>" for a
    line on another plan than it was delivered on. Reads the delivering item: select
    ``order_item`` with the product."""
    if product.status == ProductStatus.TERMINATED:
        return "Ceased"
    if product.status == ProductStatus.SUSPENDED:
        return "Suspended"
    if product.status == ProductStatus.CREATED:
        return "Being set up"
    if product.offering_id != product.order_item.offering_id:
        return f"Speed changed to {product.name}"
    return "Active"
