"""Reads of the installed base for other areas: the live line an order's add-ons go on
(registered with orders.installed_base from the app's ready())."""

from __future__ import annotations

import uuid

from inventory.models import Product, ProductStatus
from orders.installed_base import LiveLine
from orders.models import ProductKind


def live_line(product_id: uuid.UUID) -> LiveLine | None:
    """The internet access product ``product_id`` as orders needs it, or None: one query for
    the line with its order's address, one for the kinds of its add-ons still in service."""
    product = (
        Product.objects.select_related("offering__specification", "order", "specification")
        .filter(pk=product_id, specification__kind=ProductKind.INTERNET_ACCESS)
        .first()
    )
    if product is None:
        return None
    add_on_kinds = frozenset(
        product.add_ons.exclude(status=ProductStatus.TERMINATED).values_list(
            "specification__kind", flat=True
        )
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
        add_on_kinds=add_on_kinds,
    )
