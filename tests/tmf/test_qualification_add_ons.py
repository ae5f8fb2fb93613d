"""TMF679 and add-ons: a CRM asks whether a static IP or a managed router can be sold with a
line at an address. An add-on is sold only with an internet access line, and a router model
only where it suits the access technology; the answer says which, in words."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from orders.models import Plan, ServiceArea, Technology
from tests.factories import (
    PlanFactory,
    RouterOfferingFactory,
    ServiceAreaFactory,
    StaticIpOfferingFactory,
)
from tests.tmf.conftest import TMF679, ApiCaller
from tests.tmf.schema import assert_valid
from tmf.models import ProductOfferingQualification

pytestmark = pytest.mark.django_db

QUALIFICATIONS = f"{TMF679}/productOfferingQualification"


@pytest.fixture
def router(db: None) -> Plan:
    """A full-fibre-only router."""
    return RouterOfferingFactory(code="router", name="Fibre router", one_time_price=Decimal("49"))


@pytest.fixture
def static_ip(db: None) -> Plan:
    return StaticIpOfferingFactory(code="static-ip", name="Static IP")


@pytest.fixture
def copper_area(db: None) -> ServiceArea:
    """FTTC up to 80 Mbps: the full-fibre router does not suit it."""
    return ServiceAreaFactory(
        postcode="CB1 1AA", exchange="Cambridge", technology=Technology.FTTC, max_download_mbps=80
    )


@pytest.fixture
def basic_line(db: None) -> Plan:
    """A line slow enough for the copper area."""
    return PlanFactory(code="fibre-40", name="Fibre 40", download_mbps=40)


def place(postcode: str) -> list[dict[str, Any]]:
    return [{"role": "installationAddress", "postcode": postcode, "@type": "GeographicAddress"}]


def item(item_id: str, offering: str, relies_on: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": item_id, "productOffering": {"id": offering}}
    if relies_on is not None:
        entry["qualificationItemRelationship"] = [{"id": relies_on, "relationshipType": "reliesOn"}]
    return entry


def qualify(caller: ApiCaller, postcode: str, *entries: dict[str, Any]) -> dict[str, Any]:
    body = {"place": place(postcode), "productOfferingQualificationItem": list(entries)}
    response = caller.post(QUALIFICATIONS, body, format="json")
    assert response.status_code == 201, response.content
    answer = response.json()
    assert_valid("TMF679", "ProductOfferingQualification", answer)
    return answer


def results(answer: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    return {
        entry["id"]: (
            entry["qualificationItemResult"],
            [reason["code"] for reason in entry.get("eligibilityUnavailabilityReason", [])],
        )
        for entry in answer["productOfferingQualificationItem"]
    }


def test_add_ons_with_their_line_are_qualified_where_they_suit(
    plan: Plan, router: Plan, static_ip: Plan, serviceable_area: ServiceArea, api_writer
) -> None:
    answer = qualify(
        api_writer,
        serviceable_area.postcode,
        item("1", plan.code),
        item("2", router.code, relies_on="1"),
        item("3", static_ip.code, relies_on="1"),
    )

    assert results(answer) == {
        "1": ("qualified", []),
        "2": ("qualified", []),
        "3": ("qualified", []),
    }
    entries = answer["productOfferingQualificationItem"]
    assert entries[1]["qualificationItemRelationship"] == [
        {"id": "1", "relationshipType": "reliesOn", "@type": "QualificationItemRelationship"}
    ]
    assert entries[1]["expectedActivationDate"] == entries[0]["expectedActivationDate"]


def test_a_router_that_does_not_suit_the_areas_technology_says_so(
    router: Plan, static_ip: Plan, copper_area: ServiceArea, api_writer, basic_line: Plan
) -> None:
    answer = qualify(
        api_writer,
        "CB1 1AA",
        item("line", basic_line.code),
        item("router", router.code, relies_on="line"),
        item("ip", static_ip.code, relies_on="line"),
    )

    assert results(answer) == {
        "line": ("qualified", []),
        "router": ("unqualified", ["TECHNOLOGY_NOT_SUPPORTED"]),
        "ip": ("qualified", []),
    }
    reason = answer["productOfferingQualificationItem"][1]["eligibilityUnavailabilityReason"][0]
    assert reason["label"] == (
        "Fibre router is not sold on Fibre to the cabinet (FTTC), the network at CB1 1AA."
    )
    assert answer["qualificationResult"] == "qualified"


def test_an_add_on_asked_for_alone_needs_an_internet_access_line(
    router: Plan, static_ip: Plan, serviceable_area: ServiceArea, api_writer
) -> None:
    answer = qualify(api_writer, serviceable_area.postcode, item("1", static_ip.code))

    assert results(answer) == {"1": ("unqualified", ["NEEDS_INTERNET_ACCESS"])}
    assert answer["qualificationResult"] == "unqualified"
    reason = answer["productOfferingQualificationItem"][0]["eligibilityUnavailabilityReason"][0]
    assert "sold only with an internet access line" in reason["label"]
    assert "expectedActivationDate" not in answer["productOfferingQualificationItem"][0]


def test_an_add_on_relying_on_another_add_on_or_on_a_line_that_cannot_be_sold_is_unqualified(
    plan: Plan, router: Plan, static_ip: Plan, copper_area: ServiceArea, api_writer
) -> None:
    # fibre-500 is too fast for the 80 Mbps area; the static IP relies on it, the router on
    # the static IP
    answer = qualify(
        api_writer,
        copper_area.postcode,
        item("1", plan.code),
        item("2", static_ip.code, relies_on="1"),
        item("3", router.code, relies_on="2"),
    )

    assert results(answer) == {
        "1": ("unqualified", ["SPEED_NOT_AVAILABLE"]),
        "2": ("unqualified", ["LINE_NOT_QUALIFIED"]),
        "3": ("unqualified", ["TECHNOLOGY_NOT_SUPPORTED", "NEEDS_INTERNET_ACCESS"]),
    }


def test_an_add_on_naming_no_line_is_qualified_with_any_line_asked_for(
    plan: Plan, static_ip: Plan, serviceable_area: ServiceArea, api_writer
) -> None:
    answer = qualify(
        api_writer, serviceable_area.postcode, item("1", static_ip.code), item("2", plan.code)
    )

    assert results(answer) == {"1": ("qualified", []), "2": ("qualified", [])}


def test_without_items_the_add_ons_on_sale_are_answered_after_the_lines(
    plan: Plan, router: Plan, static_ip: Plan, copper_area: ServiceArea, api_writer, basic_line
) -> None:
    body = {"place": place(copper_area.postcode)}
    answer = api_writer.post(QUALIFICATIONS, body, format="json").json()

    offered = {
        entry["productOffering"]["id"]: entry["qualificationItemResult"]
        for entry in answer["productOfferingQualificationItem"]
    }
    assert offered == {
        "fibre-40": "qualified",
        "fibre-500": "unqualified",
        "router": "unqualified",
        "static-ip": "qualified",
    }
    assert list(offered) == ["fibre-40", "fibre-500", "router", "static-ip"]


@pytest.mark.parametrize(
    ("relationship", "path"),
    [
        (
            {"id": "9", "relationshipType": "reliesOn"},
            "productOfferingQualificationItem[1].qualificationItemRelationship[0].id",
        ),
        (
            {"id": "2", "relationshipType": "reliesOn"},
            "productOfferingQualificationItem[1].qualificationItemRelationship[0].id",
        ),
        (
            {"id": "1", "relationshipType": "bundledWith"},
            "productOfferingQualificationItem[1].qualificationItemRelationship[0].relationshipType",
        ),
        (
            {"relationshipType": "reliesOn"},
            "productOfferingQualificationItem[1].qualificationItemRelationship[0].id",
        ),
    ],
)
def test_a_relationship_must_name_another_item_of_the_request(
    plan: Plan, static_ip: Plan, serviceable_area: ServiceArea, api_writer, relationship, path
) -> None:
    entries = [item("1", plan.code), item("2", static_ip.code)]
    entries[1]["qualificationItemRelationship"] = [relationship]
    body = {"place": place(serviceable_area.postcode), "productOfferingQualificationItem": entries}

    response = api_writer.post(QUALIFICATIONS, body, format="json")

    assert response.status_code == 400, response.content
    assert_valid("TMF679", "Error", response.json())
    assert set(response.json()["fieldErrors"]) == {path}
    assert not ProductOfferingQualification.objects.exists()
