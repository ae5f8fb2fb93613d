"""How the TMF679 endpoints are described in the served OpenAPI document (drf-spectacular).

These serializers only document shapes; the views read bodies with tmf.qualification.parsing
(which lists every problem with its attribute path) and answer with
tmf.qualification.representation.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from tmf.docs import at_fields, error_responses
from tmf.models import TaskState
from tmf.qualification.services import QualificationResult, UnavailabilityReason


class QualificationPlaceDoc(serializers.Serializer):
    role = serializers.CharField(help_text="e.g. installationAddress")
    name = serializers.CharField(required=False)
    streetNr = serializers.CharField(required=False)
    streetName = serializers.CharField(required=False)
    streetType = serializers.CharField(required=False)
    locality = serializers.CharField(required=False)
    city = serializers.CharField(required=False)
    stateOrProvince = serializers.CharField(required=False)
    postcode = serializers.CharField(help_text="A UK postcode, e.g. SW1A 1AA.")
    country = serializers.CharField(required=False, help_text="GB")


at_fields(
    QualificationPlaceDoc, type=serializers.CharField(required=False, help_text="GeographicAddress")
)


class QualificationOfferingRefDoc(serializers.Serializer):
    id = serializers.CharField(help_text="A TMF620 productOffering id (plan code).")
    href = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class QualificationProductDoc(serializers.Serializer):
    place = QualificationPlaceDoc(many=True)


class QualificationPartyDoc(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField(required=False)
    role = serializers.CharField(required=False)


at_fields(QualificationPartyDoc, referredType=serializers.CharField(help_text="e.g. Individual"))


class EligibilityUnavailabilityReasonDoc(serializers.Serializer):
    code = serializers.ChoiceField(choices=UnavailabilityReason.values)
    label = serializers.CharField(help_text="In plain words, as the sales form says it.")


class QualificationItemDoc(serializers.Serializer):
    id = serializers.CharField()
    action = serializers.ChoiceField(choices=["add"], required=False)
    productOffering = QualificationOfferingRefDoc()
    product = QualificationProductDoc(
        required=False, help_text="The address, if not given at the top."
    )
    state = serializers.ChoiceField(choices=TaskState.values, read_only=True)
    qualificationItemResult = serializers.CharField(
        read_only=True, help_text="qualified or unqualified"
    )
    expectedActivationDate = serializers.DateTimeField(
        read_only=True,
        help_text="Qualified items: the day an order taken now could be live (manual areas "
        "add the provisioning lead time in working days).",
    )
    eligibilityUnavailabilityReason = EligibilityUnavailabilityReasonDoc(many=True, read_only=True)


class QualificationDoc(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    href = serializers.CharField(read_only=True)
    description = serializers.CharField(required=False)
    state = serializers.ChoiceField(choices=TaskState.values, read_only=True)
    qualificationResult = serializers.ChoiceField(
        choices=QualificationResult.values, read_only=True
    )
    productOfferingQualificationDate = serializers.DateTimeField(read_only=True)
    effectiveQualificationDate = serializers.DateTimeField(read_only=True)
    instantSyncQualification = serializers.BooleanField(required=False)
    provideOnlyAvailable = serializers.BooleanField(
        required=False, help_text="Answer only the qualified items."
    )
    place = QualificationPlaceDoc(many=True, required=False)
    relatedParty = QualificationPartyDoc(many=True, required=False)
    productOfferingQualificationItem = QualificationItemDoc(
        many=True, required=False, help_text="Leave out to qualify every offering on sale."
    )


at_fields(QualificationDoc, type=serializers.CharField(read_only=True))

_ERROR_TEXT = {
    400: "Invalid request or query (every problem listed, with its attribute path)",
    401: "No or unknown bearer token",
    403: "The client's scopes do not allow this",
    404: "No such qualification (or another client's)",
}
LIST_ERRORS = error_responses({code: _ERROR_TEXT[code] for code in (400, 401, 403)})
CREATE_ERRORS = LIST_ERRORS
RETRIEVE_ERRORS = error_responses({code: _ERROR_TEXT[code] for code in (400, 401, 403, 404)})


def _query(name: str, text: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, description=text)


FIELDS = _query(
    "fields", "Comma-separated first-level attributes to return (id, href, state, @type always)."
)
LIST_PARAMETERS = [
    FIELDS,
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
    _query("id", "Qualification id (a,b for either)."),
    _query("state", "done (qualifications are answered at once)."),
    _query("qualificationResult", "qualified or unqualified."),
    _query("postcode", "The address's postcode, any spacing or case (an extension)."),
    _query(
        "productOfferingQualificationDate",
        "A day (2026-11-30) or instant; also .gte / .gt / .lte / .lt.",
    ),
]
QUALIFICATION_ID = OpenApiParameter(
    "qualification_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="Its id."
)

CREATE_DESCRIPTION = """
Can these offerings be sold at this address? Give the address as `place` (top level, or each
item's `product.place`): role and a GeographicAddress with at least `postcode` (a UK postcode;
one address per qualification). List `productOfferingQualificationItem` entries (`id`,
`productOffering.id`) or leave them out to qualify every offering on sale. The answer uses the
same eligibility rules as the sales form and is given at once (`state` done,
`instantSyncQualification` true): each item `qualified` (with `expectedActivationDate`) or
`unqualified` with `eligibilityUnavailabilityReason` codes NO_COVERAGE, SPEED_NOT_AVAILABLE,
OFFERING_RETIRED or UNKNOWN_OFFERING. An address we do not serve is a 201 with every item
unqualified; a malformed postcode is a 400. The answer is kept: `Location` equals `href`.
"""
READ_DESCRIPTION = "A client sees only the qualifications it asked for."
