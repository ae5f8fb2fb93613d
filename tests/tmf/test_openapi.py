"""The served OpenAPI document describes the three APIs, and generates without a warning (a
warning means an endpoint the document gets wrong)."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from tests.tmf.conftest import TMF620, TMF622, TMF637, TMF679

pytestmark = pytest.mark.django_db


def test_the_document_is_served_as_json_and_names_every_tmf_resource(client):
    # When anyone (no token needed to read the contract) fetches the document
    response = client.get("/tmf-api/openapi.json")
    # Then it is OpenAPI 3 in JSON, with the TMF resources at the specs' paths
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    paths = set(document["paths"])
    for path in (
        f"{TMF622}/productOrder",
        f"{TMF622}/productOrder/{{order_id}}",
        f"{TMF622}/cancelProductOrder",
        f"{TMF622}/hub",
        f"{TMF679}/productOfferingQualification",
        f"{TMF620}/productOffering",
        f"{TMF620}/productOfferingPrice",
        f"{TMF620}/productSpecification",
        f"{TMF620}/productSpecification/{{specification_id}}",
        f"{TMF637}/product",
        f"{TMF637}/product/{{product_id}}",
        f"{TMF637}/hub",
    ):
        assert path in paths, path
    # and says how to authenticate
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearerAuth"]["description"],
    }
    # and the qualification request is the serializer that validates it: what the server sets
    # is read-only, so it is not in the request
    schemas = document["components"]["schemas"]
    request = schemas["ProductOfferingQualificationRequest"]["properties"]
    assert "place" in request and "productOfferingQualificationItem" in request
    assert not {"id", "href", "state", "qualificationResult"} & set(request)
    item = schemas["QualificationItemRequest"]["properties"]
    assert "qualificationItemRelationship" in item and "qualificationItemResult" not in item
    create = document["paths"][f"{TMF622}/productOrder"]["post"]
    assert {"201", "400", "401", "403", "409"} <= set(create["responses"])


def test_the_document_generates_without_warnings(tmp_path):
    target = tmp_path / "openapi.json"
    # --fail-on-warn turns any warning (an unresolvable serializer, an ambiguous enum) into an
    # error, so this fails the day an endpoint is added that the document cannot describe
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", target
    )
    assert json.loads(target.read_text())["info"]["title"].startswith("Order-to-activation")


def test_the_product_order_is_described_by_the_serializers_that_validate_it(client):
    # When the document is read
    schemas = json.loads(client.get("/tmf-api/openapi.json").content)["components"]["schemas"]

    # Then a create takes items with their relationship, and not what the server sets
    create = schemas["ProductOrderRequest"]
    assert {"id", "href", "state", "orderDate"}.isdisjoint(create["properties"])
    assert set(create["required"]) == {"productOrderItem", "relatedParty"}
    item = schemas["ProductOrderItemRequest"]
    assert {"id", "action", "quantity", "productOffering", "productOrderItemRelationship"} <= set(
        item["properties"]
    )
    assert "state" not in item["properties"]
    relationship = schemas["ItemRelationshipRequest"]
    assert set(relationship["required"]) == {"id", "relationshipType"}
    # and an answer gives each item's state and price, and the order's totals
    answer_item = schemas["ProductOrderItem"]["properties"]
    assert {"state", "itemPrice"} <= set(answer_item)
    assert "orderTotalPrice" in schemas["ProductOrder"]["properties"]
    assert "partial" in schemas["ProductOrderStateType"]["enum"]


def test_the_patch_request_documents_every_attribute_it_changes(client):
    # When an integrator reads how to amend an order
    document = json.loads(client.get("/tmf-api/openapi.json").content)
    patch = document["paths"][f"{TMF622}/productOrder/{{order_id}}"]["patch"]
    reference = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    update = document["components"]["schemas"][reference.rsplit("/", 1)[1]]["properties"]
    # Then the request schema lists the item list beside the other attributes it changes
    assert {"externalId", "requestedStartDate", "note", "productOrderItem"} <= set(update)
    item = update["productOrderItem"]
    assert item["type"] == "array"
    # and the description says which orders' items cannot be changed, and why
    assert "NOT_AMENDABLE" in patch["description"] and "PONR" in patch["description"]
    assert "live" in patch["description"]
