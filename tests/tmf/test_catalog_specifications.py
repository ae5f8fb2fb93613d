"""TMF620 productSpecification (what can be delivered), the add-on offerings built on the
static IP and router specifications, and one-time prices: what an integrator reads to know
what it may order with a line, and what it costs up front."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.catalogue import MANAGED_ROUTER, STATIC_IP, specifications_ensure
from orders.models import LifecycleStatus, Plan, ProductSpecification
from tests.factories import RouterOfferingFactory, StaticIpOfferingFactory
from tests.tmf.conftest import TMF620, ApiCaller
from tests.tmf.schema import assert_each_valid, assert_valid

pytestmark = pytest.mark.django_db

SPECIFICATIONS = f"{TMF620}/productSpecification"
OFFERINGS = f"{TMF620}/productOffering"
PRICES = f"{TMF620}/productOfferingPrice"


@pytest.fixture
def add_ons(plan: Plan) -> dict[str, Any]:
    """A line (fibre-500), a static IP and a full-fibre-only router with a one-time fee."""
    return {
        "static-ip": StaticIpOfferingFactory(code="static-ip", name="Static IP"),
        "router": RouterOfferingFactory(
            code="router", name="Fritz!Box router", one_time_price=Decimal("49.00")
        ),
    }


def ids(response) -> list[str]:
    return [entry["id"] for entry in response.json()]


# --- productSpecification -----------------------------------------------------------------------
def test_every_specification_is_listed_valid_against_the_official_schema(
    add_ons: dict[str, Plan], api_reader: ApiCaller
) -> None:
    response = api_reader.get(SPECIFICATIONS)

    assert response.status_code == 200, response.content
    assert ids(response) == ["internet-access", "managed-router", "static-ipv4"]
    assert (response["X-Total-Count"], response["X-Result-Count"]) == ("3", "3")
    assert_each_valid("TMF620", "ProductSpecification", response.json())
    for entry in response.json():
        assert entry["href"] == f"http://testserver{SPECIFICATIONS}/{entry['id']}"
        assert (entry["isBundle"], entry["lifecycleStatus"], entry["version"]) == (
            False,
            "Launched",
            "1.0",
        )
        assert entry["lastUpdate"].endswith("Z")


def test_a_specification_lists_its_characteristics_and_an_add_on_the_line_it_needs(
    add_ons: dict[str, Plan], api_reader: ApiCaller
) -> None:
    line = api_reader.get(f"{SPECIFICATIONS}/internet-access").json()
    router = api_reader.get(f"{SPECIFICATIONS}/{MANAGED_ROUTER}").json()

    assert_valid("TMF620", "ProductSpecification", line)
    characteristics = {c["name"]: c for c in line["productSpecCharacteristic"]}
    assert list(characteristics) == ["downloadSpeed", "uploadSpeed", "technology"]
    assert characteristics["downloadSpeed"]["valueType"] == "integer"
    technologies = characteristics["technology"]["productSpecCharacteristicValue"]
    assert [value["value"] for value in technologies] == ["fttp", "fttc", "fwa"]
    assert "productSpecificationRelationship" not in line
    # A router is sold only with an internet access line
    assert [c["name"] for c in router["productSpecCharacteristic"]] == ["model"]
    assert router["productSpecificationRelationship"] == [
        {
            "id": "internet-access",
            "href": f"http://testserver{SPECIFICATIONS}/internet-access",
            "relationshipType": "dependency",
            "@type": "ProductSpecificationRelationship",
        }
    ]


def test_brand_version_and_lifecycle_come_from_what_staff_set(
    add_ons: dict[str, Plan], api_reader: ApiCaller
) -> None:
    spec = ProductSpecification.objects.get(code=STATIC_IP)
    spec.brand = "Example Broadband"
    spec.version = "2.1"
    spec.lifecycle_status = LifecycleStatus.RETIRED
    spec.save()

    shown = api_reader.get(f"{SPECIFICATIONS}/{STATIC_IP}").json()
    offering = api_reader.get(f"{OFFERINGS}/static-ip").json()

    assert (shown["brand"], shown["version"], shown["lifecycleStatus"]) == (
        "Example Broadband",
        "2.1",
        "Retired",
    )
    assert offering["productSpecification"]["version"] == "2.1"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lifecycleStatus=Launched", ["internet-access", "managed-router"]),
        ("lifecycleStatus=Retired", ["static-ipv4"]),
        ("lifecycleStatus=Active", []),
        ("id=static-ipv4,internet-access", ["internet-access", "static-ipv4"]),
        ("name=Managed router", ["managed-router"]),
        ("version=1.0&lifecycleStatus=Launched", ["internet-access", "managed-router"]),
        ("isBundle=false&id=managed-router", ["managed-router"]),
        ("isBundle=true", []),
        ("lastUpdate.gte=2000-01-01", ["internet-access", "managed-router", "static-ipv4"]),
        ("lastUpdate.gte=2999-01-01", []),
    ],
)
def test_specification_filters(
    add_ons: dict[str, Plan], api_reader: ApiCaller, query: str, expected: list[str]
) -> None:
    retired = ProductSpecification.objects.get(code=STATIC_IP)
    retired.lifecycle_status = LifecycleStatus.RETIRED
    retired.save()

    response = api_reader.get(f"{SPECIFICATIONS}?{query}")

    assert response.status_code == 200, response.content
    assert ids(response) == expected
    assert response["X-Total-Count"] == str(len(expected))


def test_specifications_page_by_offset_and_by_the_next_link(
    add_ons: dict[str, Plan], api_reader: ApiCaller
) -> None:
    second = api_reader.get(f"{SPECIFICATIONS}?offset=1&limit=1")
    first = api_reader.get(f"{SPECIFICATIONS}?limit=2&fields=name")
    following = api_reader.get(first["Link"].split(";")[0].strip("<>"))

    assert ids(second) == ["managed-router"]
    assert (second["X-Total-Count"], second["X-Result-Count"]) == ("3", "1")
    assert ids(first) == ["internet-access", "managed-router"]
    assert set(first.json()[0]) == {"id", "href", "@type", "name"}
    assert ids(following) == ["static-ipv4"]


def test_unknown_specifications_and_filters_are_refused_in_the_tmf_body(
    add_ons: dict[str, Plan], api_reader: ApiCaller
) -> None:
    missing = api_reader.get(f"{SPECIFICATIONS}/fibre-500")
    unknown_filter = api_reader.get(f"{SPECIFICATIONS}?kind=router")

    assert missing.status_code == 404
    assert_valid("TMF620", "Error", missing.json())
    assert unknown_filter.status_code == 400
    assert "kind" in unknown_filter.json()["fieldErrors"]


@pytest.mark.parametrize("method", ["post", "patch", "put", "delete"])
def test_specifications_cannot_be_changed_through_the_api(
    add_ons: dict[str, Plan], api_all: ApiCaller, method: str
) -> None:
    path = SPECIFICATIONS if method == "post" else f"{SPECIFICATIONS}/{STATIC_IP}"

    response = getattr(api_all, method)(path, {"name": "Free IP"}, format="json")

    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
    assert "admin" in response.json()["message"]
    assert ProductSpecification.objects.get(code=STATIC_IP).name == "Static IPv4 address"


def test_reading_specifications_needs_the_read_scope(client, make_api_client) -> None:
    specifications_ensure()

    assert client.get(SPECIFICATIONS).status_code == 401
    assert make_api_client("create").get(SPECIFICATIONS).status_code == 403


# --- add-on offerings -------------------------------------------------------------------------
def test_the_catalogue_lists_the_add_ons_with_what_they_deliver(
    add_ons: dict[str, Plan], api_reader: ApiCaller
) -> None:
    response = api_reader.get(OFFERINGS)
    offerings = {entry["id"]: entry for entry in response.json()}

    assert list(offerings) == ["fibre-500", "router", "static-ip"]
    assert_each_valid("TMF620", "ProductOffering", response.json())
    router, static_ip = offerings["router"], offerings["static-ip"]
    assert router["productSpecification"]["id"] == MANAGED_ROUTER
    assert static_ip["productSpecification"]["id"] == STATIC_IP
    values = {
        use["name"]: [value["value"] for value in use["productSpecCharacteristicValue"]]
        for use in router["prodSpecCharValueUse"]
    }
    assert values == {"model": ["Fritz!Box 5590"]}
    assert router["prodSpecCharValueUse"][0]["productSpecification"]["id"] == MANAGED_ROUTER
    # The router specification has no technology characteristic: the restriction is said in
    # words, not dressed up as a characteristic or a place
    assert "Sold on Full fibre (FTTP) lines only." in router["description"]
    assert [use["name"] for use in static_ip["prodSpecCharValueUse"]] == ["ipVersion"]
    assert "place" not in router


def test_a_line_sold_on_some_technologies_says_which(
    add_ons: dict[str, Plan], api_reader: ApiCaller
) -> None:
    Plan.objects.filter(code="fibre-500").update(technologies=["fttp", "fttc"])

    offering = api_reader.get(f"{OFFERINGS}/fibre-500").json()

    uses = {use["name"]: use for use in offering["prodSpecCharValueUse"]}
    assert [v["value"] for v in uses["technology"]["productSpecCharacteristicValue"]] == [
        "fttp",
        "fttc",
    ]
    assert "lines only" not in offering["description"]


def test_offerings_filter_by_their_specification(
    add_ons: dict[str, Plan], api_reader: ApiCaller
) -> None:
    routers = api_reader.get(f"{OFFERINGS}?productSpecification.id={MANAGED_ROUTER}")
    add_on_offerings = api_reader.get(
        f"{OFFERINGS}?productSpecification.id={MANAGED_ROUTER},{STATIC_IP}"
    )

    assert ids(routers) == ["router"]
    assert ids(add_on_offerings) == ["router", "static-ip"]


# --- one-time prices --------------------------------------------------------------------------
def test_an_offering_with_a_one_time_fee_links_both_prices(
    add_ons: dict[str, Plan], api_reader: ApiCaller
) -> None:
    router = api_reader.get(f"{OFFERINGS}/router").json()
    refs = router["productOfferingPrice"]
    monthly = api_reader.get(refs[0]["href"]).json()
    one_time = api_reader.get(refs[1]["href"]).json()

    assert [ref["id"] for ref in refs] == ["router-monthly", "router-one-time"]
    assert_valid("TMF620", "ProductOfferingPrice", one_time)
    assert monthly["price"] == {"unit": "GBP", "value": 3.0}
    assert (one_time["priceType"], one_time["price"]) == (
        "oneTime",
        {"unit": "GBP", "value": 49.0},
    )
    assert one_time["name"] == "Fritz!Box router one-time charge"
    assert "recurringChargePeriodType" not in one_time
    assert "recurringChargePeriodLength" not in one_time


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["fibre-500-monthly", "router-monthly", "router-one-time", "static-ip-monthly"]),
        ("priceType=oneTime", ["router-one-time"]),
        ("priceType=recurring", ["fibre-500-monthly", "router-monthly", "static-ip-monthly"]),
        ("recurringChargePeriodType=month&id=router-one-time", []),
        ("id=router-one-time,fibre-500-monthly", ["fibre-500-monthly", "router-one-time"]),
        ("name=Fritz!Box router one-time charge", ["router-one-time"]),
        ("lifecycleStatus=Retired", []),
        ("lastUpdate.gte=2000-01-01&priceType=oneTime", ["router-one-time"]),
        ("offset=1&limit=2", ["router-monthly", "router-one-time"]),
    ],
)
def test_the_price_list_holds_monthly_and_one_time_prices(
    add_ons: dict[str, Plan], api_reader: ApiCaller, query: str, expected: list[str]
) -> None:
    response = api_reader.get(f"{PRICES}?{query}")

    assert response.status_code == 200, response.content
    assert ids(response) == expected
    assert response["X-Result-Count"] == str(len(expected))
    if expected:
        assert_each_valid("TMF620", "ProductOfferingPrice", response.json())


def test_the_price_list_counts_every_match_and_refuses_unknown_filters(
    add_ons: dict[str, Plan], api_reader: ApiCaller
) -> None:
    page = api_reader.get(f"{PRICES}?limit=1")
    refused = api_reader.get(f"{PRICES}?priceType.gt=oneTime")
    unknown = api_reader.get(f"{PRICES}?colour=red")

    assert (page["X-Total-Count"], page["X-Result-Count"]) == ("4", "1")
    assert refused.status_code == 400
    assert unknown.status_code == 400
    assert "colour" in unknown.json()["fieldErrors"]


@pytest.mark.parametrize("price_id", ["fibre-500-one-time", "-one-time", "router-weekly"])
def test_a_one_time_price_an_offering_does_not_have_is_a_404(
    add_ons: dict[str, Plan], api_reader: ApiCaller, price_id: str
) -> None:
    response = api_reader.get(f"{PRICES}/{price_id}")

    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


# --- cost -------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [SPECIFICATIONS, OFFERINGS, PRICES])
def test_a_catalogue_list_costs_the_same_queries_however_many_offerings(
    add_ons: dict[str, Any], api_reader: ApiCaller, django_assert_max_num_queries, path: str
) -> None:
    with CaptureQueriesContext(connection) as small:
        assert api_reader.get(path).status_code == 200
    for number in range(10):
        RouterOfferingFactory(code=f"router-{number:02}", one_time_price=Decimal("10"))
        StaticIpOfferingFactory(code=f"ip-{number:02}")

    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(api_reader.get(path).json()) >= 3
