"""How the TMF620 endpoints are described in the served OpenAPI document (drf-spectacular).

These serializers only document shapes; the views answer with tmf.catalog.representation.
Attribute names starting with ``@`` cannot be Python names, so they are added with ``at_fields()``.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from tmf.catalog.representation import LifecycleStatus
from tmf.docs import at_fields, error_responses


class CatalogTimePeriodDoc(serializers.Serializer):
    startDateTime = serializers.DateTimeField(required=False)
    endDateTime = serializers.DateTimeField(required=False)


class CatalogMoneyDoc(serializers.Serializer):
    unit = serializers.CharField(help_text="ISO 4217 currency, e.g. GBP.")
    value = serializers.FloatField()


class ProductOfferingPriceRefDoc(serializers.Serializer):
    id = serializers.CharField(help_text="<offering id>-monthly")
    href = serializers.CharField()
    name = serializers.CharField()


at_fields(
    ProductOfferingPriceRefDoc, referredType=serializers.CharField(help_text="ProductOfferingPrice")
)


class ProductSpecCharacteristicValueDoc(serializers.Serializer):
    valueType = serializers.CharField(help_text="integer")
    value = serializers.IntegerField()
    unitOfMeasure = serializers.CharField(help_text="Mbps")
    isDefault = serializers.BooleanField()


class ProdSpecCharValueUseDoc(serializers.Serializer):
    name = serializers.ChoiceField(choices=["downloadSpeedMbps", "uploadSpeedMbps"])
    description = serializers.CharField()
    valueType = serializers.CharField(help_text="integer")
    minCardinality = serializers.IntegerField()
    maxCardinality = serializers.IntegerField()
    productSpecCharacteristicValue = ProductSpecCharacteristicValueDoc(many=True)


LIFECYCLE_HELP = "Active: sold today. Retired: no longer sold (kept for the orders that name it)."


class ProductOfferingDoc(serializers.Serializer):
    id = serializers.CharField(help_text="The plan code; TMF622 orders name it.")
    href = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    isBundle = serializers.BooleanField()
    isSellable = serializers.BooleanField()
    lifecycleStatus = serializers.ChoiceField(
        choices=LifecycleStatus.choices, help_text=LIFECYCLE_HELP
    )
    lastUpdate = serializers.DateTimeField(required=False)
    validFor = CatalogTimePeriodDoc(required=False)
    productOfferingPrice = ProductOfferingPriceRefDoc(many=True)
    prodSpecCharValueUse = ProdSpecCharValueUseDoc(
        many=True, help_text="Download and upload speed in Mbps."
    )


at_fields(ProductOfferingDoc, type=serializers.CharField(help_text="ProductOffering"))


class ProductOfferingPriceDoc(serializers.Serializer):
    id = serializers.CharField(help_text="<offering id>-monthly")
    href = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    isBundle = serializers.BooleanField()
    lifecycleStatus = serializers.ChoiceField(
        choices=LifecycleStatus.choices, help_text=LIFECYCLE_HELP
    )
    lastUpdate = serializers.DateTimeField(required=False)
    validFor = CatalogTimePeriodDoc(required=False)
    priceType = serializers.ChoiceField(choices=["recurring"])
    recurringChargePeriodType = serializers.ChoiceField(choices=["month"])
    recurringChargePeriodLength = serializers.IntegerField()
    price = CatalogMoneyDoc(
        help_text="Today's monthly price; an order keeps the price it was taken at."
    )


at_fields(ProductOfferingPriceDoc, type=serializers.CharField(help_text="ProductOfferingPrice"))


def _query(name: str, text: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, description=text)


FIELDS_TEXT = "Comma-separated first-level attributes to return (id, href and @type always come)."
PAGING_PARAMETERS = [
    _query("fields", FIELDS_TEXT),
    OpenApiParameter("offset", OpenApiTypes.INT, OpenApiParameter.QUERY, description="Default 0."),
    OpenApiParameter(
        "limit", OpenApiTypes.INT, OpenApiParameter.QUERY, description="Default 100, at most 1000."
    ),
]
LIFECYCLE_FILTER = _query("lifecycleStatus", "Active or Retired (a,b for either).")
LAST_UPDATE_FILTER = _query(
    "lastUpdate", "A day (2026-11-30) or instant; also lastUpdate.gte / .gt / .lte / .lt."
)
OFFERING_FILTERS = [
    _query("id", "Offering id (plan code); a,b for either."),
    _query("name", "Exact name."),
    LIFECYCLE_FILTER,
    _query("isSellable", "true or false."),
    LAST_UPDATE_FILTER,
]
PRICE_FILTERS = [
    _query("id", "Price id (<offering id>-monthly)."),
    _query("name", "Exact name."),
    LIFECYCLE_FILTER,
    _query("priceType", "recurring (the only type offered)."),
    _query("recurringChargePeriodType", "month (the only period offered)."),
    LAST_UPDATE_FILTER,
]
OFFERING_ID = OpenApiParameter(
    "offering_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The plan code."
)
PRICE_ID = OpenApiParameter(
    "price_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="<offering id>-monthly"
)
READ_ONLY_NOTE = (
    "The catalogue is managed by the ISP's staff in the admin: this API only reads it "
    "(POST, PATCH and DELETE answer 405)."
)


READ_ERRORS = error_responses(
    {
        400: "Invalid query (unknown filter, bad paging value)",
        401: "No or unknown bearer token",
        403: "The client lacks the 'read' scope",
        404: "No such resource",
    }
)
