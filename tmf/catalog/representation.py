"""The catalogue as TMF620 v4 resources, read only.

- One ``ProductSpecification`` per ``orders.models.ProductSpecification`` (what can be
  delivered: internet access, a static IPv4 address, a managed router). Its ``id`` is the
  specification's code; ``productSpecCharacteristic`` lists its characteristics as staff keep
  them (name, valueType, description, the values allowed); ``lifecycleStatus`` ("In design",
  "Launched", "Retired"), ``version``, ``brand`` and ``lastUpdate`` are its own columns. An
  add-on (static IP, router) names the specification it relies on in
  ``productSpecificationRelationship`` (``relationshipType`` "dependency"): it is sold only
  with an internet access line.
- One ``ProductOffering`` per plan, line and add-on alike. Its ``id`` is the plan code, the id
  TMF622 orders and TMF679 qualifications name in ``productOffering.id``; it names its
  ``productSpecification`` (id, href, name, version). Retired plans (``is_active`` off) stay
  retrievable and listed, as ``lifecycleStatus`` "Retired" and ``isSellable`` false, because
  orders taken while they were sold still point at them; ``?lifecycleStatus=Active`` lists only
  what can be ordered today.
- ``prodSpecCharValueUse`` gives, for each characteristic of the offering's specification, the
  values this offering delivers, under the specification's characteristic names: the speeds of
  a line (``downloadSpeed``, ``uploadSpeed``, in Mbps), the access technologies it can be sold
  on (``technology``: the plan's ``technologies``, or every value the specification allows when
  the plan names none), a router's ``model``. A restriction the specification has no
  characteristic for (a router offering sold on some technologies only: the router
  specification has no ``technology``) is not invented here: the offering's description says
  it in words and TMF679 applies it (TECHNOLOGY_NOT_SUPPORTED).
- Prices, ``ProductOfferingPrice``: every plan's recurring monthly charge, id ``<plan
  code>-monthly``, and, where the plan has a one-time charge (a router fee), that charge, id
  ``<plan code>-one-time`` (``priceType`` "oneTime", no charge period). The offering links both.
- ``lastUpdate`` and ``validFor.startDateTime`` of offerings and prices come from the plan's
  audit log (tmf.catalog.selectors); plans loaded before auditing have neither.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.urls import reverse
from rest_framework.request import Request

from orders.models import Plan, ProductSpecification, Technology
from tmf.common import absolute, drop_empty, iso

# Attributes every representation carries, whatever ``fields=`` asks for.
ALWAYS = ("id", "href", "@type")
PRICE_SUFFIX = "-monthly"
PRICE_NAME_SUFFIX = " monthly charge"
ONE_TIME_SUFFIX = "-one-time"
ONE_TIME_NAME_SUFFIX = " one-time charge"
SPEED_UNIT = "Mbps"
# Characteristics whose value an offering keeps in a column of its own, not in
# ``characteristic_values``.
SPEED_COLUMNS = {"downloadSpeed": "download_mbps", "uploadSpeed": "upload_mbps"}
TECHNOLOGY = "technology"


class LifecycleStatus(models.TextChoices):
    """An offering's (and its prices') lifecycle status."""

    ACTIVE = "Active"
    RETIRED = "Retired"


def lifecycle_status(plan: Plan) -> str:
    return LifecycleStatus.ACTIVE if plan.is_active else LifecycleStatus.RETIRED


# --- paths and references -----------------------------------------------------------------------
def offering_path(code: str) -> str:
    return reverse("tmf620:product-offering-detail", args=[code])


def specification_path(code: str) -> str:
    return reverse("tmf620:product-specification-detail", args=[code])


def offering_ref(plan: Plan, request: Request | None = None) -> dict[str, Any]:
    """A ProductOfferingRef to ``plan``, as TMF622 and TMF679 carry it."""
    return {
        "id": plan.code,
        "href": absolute(request, offering_path(plan.code)),
        "name": plan.name,
        "@referredType": "ProductOffering",
    }


def specification_ref(
    specification: ProductSpecification, request: Request | None = None
) -> dict[str, Any]:
    """A ProductSpecificationRef, as an offering names its specification."""
    return {
        "id": specification.code,
        "href": absolute(request, specification_path(specification.code)),
        "name": specification.name,
        "version": specification.version,
        "@referredType": "ProductSpecification",
    }


# --- prices -------------------------------------------------------------------------------------
class PriceKind(enum.Enum):
    MONTHLY = "recurring"
    ONE_TIME = "oneTime"


@dataclass(frozen=True)
class Price:
    """One ProductOfferingPrice: a plan's monthly charge or its one-time charge."""

    plan: Plan
    kind: PriceKind

    @property
    def id(self) -> str:
        suffix = PRICE_SUFFIX if self.kind is PriceKind.MONTHLY else ONE_TIME_SUFFIX
        return f"{self.plan.code}{suffix}"

    @property
    def name(self) -> str:
        suffix = PRICE_NAME_SUFFIX if self.kind is PriceKind.MONTHLY else ONE_TIME_NAME_SUFFIX
        return f"{self.plan.name}{suffix}"

    @property
    def amount(self) -> Decimal:
        return (
            self.plan.monthly_price if self.kind is PriceKind.MONTHLY else self.plan.one_time_price
        )

    @property
    def path(self) -> str:
        return reverse("tmf620:price-detail", args=[self.id])


