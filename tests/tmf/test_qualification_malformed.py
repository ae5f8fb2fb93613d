"""TMF679 bodies of the wrong shape anywhere (null, numbers, lists and objects where the other
is due) are a 400 naming the attribute, never a 500 and never a kept answer: the serializers
(tmf.qualification.serializers) hold for every attribute they read."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from orders.models import Plan, ServiceArea
from tests.tmf.conftest import TMF679, ApiCaller
from tests.tmf.schema import assert_valid
from tmf.models import ProductOfferingQualification

pytestmark = pytest.mark.django_db

QUALIFICATIONS = f"{TMF679}/productOfferingQualification"
ODD: list[Any] = [None, 7, 1.5, True, "", " ", "x", [], [None], [7], {}, {"a": 1}, [[]], [{}]]
TOP = ["place", "productOfferingQualificationItem", "relatedParty", "description", "@type"]
ITEM = ["id", "productOffering", "product", "qualificationItemRelationship", "action", "state"]


def _place() -> list[dict[str, Any]]:
    return [{"role": "installationAddress", "postcode": "SW1A 1AA"}]


def _check(caller: ApiCaller, body: dict[str, Any]) -> int:
    response = caller.post(QUALIFICATIONS, body, format="json")
    assert response.status_code in (201, 400), (body, response.content)
    if response.status_code == 400:
        error = response.json()
        assert_valid("TMF679", "Error", error)
        assert error["fieldErrors"], body
    return response.status_code


def test_odd_values_at_the_top_are_refused_by_name_or_read_as_absent(
    plan: Plan, serviceable_area: ServiceArea, api_writer: ApiCaller
) -> None:
    refused = 0
    for key, odd in itertools.product(TOP, ODD):
        refused += _check(api_writer, {"place": _place(), key: odd}) == 400

    # Most are refused (a few are fine: no description, an empty list of items)
    assert refused > len(TOP) * len(ODD) // 2


def test_odd_values_in_items_places_and_relationships_are_refused_by_name(
    plan: Plan, serviceable_area: ServiceArea, api_writer: ApiCaller
) -> None:
    # Given an item with one odd attribute beside one whose place and relationship are odd
    for key, odd in itertools.product(ITEM, ODD):
        body = {
            "place": _place(),
            "productOfferingQualificationItem": [
                {"id": "1", "productOffering": {"id": plan.code}, key: odd},
                {
                    "id": "2",
                    "productOffering": {"id": plan.code},
                    "product": {"place": [{"role": "installationAddress", "postcode": odd}]},
                    "qualificationItemRelationship": [{"id": odd, "relationshipType": "reliesOn"}],
                },
            ],
        }
        # Then it is refused (the second item is never valid), naming what is wrong
        assert _check(api_writer, body) == 400

    assert not ProductOfferingQualification.objects.exists()


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"place": [None]}, "place[0]"),
        ({"productOfferingQualificationItem": [None]}, "productOfferingQualificationItem[0]"),
        ({"relatedParty": [None]}, "relatedParty[0]"),
    ],
)
def test_a_null_entry_in_a_list_is_not_an_object(
    serviceable_area: ServiceArea, api_writer: ApiCaller, body: dict[str, Any], path: str
) -> None:
    response = api_writer.post(QUALIFICATIONS, {"place": _place(), **body}, format="json")

    assert response.status_code == 400
    assert response.json()["fieldErrors"][path] == "Must be an object."
