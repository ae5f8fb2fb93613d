"""TMF620 Product Catalog v4, read only: productSpecification, productOffering and
productOfferingPrice.

The catalogue is the specification and plan tables, managed by staff in the Django admin; see
tmf.catalog.representation for how they read as TMF620 resources.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from orders.models import LifecycleStatus as SpecificationStatus
from tmf.catalog import docs
from tmf.catalog.representation import (
    ALWAYS,
    LifecycleStatus,
    Price,
    PriceKind,
    offering_representation,
    plan_prices,
    price_of_id,
    price_representation,
    specification_representation,
)
from tmf.catalog.selectors import catalog_plans, catalog_specifications, specification_parents
from tmf.common import (
    Filter,
    RefusesOtherMethods,
    apply_filters,
    exact,
    list_response,
    page_bounds,
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


def _boolean(name: str) -> Callable[[str], bool]:
    def convert(value: str) -> bool:
        if value not in ("true", "false"):
            raise bad_request(f"'{value}' is not true or false.", **{name: "Not true or false."})
        return value == "true"

    return convert


def _specification_status(value: str) -> str | None:
    return value if value in SpecificationStatus.values else None


OFFERING_FILTERS: dict[str, Filter] = {
    "id": exact("code"),
    "name": exact("name"),
    "lifecycleStatus": _mapped("is_active", _is_active),
    "isSellable": _mapped("is_active", _boolean("isSellable")),
    "lastUpdate": timestamp("last_update"),
    "productSpecification.id": exact("specification__code"),
}
SPECIFICATION_FILTERS: dict[str, Filter] = {
    "id": exact("code"),
    "name": exact("name"),
    "lifecycleStatus": _mapped("lifecycle_status", _specification_status),
    "version": exact("version"),
    "brand": exact("brand"),
    "isBundle": _constant("isBundle", "false"),
    "lastUpdate": timestamp("last_update"),
}


def _one(request: Request, representation: dict[str, Any]) -> Response:
    return Response(select_fields(representation, requested_fields(request), ALWAYS))


# --- productSpecification -----------------------------------------------------------------------
class SpecificationList(CatalogView):
    @extend_schema(
        operation_id="listProductSpecification",
        summary="List or find product specifications (what can be delivered)",
        description=docs.READ_ONLY_NOTE,
        parameters=docs.PAGING_PARAMETERS + docs.SPECIFICATION_FILTERS,
        responses={200: docs.ProductSpecificationDoc(many=True), **docs.READ_ERRORS},
        tags=["productSpecification"],
    )
    def get(self, request: Request) -> Response:
        specifications = apply_filters(request, catalog_specifications(), SPECIFICATION_FILTERS)
        parents = specification_parents()
        return list_response(
            request,
            specifications,
            lambda spec: specification_representation(spec, request, parents=parents),
            always=ALWAYS,
        )


class SpecificationDetail(CatalogView):
    @extend_schema(
        operation_id="retrieveProductSpecification",
        summary="Retrieve a product specification (retired ones too)",
        description=docs.READ_ONLY_NOTE,
        parameters=[docs.SPECIFICATION_ID, docs.PAGING_PARAMETERS[0]],
        responses={200: docs.ProductSpecificationDoc, **docs.READ_ERRORS},
        tags=["productSpecification"],
    )
    def get(self, request: Request, specification_id: str) -> Response:
        specification = catalog_specifications().filter(code=specification_id).first()
        if specification is None:
            raise not_found(f"No product specification '{specification_id}'.")
        return _one(request, specification_representation(specification, request))


# --- productOffering ----------------------------------------------------------------------------
class OfferingList(CatalogView):
    @extend_schema(
        operation_id="listProductOffering",
        summary="List or find product offerings (internet plans and add-ons)",
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
PriceTest = Callable[[Price, list[str]], bool]
PRICE_TESTS: dict[str, PriceTest] = {
    "id": lambda price, values: price.id in values,
    "name": lambda price, values: price.name in values,
    "priceType": lambda price, values: price.kind.value in values,
    "recurringChargePeriodType": lambda price, values: (
        price.kind is PriceKind.MONTHLY and "month" in values
    ),
}


def _price_filters(tests: list[Callable[[Price], bool]]) -> dict[str, Filter]:
    """The price list's filters: those on the plan (lifecycle, audit dates) narrow the plans
    read; those on the price itself (id, name, type) are noted in ``tests`` for the prices
    the plans expand to."""

    def on_price(name: str, test: PriceTest) -> Filter:
        def apply(queryset: QuerySet[Any], values: list[str], op: str | None) -> QuerySet[Any]:
            if op is not None:
                raise bad_request(f"'{name}.{op}' does not apply to this attribute.")
            tests.append(lambda price: test(price, values))
            return queryset

        return apply

    return {
        **{name: on_price(name, test) for name, test in PRICE_TESTS.items()},
        "lifecycleStatus": _mapped("is_active", _is_active),
        "lastUpdate": timestamp("last_update"),
    }


def price_list_response(request: Request, plans: QuerySet[Any]) -> Response:
    """One page of the prices of ``plans`` (each plan's monthly charge, then its one-time
    charge where it has one), filtered, with X-Total-Count and X-Result-Count.

    Read whole, then paged by offset: the list is as long as the catalogue (at most two
    prices per offering), which staff write by hand, not as long as the order book; the
    plans come in one query."""
    tests: list[Callable[[Price], bool]] = []
    plans = apply_filters(request, plans, _price_filters(tests))
    prices: Iterable[Price] = (price for plan in plans for price in plan_prices(plan))
    matching = [price for price in prices if all(test(price) for test in tests)]
    offset, limit = page_bounds(request)
    page = matching[offset : offset + limit]
    fields = requested_fields(request)
    body = [select_fields(price_representation(p, request), fields, ALWAYS) for p in page]
    headers = {"X-Total-Count": str(len(matching)), "X-Result-Count": str(len(body))}
    return Response(body, headers=headers)


class PriceList(CatalogView):
    @extend_schema(
        operation_id="listProductOfferingPrice",
        summary="List or find product offering prices (monthly and one-time charges)",
        description=docs.READ_ONLY_NOTE,
        parameters=docs.PAGING_PARAMETERS + docs.PRICE_FILTERS,
        responses={200: docs.ProductOfferingPriceDoc(many=True), **docs.READ_ERRORS},
        tags=["productOfferingPrice"],
    )
    def get(self, request: Request) -> Response:
        return price_list_response(request, catalog_plans())


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
        named = price_of_id(price_id)
        plan = catalog_plans().filter(code=named[0]).first() if named else None
        price = None
        if plan is not None and named is not None:
            price = next((p for p in plan_prices(plan) if p.kind is named[1]), None)
        if price is None:
            raise not_found(f"No product offering price '{price_id}'.")
        return _one(request, price_representation(price, request))