def plan_prices(plan: Plan) -> list[Price]:
    """The prices of ``plan``: its monthly charge, and its one-time charge where it has one."""
    prices = [Price(plan, PriceKind.MONTHLY)]
    if plan.one_time_price > 0:
        prices.append(Price(plan, PriceKind.ONE_TIME))
    return prices


def price_of_id(identifier: str) -> tuple[str, PriceKind] | None:
    """The plan code and kind a price id names, or None when it cannot name one."""
    for suffix, kind in ((PRICE_SUFFIX, PriceKind.MONTHLY), (ONE_TIME_SUFFIX, PriceKind.ONE_TIME)):
        if identifier.endswith(suffix) and identifier[: -len(suffix)]:
            return identifier[: -len(suffix)], kind
    return None


def plan_code_of_price(identifier: str) -> str | None:
    """The plan code a price id names, or None when it cannot name one."""
    named = price_of_id(identifier)
    return named[0] if named else None


def price_path(plan: Plan) -> str:
    """The path of ``plan``'s monthly price."""
    return Price(plan, PriceKind.MONTHLY).path


def price_id(plan: Plan) -> str:
    return Price(plan, PriceKind.MONTHLY).id


def price_name(plan: Plan) -> str:
    return Price(plan, PriceKind.MONTHLY).name


def _valid_for(plan: Plan) -> dict[str, Any] | None:
    start = getattr(plan, "first_recorded", None)
    return {"startDateTime": iso(start)} if start else None


def price_representation(price: Price | Plan, request: Request | None = None) -> dict[str, Any]:
    """A price as a TMF620 ProductOfferingPrice (today's price; an order keeps the price it
    was taken at). A plan stands for its monthly price."""
    if isinstance(price, Plan):
        price = Price(price, PriceKind.MONTHLY)
    plan = price.plan
    monthly = price.kind is PriceKind.MONTHLY
    description = (
        f"Monthly charge for {plan.name}, billed every month."
        if monthly
        else f"One-time charge for {plan.name}, on the first bill."
    )
    return drop_empty(
        {
            "id": price.id,
            "href": absolute(request, price.path),
            "name": price.name,
            "description": description,
            "isBundle": False,
            "lifecycleStatus": lifecycle_status(plan),
            "lastUpdate": iso(getattr(plan, "last_update", None)),
            "validFor": _valid_for(plan),
            "priceType": price.kind.value,
            "recurringChargePeriodType": "month" if monthly else None,
            "recurringChargePeriodLength": 1 if monthly else None,
            "price": {"unit": plan.currency, "value": float(price.amount)},
            "@type": "ProductOfferingPrice",
        }
    )


def price_ref(price: Price, request: Request | None = None) -> dict[str, Any]:
    return {
        "id": price.id,
        "href": absolute(request, price.path),
        "name": price.name,
        "@referredType": "ProductOfferingPrice",
    }


# --- offerings ----------------------------------------------------------------------------------
def _value(value_type: str, value: Any, *, unit: str = "", default: bool) -> dict[str, Any]:
    return drop_empty(
        {
            "valueType": value_type,
            "value": value,
            "unitOfMeasure": unit,
            "isDefault": default,
            "@type": "ProductSpecificationCharacteristicValue",
        }
    )


def _offered_values(plan: Plan, characteristic: dict[str, Any]) -> list[Any]:
    name = characteristic.get("name")
    if name in SPEED_COLUMNS:
        value = getattr(plan, SPEED_COLUMNS[name])
        return [] if value is None else [value]
    if name == TECHNOLOGY:
        return list(plan.technologies or characteristic.get("values") or [])
    if name in (plan.characteristic_values or {}):
        return [plan.characteristic_values[name]]
    return list(characteristic.get("values") or [])


