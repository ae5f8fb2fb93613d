"""TMF637 Product Inventory v4, read only: ``product`` (list and retrieve) and ``hub``.

The installed base is written by order completion (``inventory.services.products_record``);
this API only reads it. Products come through ``tmf.inventory.selectors.inventory_products``,
the same restriction TMF622 applies to orders; see tmf.inventory.representation for how a
product reads.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from orders import order_id
from orders.models import Plan, ProductSpecification
from tmf.common import (
    Filter,
    RefusesOtherMethods,
    apply_filters,
    exact,
    list_response,
    requested_fields,
    select_fields,
    timestamp,
)
from tmf.errors import bad_request, not_found
from tmf.inventory import docs
from tmf.inventory.representation import ALWAYS, product_representation
from tmf.inventory.selectors import inventory_products

READ = {"GET": "read", "HEAD": "read"}


class InventoryView(RefusesOtherMethods):
    required_scopes = READ
    refusal = "The installed base is written by order completion; this API only reads it."


def product_pk(text: str) -> uuid.UUID | None:
    """The product id ``text`` names (any spelling of a UUID), or None."""
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        return None


# --- ?attr=value filters ------------------------------------------------------------------------
def _statuses(values: list[str]) -> list[str]:
    unknown = set(values) - set(docs.PRODUCT_STATUS_TYPE)
    if unknown:
        raise bad_request(
            f"Unknown status {', '.join(sorted(unknown))}. ProductStatusType: "
            f"{', '.join(docs.PRODUCT_STATUS_TYPE)}.",
            status="Unknown status.",
        )
    return values


def _product_pks(values: list[str]) -> list[uuid.UUID]:
    # An id that cannot be a product's names none: it filters to nothing (not an error).
    return [pk for pk in map(product_pk, values) if pk is not None]


def _order_ids(values: list[str]) -> list[str]:
    return [order_id.normalize(value) for value in values if order_id.is_valid(value)]


def _customer_pks(values: list[str]) -> list[int]:
    # A customer's id as TMF622 gives it: ASCII digits that fit a database integer.
    return [int(v) for v in values if v.isascii() and v.isdigit() and len(v) <= 18]


def _pks_by_code(
    model: type[Plan] | type[ProductSpecification],
) -> Callable[[list[str]], list[int]]:
    """Codes to keys first (one lookup of a unique column): the products are then an index
    range on (key, created_at, id) in the list's order, where a join on the code would have
    the database walk the whole list, newest first, to find a rare offering's products."""

    def convert(values: list[str]) -> list[int]:
        return list(model.objects.filter(code__in=values).values_list("pk", flat=True))

    return convert


# Each is served by an index of inventory.Product (its Meta says which).
PRODUCT_FILTERS: dict[str, Filter] = {
    "id": exact("pk", _product_pks),
    "status": exact("status", _statuses),
    "productOffering.id": exact("offering_id", _pks_by_code(Plan)),
    "productSpecification.id": exact("specification_id", _pks_by_code(ProductSpecification)),
    "relatedParty.id": exact("customer_id", _customer_pks),
    "productOrderItem.productOrderId": exact("order_id", _order_ids),
    "startDate": timestamp("start_date"),
}


class ProductList(InventoryView):
    @extend_schema(
        operation_id="listProduct",
        summary="List or find products of the installed base",
        description=docs.LIST_DESCRIPTION,
        parameters=docs.LIST_PARAMETERS + docs.FILTER_PARAMETERS,
        responses={200: docs.InventoryProductDoc(many=True), **docs.READ_ERRORS},
        tags=["product"],
    )
    def get(self, request: Request) -> Response:
        products = apply_filters(request, inventory_products(request.user), PRODUCT_FILTERS)
        if any(name.split(".")[0] == "startDate" for name in request.query_params):
            # Newest first by startDate itself, so that the range is read from its index in
            # order: newest first by entry would walk every later product to reach an old
            # range (a product starts as it enters the installed base: the orders agree).
            products = products.order_by("-start_date", "-id")
        return list_response(
            request,
            products,
            lambda product: product_representation(product, request),
            always=ALWAYS,
        )


class ProductDetail(InventoryView):
    @extend_schema(
        operation_id="retrieveProduct",
        summary="Retrieve a product of the installed base",
        description=docs.READ_ONLY_NOTE,
        parameters=[docs.PRODUCT_ID, docs.FIELDS],
        responses={200: docs.InventoryProductDoc, **docs.READ_ERRORS},
        tags=["product"],
    )
    def get(self, request: Request, product_id: str) -> Response:
        pk = product_pk(product_id)
        product = inventory_products(request.user).filter(pk=pk).first() if pk else None
        if product is None:
            raise not_found(f"No product '{product_id}'.")
        representation = product_representation(product, request)
        return Response(select_fields(representation, requested_fields(request), ALWAYS))
