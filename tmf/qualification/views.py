"""TMF679 Product Offering Qualification v4: ask whether offerings can be sold at an address
(POST, scope create), read the answers kept (GET, scope read). A client sees only its own
qualifications; another client's id is a 404 like an unknown one. An answer is never changed
or deleted (PATCH/DELETE are 405): ask again for a new one.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from orders.models import normalize_postcode
from tmf.auth import client_of
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
from tmf.errors import not_found
from tmf.models import ProductOfferingQualification
from tmf.qualification import docs
from tmf.qualification.representation import ALWAYS, qualification_representation
from tmf.qualification.serializers import ProductOfferingQualificationSerializer
from tmf.qualification.services import qualification_create

FILTERS: dict[str, Filter] = {
    "id": exact("id"),
    "state": exact("state"),
    "qualificationResult": exact("qualification_result"),
    "postcode": exact("postcode", lambda values: [normalize_postcode(v) for v in values]),
    "productOfferingQualificationDate": timestamp("created_at"),
    "effectiveQualificationDate": timestamp("created_at"),
}
REFUSAL = (
    "A qualification is the answer given at a moment and is kept as given; "
    "POST a new productOfferingQualification to ask again."
)


def own_qualifications(request: Request) -> QuerySet[ProductOfferingQualification]:
    return ProductOfferingQualification.objects.filter(client=client_of(request))


class QualificationList(RefusesOtherMethods):
    required_scopes = {"GET": "read", "HEAD": "read", "POST": "create"}
    refusal = REFUSAL

    @extend_schema(
        operation_id="listProductOfferingQualification",
        summary="List or find the client's product offering qualifications",
        description=docs.READ_DESCRIPTION,
        parameters=docs.LIST_PARAMETERS,
        responses={200: ProductOfferingQualificationSerializer(many=True), **docs.LIST_ERRORS},
        tags=["productOfferingQualification"],
    )
    def get(self, request: Request) -> Response:
        queryset = apply_filters(request, own_qualifications(request), FILTERS)
        return list_response(
            request,
            queryset.order_by("-created_at", "-pk"),
            lambda row: qualification_representation(row, request),
            always=ALWAYS,
        )

    @extend_schema(
        operation_id="createProductOfferingQualification",
        summary="Qualify product offerings at an address",
        description=docs.CREATE_DESCRIPTION,
        request=ProductOfferingQualificationSerializer,
        responses={201: ProductOfferingQualificationSerializer, **docs.CREATE_ERRORS},
        tags=["productOfferingQualification"],
    )
    def post(self, request: Request) -> Response:
        client = client_of(request)
        serializer = ProductOfferingQualificationSerializer(data=self.body_object(request))
        serializer.is_valid(raise_exception=True)
        qualification = qualification_create(client=client, ask=serializer.ask())
        body = qualification_representation(qualification, request)
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["href"]})


class QualificationDetail(RefusesOtherMethods):
    required_scopes = {"GET": "read", "HEAD": "read"}
    refusal = REFUSAL

    @extend_schema(
        operation_id="retrieveProductOfferingQualification",
        summary="Retrieve a product offering qualification",
        description=docs.READ_DESCRIPTION,
        parameters=[docs.QUALIFICATION_ID, docs.FIELDS],
        responses={200: ProductOfferingQualificationSerializer, **docs.RETRIEVE_ERRORS},
        tags=["productOfferingQualification"],
    )
    def get(self, request: Request, qualification_id: str) -> Response:
        qualification = own_qualifications(request).filter(pk=qualification_id).first()
        if qualification is None:
            raise not_found(f"No product offering qualification '{qualification_id}'.")
        body = qualification_representation(qualification, request)
        return Response(select_fields(body, requested_fields(request), ALWAYS))