def characteristic_value_uses(plan: Plan) -> list[dict[str, Any]]:
    """``prodSpecCharValueUse``: per characteristic of the specification, what ``plan``
    delivers (those it gives no value for are left out)."""
    uses = []
    for characteristic in plan.specification.characteristics or []:
        if not isinstance(characteristic, dict):
            continue  # the admin refuses such entries; one written otherwise is left out
        values = _offered_values(plan, characteristic)
        if not values:
            continue
        value_type = characteristic.get("valueType", "string")
        unit = SPEED_UNIT if characteristic.get("name") in SPEED_COLUMNS else ""
        uses.append(
            drop_empty(
                {
                    "name": characteristic.get("name"),
                    "description": characteristic.get("description"),
                    "valueType": value_type,
                    "minCardinality": 1,
                    "maxCardinality": 1,
                    "productSpecCharacteristicValue": [
                        _value(value_type, value, unit=unit, default=len(values) == 1)
                        for value in values
                    ],
                    "productSpecification": {
                        "id": plan.specification.code,
                        "@referredType": "ProductSpecification",
                    },
                    "@type": "ProductSpecificationCharacteristicValueUse",
                }
            )
        )
    return uses


def _has_characteristic(specification: ProductSpecification, name: str) -> bool:
    return any(
        isinstance(entry, dict) and entry.get("name") == name
        for entry in specification.characteristics or []
    )


def offering_description(plan: Plan) -> str:
    if plan.description:
        text = plan.description
    elif plan.download_mbps is not None:
        text = (
            f"Residential internet, {plan.speed_tier} download and {plan.upload_mbps} Mbps upload."
        )
    else:
        text = plan.specification.description or plan.specification.name
    if plan.technologies and not _has_characteristic(plan.specification, TECHNOLOGY):
        labels = [Technology(code).label for code in plan.technologies if code in Technology.values]
        text = f"{text} Sold on {' or '.join(labels)} lines only."
    return text


def offering_representation(plan: Plan, request: Request | None = None) -> dict[str, Any]:
    """``plan`` as a TMF620 ProductOffering. Pass plans from ``catalog_plans()`` to get
    ``lastUpdate`` and ``validFor`` (and the specification in the same query)."""
    return drop_empty(
        {
            "id": plan.code,
            "href": absolute(request, offering_path(plan.code)),
            "name": plan.name,
            "description": offering_description(plan),
            "isBundle": False,
            "isSellable": plan.is_active,
            "lifecycleStatus": lifecycle_status(plan),
            "lastUpdate": iso(getattr(plan, "last_update", None)),
            "validFor": _valid_for(plan),
            "productSpecification": specification_ref(plan.specification, request),
            "productOfferingPrice": [price_ref(price, request) for price in plan_prices(plan)],
            "prodSpecCharValueUse": characteristic_value_uses(plan),
            "@type": "ProductOffering",
        }
    )


# --- specifications -----------------------------------------------------------------------------
def _characteristic(entry: dict[str, Any]) -> dict[str, Any]:
    value_type = entry.get("valueType", "string")
    return drop_empty(
        {
            "name": entry.get("name"),
            "description": entry.get("description"),
            "valueType": value_type,
            "configurable": False,
            "minCardinality": 1,
            "maxCardinality": 1,
            "productSpecCharacteristicValue": [
                _value(value_type, value, default=False) for value in entry.get("values") or []
            ],
            "@type": "ProductSpecificationCharacteristic",
        }
    )


def specification_representation(
    specification: ProductSpecification,
    request: Request | None = None,
    *,
    parents: dict[str, ProductSpecification] | None = None,
) -> dict[str, Any]:
    """``specification`` as a TMF620 ProductSpecification. ``parents`` maps a kind to the
    specification of that kind an add-on relies on (``specification_parents()``); without it
    an add-on's relationship is looked up (one query)."""
    relationship = None
    if specification.parent_kind:
        if parents is None:
            parent = ProductSpecification.objects.filter(kind=specification.parent_kind).first()
        else:
            parent = parents.get(specification.parent_kind)
        if parent is not None:
            relationship = [
                {
                    "id": parent.code,
                    "href": absolute(request, specification_path(parent.code)),
                    "relationshipType": "dependency",
                    "@type": "ProductSpecificationRelationship",
                }
            ]
    return drop_empty(
        {
            "id": specification.code,
            "href": absolute(request, specification_path(specification.code)),
            "name": specification.name,
            "description": specification.description,
            "brand": specification.brand,
            "version": specification.version,
            "isBundle": False,
            "lifecycleStatus": specification.lifecycle_status,
            "lastUpdate": iso(specification.last_update),
            "productSpecCharacteristic": [
                _characteristic(entry)
                for entry in specification.characteristics or []
                if isinstance(entry, dict) and entry.get("name")
            ],
            "productSpecificationRelationship": relationship,
            "@type": "ProductSpecification",
        }
    )
