"""How the TMF622 endpoints are described in the served OpenAPI document (drf-spectacular).

These serializers only document shapes; the views read bodies with tmf.productorder.parsing
(which lists every problem with its attribute path) and answer with
tmf.productorder.representation.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from orders.states import TMF_STATE
from tmf.docs import at_fields, error_responses
from tmf.models import TaskState

# The TMF622 states our orders take (named ProductOrderStateType in the document).
PRODUCT_ORDER_STATES = sorted(set(TMF_STATE.values()))


ERRORS = error_responses(
    {
        400: "Invalid request (every problem listed)",
        401: "No or unknown bearer token",
        403: "The client's scopes do not allow this",
        404: "No such resource",
        405: "Method not allowed",
        409: "Conflict (duplicate order, idempotency key reused, order not in a state for this)",
    }
)


class RefDoc(serializers.Serializer):
    id = serializers.CharField()
    href = serializers.CharField(required=False)
    name = serializers.CharField(required=False)


class RelatedPartyDoc(RefDoc):
    role = serializers.CharField(required=False, help_text="Customer")


at_fields(RelatedPartyDoc, referredType=serializers.CharField(help_text="Individual"))


class GeographicAddressDoc(serializers.Serializer):
    role = serializers.CharField(help_text="installationAddress")
    streetNr = serializers.CharField(required=False)
    streetName = serializers.CharField()
    locality = serializers.CharField(required=False, help_text="Second address line.")
    city = serializers.CharField()
    postcode = serializers.CharField()
    country = serializers.CharField(required=False, help_text="GB")


class ProductDoc(serializers.Serializer):
    place = GeographicAddressDoc(many=True, help_text="The service address.")


class ProductOrderItemDoc(serializers.Serializer):
    id = serializers.CharField()
    action = serializers.ChoiceField(choices=["add"])
    quantity = serializers.IntegerField(required=False)
    productOffering = RefDoc(help_text="The plan: its TMF620 productOffering id.")
    product = ProductDoc()
    state = serializers.CharField(read_only=True)


class ProductOrderCreateDoc(serializers.Serializer):
    externalId = serializers.CharField(required=False)
    requestedStartDate = serializers.DateTimeField(
        required=False, help_text="A later day makes a future-dated order."
    )
    relatedParty = RelatedPartyDoc(many=True)
    productOrderItem = ProductOrderItemDoc(many=True)


class ProductOrderUpdateDoc(serializers.Serializer):
    externalId = serializers.CharField(required=False)
    requestedStartDate = serializers.DateTimeField(required=False)
    note = serializers.ListField(child=serializers.DictField(), required=False)


class ProductOrderDoc(ProductOrderCreateDoc):
    id = serializers.CharField(help_text="The shared order ID.")
    href = serializers.CharField()
    orderDate = serializers.DateTimeField()
    state = serializers.ChoiceField(choices=PRODUCT_ORDER_STATES)
    expectedCompletionDate = serializers.DateTimeField(required=False)
    completionDate = serializers.DateTimeField(required=False)
    cancellationDate = serializers.DateTimeField(required=False)
    cancellationReason = serializers.CharField(required=False)


class CancelProductOrderCreateDoc(serializers.Serializer):
    productOrder = RefDoc()
    cancellationReason = serializers.CharField(required=False)
    requestedCancellationDate = serializers.DateTimeField(required=False)


class CancelProductOrderDoc(CancelProductOrderCreateDoc):
    id = serializers.CharField()
    href = serializers.CharField()
    state = serializers.ChoiceField(choices=TaskState.values)
    effectiveCancellationDate = serializers.DateTimeField(required=False)


FIELDS_PARAMETER = [
    OpenApiParameter(
        "fields",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description="Comma-separated first-level attributes to return (id, href, orderDate, "
        "state, relatedParty and productOrderItem always come: a selection is still a valid "
        "ProductOrder).",
    )
]
LIST_PARAMETERS = [
    *FIELDS_PARAMETER,
    OpenApiParameter("offset", OpenApiTypes.INT, OpenApiParameter.QUERY, description="Default 0."),
    OpenApiParameter(
        "limit", OpenApiTypes.INT, OpenApiParameter.QUERY, description="Default 100, at most 1000."
    ),
    OpenApiParameter(
        "cursor",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description='Page on from a previous page: the value in its Link rel="next" URL '
        "(an opaque key of that page's last row). As fast as the first page however deep; "
        "offset, when also given, skips rows after the cursor. X-Total-Count is exact up to "
        "10,000 rows, PostgreSQL's estimate beyond.",
    ),
]
ORDER_FILTER_PARAMETERS = [
    OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, description=text)
    for name, text in {
        "id": "Order ID (any spelling; a,b for either).",
        "state": "TMF state, e.g. inProgress or acknowledged,pending.",
        "externalId": "The caller's reference.",
        "orderDate": "A day (2026-11-30) or instant; also orderDate.gte / .gt / .lte / .lt.",
        "completionDate": "As orderDate.",
        "relatedParty.id": "The customer's id.",
        "productOrderItem.productOffering.id": "The offering (plan code).",
    }.items()
]

CREATE_DESCRIPTION = """
One item, action `add`, with `productOffering.id` (a TMF620 offering) and the service address as
the item's `product.place` (role `installationAddress`, GeographicAddress attributes streetNr,
streetName, locality, city, postcode, country). `relatedParty` names the customer: `id` of an
existing customer, or a new customer's `name` with `contactMedium` (an `email` medium with
`characteristic.emailAddress`, a `phone`/`mobile` medium with `characteristic.phoneNumber`).
A new customer whose e-mail address is an existing customer's orders as that customer; a phone
number alone never does (households share numbers): it is a new customer. The customer's name
is at most 120 characters, the street line (streetNr, streetName and streetType) 120.
`requestedStartDate` on a later day holds the order (state `pending`) until then. The address is
checked with the same eligibility rules as the sales form. The answer's `id` is the shared order
ID; `Location` equals `href`. Send `Idempotency-Key` to make retries safe.
"""
PATCH_DESCRIPTION = """
Merge patch. Changeable: `externalId`; `requestedStartDate` while the order has not started
(acknowledged or pending); `note` (each note is added to the order's timeline). Attributes sent
back unchanged are accepted; any other change is a 400 naming it. To cancel, POST
cancelProductOrder.
"""
DELETE_DESCRIPTION = """
Removes a completed, cancelled or rejected order from this API (list and retrieve no longer
return it). The order and its history stay with the ISP's staff. An open order is a 409.
"""
CANCEL_DESCRIPTION = """
Cancels the order at once when it has not started activation (acknowledged, pending, waiting for
the provisioning team, or held); otherwise 409. The request is kept as a cancelProductOrder with
state `done`.
"""
