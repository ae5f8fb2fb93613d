"""What the served OpenAPI document says of the TMF679 endpoints beside the resource itself:
query parameters, error answers, descriptions. The resource is described by the serializers
that validate requests (tmf.qualification.serializers)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from tmf.docs import error_responses

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
TECHNOLOGY_NOT_SUPPORTED, NEEDS_INTERNET_ACCESS, LINE_NOT_QUALIFIED, OFFERING_RETIRED or
UNKNOWN_OFFERING.

Add-ons (static IP, managed router) are sold only with an internet access line: qualify one
with a line offering in the same request, naming the line's item in
`qualificationItemRelationship` (`relationshipType` reliesOn) or, naming none, with any line
asked for. It is qualified when it suits the area (a router model suits some access
technologies only: TECHNOLOGY_NOT_SUPPORTED) and its line qualifies (else
LINE_NOT_QUALIFIED). Asked for alone it is `unqualified` with NEEDS_INTERNET_ACCESS: ask again
with a line.

An address we do not serve is a 201 with every item unqualified; a malformed postcode is a
400. The answer is kept: `Location` equals `href`.
"""
READ_DESCRIPTION = "A client sees only the qualifications it asked for."
