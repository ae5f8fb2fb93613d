"""TMF620 Product Catalog v4, read only: productOffering and productOfferingPrice.

The catalogue is the plan table, managed by staff in the Django admin; see
tmf.catalog.representation for how a plan reads as an offering and its price.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from tmf.catalog import docs
from tmf.catalog.representation import (
    ALWAYS,
    PRICE_NAME_SUFFIX,
    LifecycleStatus,
    offering_representation,
    plan_code_of_price,
    price_representation,
)
from tmf.catalog.selectors import catalog_plans
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

READ = {"GET": "read", "HEAD": "read"}


class CatalogView(RefusesOtherMethods):
    required_scopes = READ
    refusal = "The catalogue is managed by the ISP's staff in the admin; this API only reads it."


# --- ?attr=value filters ------------------------------------------------------------------------
def _mapped(field: str, convert: Callable[[str], Any]) -> Filter:
    """``field`` equal to any value ``convert`` maps; a value it maps to None matches nothing
    (it names no resource, which is not an error)."""

    def apply(queryset: QuerySet[Any], values: list[str], op: str | None) -> QuerySet[Any]:
        if op is not None:
            raise bad_request(f"'{op}' does not apply to this attribute.")
        converted = [value for value in map(convert, values) if value is not None]
        return queryset.filter(**{f"{field}__in": converted})

    return apply


def _constant(name: str, value: str) -> Filter:
    """An attribute every resource has with the same ``value``: all or nothing."""

    def apply(queryset: QuerySet[Any], values: list[str], op: str | None) -> QuerySet[Any]:
        if op is not None:
            raise bad_request(f"'{name}.{op}' does not apply to this attribute.")
        return queryset if value in values else queryset.none()

    return apply


def _is_active(value: str) -> bool | None:
    return {LifecycleStatus.ACTIVE.value: True, LifecycleStatus.RETIRED.value: False}.get(value)


def _boolean(value: str) -> bool:
    if value not in ("true", "false"):
        raise bad_request(f"'{value}' is not true or false.", isSellable="Not true or false.")
    return value == "true"


def _plan_name_of_price(value: str) -> str | None:
    return value[: -len(PRICE_NAME_SUFFIX)] if value.endswith(PRICE_NAME_SUFFIX) else None


OFFERING_FILTERS: dict[str, Filter] = {
    "id": exact("code"),
    "name": exact("name"),
    "lifecycleStatus": _mapped("is_active", _is_active),
    "isSellable": _mapped("is_active", _boolean),
    "lastUpdate": timestamp("last_update"),
}
PRICE_FILTERS: dict[str, Filter] = {
    "id": _mapped("code", plan_code_of_price),
    "name": _mapped("name", _plan_name_of_price),
    "lifecycleStatus": _mapped("is_active", _is_active),
    "priceType": _constant("priceType", "recurring"),
    "recurringChargePeriodType": _constant("recurringChargePeriodType", "month"),
    "lastUpdate": timestamp("last_update"),
}


def _one(request: Request, representation: dict[str, Any]) -> Response:
    return Response(select_fields(representation, requested_fields(request), ALWAYS))


# --- productOffering ----------------------------------------------------------------------------
class OfferingList(CatalogView):
    @extend_schema(
        operation_id="listProductOffering",
        summary="List or find product offerings (one per plan)",
        description=docs.READ_ONLY_NOTE,
        parameters=docs.PAGING_PARAMETERS + docs.OFFERING_FILTERS,
        responses={200: docs.ProductOfferingDoc(many=True), **docs.READ_ERRORS},
        tags=["productOffering"],
    )
    def get(self, request: Request) -> Response:
        plans = apply_filters(request, catalog_plans(), OFFERING_FILTERS)
        return list_response(
            request, plans, lambda plan: offering_representation(plan, request), always=ALWAYS
        )


class OfferingDetail(CatalogView):
    @extend_schema(
        operation_id="retrieveProductOffering",
        summary="Retrieve a product offering (retired ones too)",
        description=docs.READ_ONLY_NOTE,
        parameters=[docs.OFFERING_ID, docs.PAGING_PARAMETERS[0]],
        responses={200: docs.ProductOfferingDoc, **docs.READ_ERRORS},
        tags=["productOffering"],
    )
    def get(self, request: Request, offering_id: str) -> Response:
        plan = catalog_plans().filter(code=offering_id).first()
        if plan is None:
            raise not_found(f"No product offering '{offering_id}'.")
        return _one(request, offering_representation(plan, request))


# --- productOfferingPrice -----------------------------------------------------------------------
class PriceList(CatalogView):
    @extend_schema(
        operation_id="listProductOfferingPrice",
        summary="List or find product offering prices (each plan's monthly charge)",
        description=docs.READ_ONLY_NOTE,
        parameters=docs.PAGING_PARAMETERS + docs.PRICE_FILTERS,
        responses={200: docs.ProductOfferingPriceDoc(many=True), **docs.READ_ERRORS},
        tags=["productOfferingPrice"],
    )
    def get(self, request: Request) -> Response:
        plans = apply_filters(request, catalog_plans(), PRICE_FILTERS)
        return list_response(
            request, plans, lambda plan: price_representation(plan, request), always=ALWAYS
        )


class PriceDetail(CatalogView):
    @extend_schema(
        operation_id="retrieveProductOfferingPrice",
        summary="Retrieve a product offering price",
        description=docs.READ_ONLY_NOTE,
        parameters=[docs.PRICE_ID, docs.PAGING_PARAMETERS[0]],
        responses={200: docs.ProductOfferingPriceDoc, **docs.READ_ERRORS},
        tags=["productOfferingPrice"],
    )
    def get(self, request: Request, price_id: str) -> Response:
        code = plan_code_of_price(price_id)
        plan = catalog_plans().filter(code=code).first() if code else None
        if plan is None:
            raise not_found(f"No product offering price '{price_id}'.")
        return _one(request, price_representation(plan, request))
