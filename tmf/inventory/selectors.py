"""Reads of the installed base for TMF637."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from inventory.models import Product
from orders.access import restrict_by_order
from tmf.auth import ClientPrincipal


def products_base() -> QuerySet[Product]:
    """Every product, with what its representation reads (customer, order and item, offering,
    specification, the line an add-on relies on) in the same query; newest first."""
    return Product.objects.select_related(
        "customer", "order", "order_item", "offering", "specification", "parent"
    ).order_by("-created_at", "-id")


def inventory_products(user: ClientPrincipal | User | AnonymousUser) -> QuerySet[Product]:
    """The products ``user`` may see: those of the orders it may see, by the one restriction
    path every area uses (``orders.access.restrict_by_order``). For a client system that is
    the rule TMF622 applies to orders: with the ``read`` scope, the ISP's whole installed base
    (the APIs serve the ISP's own systems, CRM and maintenance, not customers); without it,
    nothing. Should orders ever be narrowed per client, products follow them here.

    A product stays visible when its order was deleted through TMF622: deleting a closed
    order tidies the order list; the service it delivered is still live and maintenance must
    still find it."""
    return restrict_by_order(products_base(), user, via="order")  # type: ignore[arg-type]
