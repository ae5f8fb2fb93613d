"""How the TMF637 endpoints are described in the served OpenAPI document (drf-spectacular).

These serializers only document shapes (the API reads no bodies); the views answer with
tmf.inventory.representation. Names carry ``Inventory`` where TMF622's document already has
the plain one (its order item's ``Product``).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from inventory.models import ProductStatus
from tmf.docs import at_fields, error_responses

# The statuses our products take (named ProductStatusType in the document), and every value of
# the official ProductStatusType, which a status filter may name (the official document spells
# one of them "aborted " with a space; the filter takes it without).
PRODUCT_STATUSES = ProductStatus.values
PRODUCT_STATUS_TYPE = (
    "created",
    "pendingActive",
    "cancelled",
    "active",
    "pendingTerminate",
    "terminated",
    "suspended",
    "aborted",
)


class InventoryRefDoc(serializers.Serializer):
    id = serializers.CharField()
    href = serializers.CharField()
    name = serializers.CharField()


at_fields(InventoryRefDoc, referredType=serializers.CharField())


class InventorySpecificationRefDoc(InventoryRefDoc):
    version = serializers.CharField()


class InventoryCharacteristicDoc(serializers.Serializer):
    name = serializers.CharField(help_text="e.g. downloadSpeed, uploadSpeed, technology, model")
    valueType = serializers.CharField(help_text="integer, number, boolean or string")
    value = serializers.JSONField()


class InventoryMoneyDoc(serializers.Serializer):
    unit = serializers.CharField(help_text="ISO 4217 currency, e.g. GBP.")
    value = serializers.FloatField()


class InventoryPriceAmountDoc(serializers.Serializer):
    taxIncludedAmount = InventoryMoneyDoc()


class InventoryProductPriceDoc(serializers.Serializer):
    name = serializers.CharField()
    priceType = serializers.ChoiceField(choices=["recurring", "oneTime"])
    recurringChargePeriod = serializers.CharField(required=False, help_text="month")
    price = InventoryPriceAmountDoc()


class InventoryRelationshipDoc(serializers.Serializer):
    relationshipType = serializers.ChoiceField(
        choices=["reliesOn"], help_text="An add-on relies on the line it is on."
    )
    product = InventoryRefDoc()


class InventoryPartyDoc(InventoryRefDoc):
    role = serializers.CharField(help_text="Customer")


class InventoryOrderItemDoc(serializers.Serializer):
    orderItemId = serializers.CharField()
    orderItemAction = serializers.CharField(help_text="add")
    productOrderId = serializers.CharField(help_text="The shared order ID (TMF622 productOrder).")
    productOrderHref = serializers.CharField()


class InventoryResourceDoc(serializers.Serializer):
    id = serializers.CharField(help_text="The identifier the network gave.")
    name = serializers.ChoiceField(choices=["port", "subscriber", "ipv4Address", "cpeSerial"])
    value = serializers.CharField()


at_fields(
    InventoryResourceDoc,
    referredType=serializers.CharField(help_text="PhysicalResource or LogicalResource"),
)


class InventoryPlaceDoc(serializers.Serializer):
    role = serializers.CharField(help_text="installationAddress")
    name = serializers.CharField(help_text="The address on one line.")
    streetName = serializers.CharField()
    locality = serializers.CharField(required=False, help_text="Second address line.")
    city = serializers.CharField()
    postcode = serializers.CharField()
    country = serializers.CharField(help_text="GB")


at_fields(InventoryPlaceDoc, type=serializers.CharField(help_text="GeographicAddress"))


class InventoryProductDoc(serializers.Serializer):
    id = serializers.CharField()
    href = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    isBundle = serializers.BooleanField()
    isCustomerVisible = serializers.BooleanField()
    status = serializers.ChoiceField(choices=PRODUCT_STATUSES)
    orderDate = serializers.DateTimeField()
    startDate = serializers.DateTimeField()
    terminationDate = serializers.DateTimeField(required=False)
    productSerialNumber = serializers.CharField(required=False, help_text="A router's serial.")
    productOffering = InventoryRefDoc(help_text="The TMF620 offering (plan code).")
    productSpecification = InventorySpecificationRefDoc(help_text="The TMF620 specification.")
    productCharacteristic = InventoryCharacteristicDoc(many=True)
    productPrice = InventoryProductPriceDoc(many=True, help_text="The prices as ordered.")
    productRelationship = InventoryRelationshipDoc(many=True, required=False)
    relatedParty = InventoryPartyDoc(many=True)
    productOrderItem = InventoryOrderItemDoc(many=True)
    place = InventoryPlaceDoc(many=True, help_text="The service address, as TMF622 gives it.")
    realizingResource = InventoryResourceDoc(
        many=True,
        required=False,
        help_text="The network identifiers fulfilment recorded (port, subscriber, static "
        "address, router serial).",
    )


at_fields(InventoryProductDoc, type=serializers.CharField(help_text="Product"))


def _query(name: str, text: str, kind: OpenApiTypes = OpenApiTypes.STR) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, description=text)


FIELDS = _query(
    "fields", "Comma-separated first-level attributes to return (id, href and @type always come)."
)
LIST_PARAMETERS = [
    FIELDS,
    _query("offset", "Default 0.", OpenApiTypes.INT),
    _query("limit", "Default 100, at most 1000.", OpenApiTypes.INT),
    _query(
        "cursor",
        'Page on from a previous page: the value in its Link rel="next" URL. As fast as the '
        "first page however deep. X-Total-Count is exact up to 10,000 rows, PostgreSQL's "
        "estimate beyond.",
    ),
]
FILTER_PARAMETERS = [
    _query(name, text)
    for name, text in {
        "id": "Product id; a,b for either.",
        "status": "ProductStatusType, e.g. active or active,suspended.",
        "productOffering.id": "The offering (plan code).",
        "productSpecification.id": "The specification's code.",
        "relatedParty.id": "The customer's id (as TMF622 names customers).",
        "productOrderItem.productOrderId": "The shared order ID the product came from.",
        "startDate": "A day (2026-11-30) or instant; also startDate.gte / .gt / .lte / .lt.",
    }.items()
]
PRODUCT_ID = OpenApiParameter(
    "product_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The product's id."
)
READ_ONLY_NOTE = (
    "The installed base is written by order completion: this API only reads it (POST, PATCH "
    "and DELETE answer 405)."
)
LIST_DESCRIPTION = (
    f"{READ_ONLY_NOTE} Newest first: by when the product entered the installed base (then "
    "id); with a startDate filter, by startDate (then id)."
)
READ_ERRORS = error_responses(
    {
        400: "Invalid query (unknown filter or status, bad paging value or cursor)",
        401: "No or unknown bearer token",
        403: "The client lacks the 'read' scope",
        404: "No such product",
        405: "Method not allowed (the installed base is read only here)",
    }
)
