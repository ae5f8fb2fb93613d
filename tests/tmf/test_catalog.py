"""TMF620 Product Catalog v4 (read only): every plan is a productOffering with its monthly
productOfferingPrice, as an integrator reads them before ordering through TMF622.

Specifications, add-on offerings and one-time prices: tests/tmf/test_catalog_specifications.py.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.response import Response

from orders.models import Plan
from tests.factories import PlanFactory
from tests.tmf.conftest import TMF620, ApiCaller
from tests.tmf.schema import assert_each_valid, assert_valid
from tmf.catalog.representation import offering_path as order_offering_path

pytestmark = pytest.mark.django_db

OFFERINGS = f"{TMF620}/productOffering"
PRICES = f"{TMF620}/productOfferingPrice"


@pytest.fixture
def catalogue(plan: Plan) -> dict[str, Plan]:
    """fibre-500 (on sale), a faster plan on sale, and a retired slow one."""
    return {
        "fibre-500": plan,
        "fibre-900": PlanFactory(
            code="fibre-900", name="Fibre 900", download_mbps=900, monthly_price=Decimal("45.50")
        ),
        "copper-20": PlanFactory(
            code="copper-20", name="Copper 20", download_mbps=20, is_active=False
        ),
    }


def ids(response: Response) -> list[str]:
    return [entry["id"] for entry in response.json()]


def assert_error(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert_valid("TMF620", "Error", body)
    assert body["status"] == str(status)
    return body


def test_every_plan_is_an_offering_retired_ones_included_in_code_order(
    catalogue: dict[str, Plan], api_reader: ApiCaller
) -> None:
    response = api_reader.get(OFFERINGS)

    assert response.status_code == 200
    assert ids(response) == ["copper-20", "fibre-500", "fibre-900"]
    assert (response["X-Total-Count"], response["X-Result-Count"]) == ("3", "3")
    assert_each_valid("TMF620", "ProductOffering", response.json())
    status = {
        entry["id"]: (entry["lifecycleStatus"], entry["isSellable"]) for entry in response.json()
    }
    assert status == {
        "copper-20": ("Retired", False),
        "fibre-500": ("Active", True),
        "fibre-900": ("Active", True),
    }


def test_an_offering_carries_its_speeds_and_a_link_to_its_monthly_price(
    catalogue: dict[str, Plan], api_reader: ApiCaller
) -> None:
    offering = api_reader.get(f"{OFFERINGS}/fibre-500").json()
    price_ref = offering["productOfferingPrice"][0]
    price = api_reader.get(price_ref["href"]).json()

    assert offering["href"] == f"http://testserver{OFFERINGS}/fibre-500"
    assert offering["name"] == "Fibre 500"
    assert offering["isBundle"] is False
    # The speeds under the names of the specification's characteristics
    uses = {
        use["name"]: use["productSpecCharacteristicValue"]
        for use in offering["prodSpecCharValueUse"]
    }
    assert uses["downloadSpeed"][0]["value"] == 500
    assert uses["uploadSpeed"][0]["value"] == 100
    assert uses["downloadSpeed"][0]["unitOfMeasure"] == "Mbps"
    # sold on every technology, since the plan names none
    assert [value["value"] for value in uses["technology"]] == ["fttp", "fttc", "fwa"]
    # a line has no one-time charge: one price only
    assert [ref["id"] for ref in offering["productOfferingPrice"]] == ["fibre-500-monthly"]
    assert_valid("TMF620", "ProductOfferingPrice", price)
    assert price["id"] == price_ref["id"]
    assert price["priceType"] == "recurring"
    assert price["recurringChargePeriodType"] == "month"
    assert price["recurringChargePeriodLength"] == 1
    assert price["price"] == {"unit": "GBP", "value": 35.0}
    assert price["lifecycleStatus"] == "Active"


def test_an_offering_names_its_specification(
    catalogue: dict[str, Plan], api_reader: ApiCaller
) -> None:
    offering = api_reader.get(f"{OFFERINGS}/fibre-500").json()
    reference = offering["productSpecification"]
    specification = api_reader.get(reference["href"])

    assert reference == {
        "id": "internet-access",
        "href": f"http://testserver{TMF620}/productSpecification/internet-access",
        "name": "Residential internet access",
        "version": "1.0",
        "@referredType": "ProductSpecification",
    }
    assert specification.status_code == 200
    assert specification.json()["id"] == "internet-access"


def test_the_offering_a_product_order_links_to_is_this_offering(
    catalogue: dict[str, Plan], api_reader: ApiCaller
) -> None:
    response = api_reader.get(order_offering_path("fibre-500"))

    assert response.status_code == 200
    assert response.json()["id"] == "fibre-500"


def test_a_retired_plan_stays_retrievable_with_its_price(
    catalogue: dict[str, Plan], api_reader: ApiCaller
) -> None:
    offering = api_reader.get(f"{OFFERINGS}/copper-20").json()
    price = api_reader.get(f"{PRICES}/copper-20-monthly").json()

    assert (offering["lifecycleStatus"], offering["isSellable"]) == ("Retired", False)
    assert price["lifecycleStatus"] == "Retired"


def test_the_audit_log_dates_the_offering(
    catalogue: dict[str, Plan], api_reader: ApiCaller
) -> None:
    offering = api_reader.get(f"{OFFERINGS}/fibre-500").json()
    since_long_ago = api_reader.get(f"{OFFERINGS}?lastUpdate.gte=2000-01-01")
    from_the_future = api_reader.get(f"{OFFERINGS}?lastUpdate.gte=2999-01-01")

    assert offering["lastUpdate"].endswith("Z")
    assert offering["validFor"]["startDateTime"] <= offering["lastUpdate"]
    assert ids(since_long_ago) == ["copper-20", "fibre-500", "fibre-900"]
    assert ids(from_the_future) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lifecycleStatus=Active", ["fibre-500", "fibre-900"]),
        ("lifecycleStatus=Retired", ["copper-20"]),
        ("lifecycleStatus=Active,Retired", ["copper-20", "fibre-500", "fibre-900"]),
        ("lifecycleStatus=Launched", []),
        ("isSellable=false", ["copper-20"]),
        ("id=fibre-900,copper-20", ["copper-20", "fibre-900"]),
        # Several filters combine with AND.
        ("lifecycleStatus=Active&name=Fibre 900", ["fibre-900"]),
        ("lifecycleStatus=Retired&name=Fibre 900", []),
    ],
)
def test_offering_filters(
    catalogue: dict[str, Plan], api_reader: ApiCaller, query: str, expected: list[str]
) -> None:
    response = api_reader.get(f"{OFFERINGS}?{query}")

    assert response.status_code == 200, response.content
    assert ids(response) == expected
    assert response["X-Total-Count"] == str(len(expected))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("priceType=recurring", ["copper-20-monthly", "fibre-500-monthly", "fibre-900-monthly"]),
        ("priceType=oneTime", []),
        (
            "recurringChargePeriodType=month&lifecycleStatus=Active",
            ["fibre-500-monthly", "fibre-900-monthly"],
        ),
        ("id=fibre-900-monthly", ["fibre-900-monthly"]),
        ("id=fibre-900", []),
        ("name=Fibre 500 monthly charge", ["fibre-500-monthly"]),
        ("name=Fibre 500&priceType=recurring", []),
    ],
)
def test_price_filters(
    catalogue: dict[str, Plan], api_reader: ApiCaller, query: str, expected: list[str]
) -> None:
    response = api_reader.get(f"{PRICES}?{query}")

    assert response.status_code == 200, response.content
    assert ids(response) == expected


def test_prices_list_validates_against_the_specification(
    catalogue: dict[str, Plan], api_reader: ApiCaller
) -> None:
    response = api_reader.get(PRICES)

    assert_each_valid("TMF620", "ProductOfferingPrice", response.json())
    values = {entry["id"]: entry["price"]["value"] for entry in response.json()}
    assert values["fibre-900-monthly"] == 45.5


def test_a_filter_on_an_unknown_attribute_is_refused_not_ignored(
    catalogue: dict[str, Plan], api_reader: ApiCaller
) -> None:
    body = assert_error(api_reader.get(f"{OFFERINGS}?colour=blue"), 400)
    flag = assert_error(api_reader.get(f"{OFFERINGS}?isSellable=maybe"), 400)

    assert "colour" in body["fieldErrors"]
    assert "isSellable" in flag["fieldErrors"]


def test_paging_with_offset_and_limit(catalogue: dict[str, Plan], api_reader: ApiCaller) -> None:
    page = api_reader.get(f"{OFFERINGS}?offset=1&limit=1")
    beyond = api_reader.get(f"{PRICES}?offset=5")

    assert ids(page) == ["fibre-500"]
    assert (page["X-Total-Count"], page["X-Result-Count"]) == ("3", "1")
    assert beyond.json() == []
    assert (beyond["X-Total-Count"], beyond["X-Result-Count"]) == ("3", "0")


def test_fields_keeps_the_named_attributes_and_the_identifying_ones(
    catalogue: dict[str, Plan], api_reader: ApiCaller
) -> None:
    listed = api_reader.get(f"{OFFERINGS}?fields=name,lifecycleStatus").json()
    one = api_reader.get(f"{PRICES}/fibre-500-monthly?fields=price").json()

    assert set(listed[0]) == {"id", "href", "@type", "name", "lifecycleStatus"}
    assert one == {
        "id": "fibre-500-monthly",
        "href": f"http://testserver{PRICES}/fibre-500-monthly",
        "price": {"unit": "GBP", "value": 35.0},
        "@type": "ProductOfferingPrice",
    }


@pytest.mark.parametrize(
    "path",
    [f"{OFFERINGS}/fibre-5000", f"{PRICES}/fibre-500", f"{PRICES}/-monthly", f"{PRICES}/x-monthly"],
)
def test_an_unknown_id_is_a_404_in_the_tmf_body(
    catalogue: dict[str, Plan], api_reader: ApiCaller, path: str
) -> None:
    body = assert_error(api_reader.get(path), 404)

    assert body["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", OFFERINGS),
        ("patch", f"{OFFERINGS}/fibre-500"),
        ("delete", f"{OFFERINGS}/fibre-500"),
        ("put", f"{OFFERINGS}/fibre-500"),
        ("post", PRICES),
        ("patch", f"{PRICES}/fibre-500-monthly"),
        ("delete", f"{PRICES}/fibre-500-monthly"),
    ],
)
def test_the_catalogue_cannot_be_changed_through_the_api(
    catalogue: dict[str, Plan], api_all: ApiCaller, method: str, path: str
) -> None:
    response = getattr(api_all, method)(path, {"name": "Free fibre"}, format="json")

    body = assert_error(response, 405)
    assert body["code"] == "METHOD_NOT_ALLOWED"
    assert "admin" in body["message"]
    assert "GET" in response["Allow"]
    assert Plan.objects.get(code="fibre-500").name == "Fibre 500"


def test_without_a_token_a_change_is_401_before_405(
    catalogue: dict[str, Plan], client: Any
) -> None:
    response = client.post(OFFERINGS, {}, content_type="application/json")

    assert_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_reading_needs_a_token_with_the_read_scope(
    catalogue: dict[str, Plan], client: Any, make_api_client: Callable[..., ApiCaller]
) -> None:
    creator_only = make_api_client("create")

    assert_error(client.get(OFFERINGS), 401)
    assert_error(creator_only.get(PRICES), 403)
