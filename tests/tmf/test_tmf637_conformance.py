"""TMF637 v4 response-schema conformance: real answers of our Product Inventory API, for
products that came from completed orders, validated against the definitions of the official
swagger (specs/TMF637-ProductInventory-v4.0.0.swagger.json; fails when the file is absent).

What an integrator relies on: a list is an array of Product with X-Total-Count and
X-Result-Count; a retrieve is a Product at its ``href``; every status is a ProductStatusType;
``fields=`` keeps what the caller asked for plus id and href; every error is an Error. The
hub's notifications are checked against ProductCreateEvent and ProductStateChangeEvent in
test_inventory_events."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from inventory.models import Product
from orders.models import Order
from tests.tmf import specs
from tests.tmf.conftest import TMF637, ApiCaller
from tests.tmf.schema import assert_each_valid, assert_valid
from tmf.inventory.docs import PRODUCT_STATUS_TYPE, PRODUCT_STATUSES

pytestmark = pytest.mark.django_db

SPEC = "TMF637"
PRODUCTS = f"{TMF637}/product"
JSON_UTF8 = "application/json; charset=utf-8"


def statuses() -> list[str]:
    return [value.strip() for value in specs.load(SPEC)["definitions"]["ProductStatusType"]["enum"]]


def test_a_list_of_the_installed_base_is_an_array_of_official_products(
    delivered_order: Callable[..., Order], api_reader: ApiCaller
) -> None:
    delivered_order()

    response = api_reader.get(PRODUCTS)

    assert response.status_code == 200
    assert response["Content-Type"] == JSON_UTF8
    body = response.json()
    assert_each_valid(SPEC, "Product", body)
    assert len(body) == 3
    assert int(response["X-Total-Count"]) == int(response["X-Result-Count"]) == 3
    assert {entry["status"] for entry in body} <= set(statuses())


def test_a_retrieved_product_is_an_official_product_at_its_href(
    delivered_order: Callable[..., Order], api_reader: ApiCaller
) -> None:
    order = delivered_order()
    listed = {entry["id"]: entry for entry in api_reader.get(PRODUCTS).json()}

    for product in Product.objects.filter(order=order):
        response = api_reader.get(f"{PRODUCTS}/{product.pk}")

        assert response.status_code == 200
        assert response["Content-Type"] == JSON_UTF8
        answer = response.json()
        assert_valid(SPEC, "Product", answer)
        assert answer["href"].endswith(f"/product/{answer['id']}")
        assert api_reader.get(answer["href"]).json() == answer == listed[answer["id"]]


@pytest.mark.parametrize(
    "fields", ["status", "name,startDate", "productRelationship,realizingResource", "nonsense"]
)
def test_a_field_selection_is_still_an_official_product_with_id_and_href(
    delivered_order: Callable[..., Order], api_reader: ApiCaller, fields: str
) -> None:
    delivered_order()

    body = api_reader.get(f"{PRODUCTS}?fields={fields}").json()

    assert_each_valid(SPEC, "Product", body)
    for entry in body:
        assert {"id", "href"} <= set(entry)
        assert set(entry) <= {"id", "href", "@type", *fields.split(",")}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", f"{PRODUCTS}/00000000-0000-0000-0000-000000000000", 404),
        ("get", f"{PRODUCTS}?status=unknown", 400),
        ("get", f"{PRODUCTS}?colour=red", 400),
        ("post", PRODUCTS, 405),
        ("delete", f"{PRODUCTS}/00000000-0000-0000-0000-000000000000", 405),
        ("get", f"{TMF637}/service", 404),
    ],
)
def test_every_error_is_an_official_error(
    api_all: ApiCaller, method: str, path: str, status: int
) -> None:
    response = getattr(api_all, method)(path)

    assert response.status_code == status, response.content
    assert response["Content-Type"] == JSON_UTF8
    body = response.json()
    assert_valid(SPEC, "Error", body)
    assert body["status"] == str(status)
    assert body["code"] and body["reason"] and body["message"]


def test_the_product_we_serve_uses_only_official_status_values() -> None:
    # the filter takes every official value, and the products take only official values
    assert set(PRODUCT_STATUS_TYPE) == set(statuses())
    assert set(PRODUCT_STATUSES) <= set(statuses())
