"""The plan catalogue as TMF620 v4 resources, read only.

- One ``ProductOffering`` per plan. Its ``id`` is the plan code, the id TMF622 orders and TMF679
  qualifications name in ``productOffering.id``. Retired plans (``is_active`` off) stay
  retrievable and listed, as ``lifecycleStatus`` "Retired" and ``isSellable`` false, because
  orders taken while they were sold still point at them; ``?lifecycleStatus=Active`` lists only
  what can be ordered today.
- One ``ProductOfferingPrice`` per plan: its recurring monthly charge, id ``<plan code>-monthly``.
- The speeds ride in ``prodSpecCharValueUse`` under the names TMF622 orders use for the product's
  characteristics (``downloadSpeedMbps``, ``uploadSpeedMbps``).
- ``lastUpdate`` and ``validFor.startDateTime`` come from the plan's audit log
  (tmf.catalog.selectors); plans loaded before auditing have neither. The catalogue keeps no
  version numbers, so ``version`` is left out.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import reverse
from rest_framework.request import Request

from orders.models import Plan
from tmf.common import absolute, drop_empty, iso

# Attributes every representation carries, whatever ``fields=`` asks for.
ALWAYS = ("id", "href", "@type")
PRICE_SUFFIX = "-monthly"
PRICE_NAME_SUFFIX = " monthly charge"
SPEED_UNIT = "Mbps"


class LifecycleStatus(models.TextChoices):
    ACTIVE = "Active"
    RETIRED = "Retired"


def lifecycle_status(plan: Plan) -> str:
    return LifecycleStatus.ACTIVE if plan.is_active else LifecycleStatus.RETIRED


def offering_path(code: str) -> str:
    return reverse("tmf620:product-offering-detail", args=[code])


def price_id(plan: Plan) -> str:
    return f"{plan.code}{PRICE_SUFFIX}"


def price_path(plan: Plan) -> str:
    return reverse("tmf620:price-detail", args=[price_id(plan)])


def price_name(plan: Plan) -> str:
    return f"{plan.name}{PRICE_NAME_SUFFIX}"


def plan_code_of_price(identifier: str) -> str | None:
    """The plan code a price id names, or None when it cannot name one."""
    if not identifier.endswith(PRICE_SUFFIX):
        return None
    return identifier[: -len(PRICE_SUFFIX)] or None


def offering_ref(plan: Plan, request: Request | None = None) -> dict[str, Any]:
    """A ProductOfferingRef to ``plan``, as TMF622 and TMF679 carry it."""
    return {
        "id": plan.code,
        "href": absolute(request, offering_path(plan.code)),
        "name": plan.name,
        "@referredType": "ProductOffering",
    }


def _speed(name: str, description: str, mbps: int) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "valueType": "integer",
        "minCardinality": 1,
        "maxCardinality": 1,
        "productSpecCharacteristicValue": [
            {
                "valueType": "integer",
                "value": mbps,
                "unitOfMeasure": SPEED_UNIT,
                "isDefault": True,
                "@type": "ProductSpecificationCharacteristicValue",
            }
        ],
        "@type": "ProductSpecificationCharacteristicValueUse",
    }


def _valid_for(plan: Plan) -> dict[str, Any] | None:
    start = getattr(plan, "first_recorded", None)
    return {"startDateTime": iso(start)} if start else None


def offering_representation(plan: Plan, request: Request | None = None) -> dict[str, Any]:
    """``plan`` as a TMF620 ProductOffering. Pass plans from ``catalog_plans()`` to get
    ``lastUpdate`` and ``validFor``."""
    description = plan.description or (
        f"Residential internet, {plan.speed_tier} download and {plan.upload_mbps} Mbps upload."
    )
    return drop_empty(
        {
            "id": plan.code,
            "href": absolute(request, offering_path(plan.code)),
            "name": plan.name,
            "description": description,
            "isBundle": False,
            "isSellable": plan.is_active,
            "lifecycleStatus": lifecycle_status(plan),
            "lastUpdate": iso(getattr(plan, "last_update", None)),
            "validFor": _valid_for(plan),
            "productOfferingPrice": [
                {
                    "id": price_id(plan),
                    "href": absolute(request, price_path(plan)),
                    "name": price_name(plan),
                    "@referredType": "ProductOfferingPrice",
                }
            ],
            "prodSpecCharValueUse": [
                _speed("downloadSpeedMbps", "Download speed", plan.download_mbps),
                _speed("uploadSpeedMbps", "Upload speed", plan.upload_mbps),
            ],
            "@type": "ProductOffering",
        }
    )


def price_representation(plan: Plan, request: Request | None = None) -> dict[str, Any]:
    """The monthly charge of ``plan`` as a TMF620 ProductOfferingPrice (today's price; an
    order keeps the price it was taken at)."""
    return drop_empty(
        {
            "id": price_id(plan),
            "href": absolute(request, price_path(plan)),
            "name": price_name(plan),
            "description": f"Monthly charge for {plan.name}, billed every month.",
            "isBundle": False,
            "lifecycleStatus": lifecycle_status(plan),
            "lastUpdate": iso(getattr(plan, "last_update", None)),
            "validFor": _valid_for(plan),
            "priceType": "recurring",
            "recurringChargePeriodType": "month",
            "recurringChargePeriodLength": 1,
            "price": {"unit": plan.currency, "value": float(plan.monthly_price)},
            "@type": "ProductOfferingPrice",
        }
    )
