"""How the TMF620 endpoints are described in the served OpenAPI document (drf-spectacular).

These serializers only document shapes; the views answer with tmf.catalog.representation.
Attribute names starting with ``@`` cannot be Python names, so they are added with ``at_fields()``.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from orders.models import LifecycleStatus as SpecificationStatus
from tmf.catalog.representation import LifecycleStatus
from tmf.docs import at_fields, error_responses


class CatalogTimePeriodDoc(serializers.Serializer):
    startDateTime = serializers.DateTimeField(required=False)
    endDateTime = serializers.DateTimeField(required=False)


class CatalogMoneyDoc(serializers.Serializer):
    unit = serializers.CharField(help_text="ISO 4217 currency, e.g. GBP.")
    value = serializers.FloatField()


class ProductOfferingPriceRefDoc(serializers.Serializer):
    id = serializers.CharField(help_text="<offering id>-monthly or <offering id>-one-time")
    href = serializers.CharField()
    name = serializers.CharField()


at_fields(
    ProductOfferingPriceRefDoc, referredType=serializers.CharField(help_text="ProductOfferingPrice")
)


class ProductSpecCharacteristicValueDoc(serializers.Serializer):
    valueType = serializers.CharField(help_text="integer or string")
    value = serializers.JSONField(help_text="A speed in Mbps, a technology, a router model.")
    unitOfMeasure = serializers.CharField(required=False, help_text="Mbps for speeds")
    isDefault = serializers.BooleanField(required=False)


at_fields(
    ProductSpecCharacteristicValueDoc,
    type=serializers.CharField(help_text="ProductSpecificationCharacteristicValue"),
)


class CharValueUseSpecificationRefDoc(serializers.Serializer):
    id = serializers.CharField(help_text="The specification the characteristic belongs to.")


at_fields(
    CharValueUseSpecificationRefDoc,
    referredType=serializers.CharField(help_text="ProductSpecification"),
)


class ProdSpecCharValueUseDoc(serializers.Serializer):
    name = serializers.CharField(
        help_text="A characteristic of the offering's specification: downloadSpeed, "
        "uploadSpeed, technology (the access technologies it is sold on), model, ipVersion."
    )
    description = serializers.CharField(required=False)
    valueType = serializers.CharField(help_text="integer or string")
    minCardinality = serializers.IntegerField()
    maxCardinality = serializers.IntegerField()
    productSpecCharacteristicValue = ProductSpecCharacteristicValueDoc(many=True)
    productSpecification = CharValueUseSpecificationRefDoc()


at_fields(
    ProdSpecCharValueUseDoc,
    type=serializers.CharField(help_text="ProductSpecificationCharacteristicValueUse"),
)


class ProductSpecificationRefDoc(serializers.Serializer):
    id = serializers.CharField(help_text="The specification code.")
    href = serializers.CharField()
    name = serializers.CharField()
    version = serializers.CharField()


at_fields(
    ProductSpecificationRefDoc, referredType=serializers.CharField(help_text="ProductSpecification")
)


class ProductSpecCharacteristicDoc(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField(required=False)
    valueType = serializers.CharField(help_text="integer or string")
    configurable = serializers.BooleanField()
    minCardinality = serializers.IntegerField()
    maxCardinality = serializers.IntegerField()
    productSpecCharacteristicValue = ProductSpecCharacteristicValueDoc(
        many=True, required=False, help_text="The values allowed, where the list is closed."
    )


at_fields(
    ProductSpecCharacteristicDoc,
    type=serializers.CharField(help_text="ProductSpecificationCharacteristic"),
)


class ProductSpecificationRelationshipDoc(serializers.Serializer):
    id = serializers.CharField(help_text="The specification an add-on relies on.")
    href = serializers.CharField()
    relationshipType = serializers.ChoiceField(
        choices=["dependency"], help_text="Sold only with an item of that specification."
    )


at_fields(
    ProductSpecificationRelationshipDoc,
    type=serializers.CharField(help_text="ProductSpecificationRelationship"),
)


class ProductSpecificationDoc(serializers.Serializer):
    id = serializers.CharField(help_text="The specification code (internet-access, ...).")
    href = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(required=False)
    brand = serializers.CharField(required=False)
    version = serializers.CharField()
    isBundle = serializers.BooleanField()
    lifecycleStatus = serializers.CharField(
        help_text=", ".join(SpecificationStatus.values[:-1])
        + f" or {SpecificationStatus.values[-1]}."
    )
    lastUpdate = serializers.DateTimeField()
    productSpecCharacteristic = ProductSpecCharacteristicDoc(many=True)
    productSpecificationRelationship = ProductSpecificationRelationshipDoc(
        many=True, required=False, help_text="An add-on: the line it is sold with."
    )


at_fields(ProductSpecificationDoc, type=serializers.CharField(help_text="ProductSpecification"))


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
    productSpecification = ProductSpecificationRefDoc()
    productOfferingPrice = ProductOfferingPriceRefDoc(
        many=True, help_text="Its monthly charge and, where it has one, its one-time charge."
    )
    prodSpecCharValueUse = ProdSpecCharValueUseDoc(
        many=True, help_text="What the offering delivers of its specification's characteristics."
    )


at_fields(ProductOfferingDoc, type=serializers.CharField(help_text="ProductOffering"))


class ProductOfferingPriceDoc(serializers.Serializer):
    id = serializers.CharField(help_text="<offering id>-monthly or <offering id>-one-time")
    href = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    isBundle = serializers.BooleanField()
    lifecycleStatus = serializers.ChoiceField(
        choices=LifecycleStatus.choices, help_text=LIFECYCLE_HELP
    )
    lastUpdate = serializers.DateTimeField(required=False)
    validFor = CatalogTimePeriodDoc(required=False)
    priceType = serializers.ChoiceField(choices=["recurring", "oneTime"])
    recurringChargePeriodType = serializers.ChoiceField(
        choices=["month"], required=False, help_text="Recurring prices only."
    )
    recurringChargePeriodLength = serializers.IntegerField(
        required=False, help_text="Recurring prices only."
    )
    price = CatalogMoneyDoc(help_text="Today's price; an order keeps the price it was taken at.")


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
    _query("productSpecification.id", "The offerings of a specification (internet-access, ...)."),
]
PRICE_FILTERS = [
    _query("id", "Price id (<offering id>-monthly, <offering id>-one-time)."),
    _query("name", "Exact name."),
    LIFECYCLE_FILTER,
    _query("priceType", "recurring or oneTime."),
    _query("recurringChargePeriodType", "month (the only period offered)."),
    LAST_UPDATE_FILTER,
]
SPECIFICATION_FILTERS = [
    _query("id", "Specification id (its code); a,b for either."),
    _query("name", "Exact name."),
    _query("lifecycleStatus", "In design, Launched or Retired (a,b for either)."),
    _query("version", "Exact version."),
    _query("brand", "Exact brand."),
    _query("isBundle", "false (no specification is a bundle)."),
    LAST_UPDATE_FILTER,
]
SPECIFICATION_ID = OpenApiParameter(
    "specification_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="Its code."
)
OFFERING_ID = OpenApiParameter(
    "offering_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The plan code."
)
PRICE_ID = OpenApiParameter(
    "price_id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="<offering id>-monthly or <offering id>-one-time",
)
READ_ONLY_NOTE = (
    "The catalogue (specifications, offerings and their prices) is managed by the ISP's "
    "staff in the admin: this API only reads it (POST, PATCH and DELETE answer 405)."
)


READ_ERRORS = error_responses(
    {
        400: "Invalid query (unknown filter, bad paging value)",
        401: "No or unknown bearer token",
        403: "The client lacks the 'read' scope",
        404: "No such resource",
    }
)
