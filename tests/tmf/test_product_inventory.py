"""TMF637 Product Inventory (tmf/inventory): what a maintenance or CRM system reads of the
installed base once an order completes: each delivered item a product, with its offering and
specification in TMF620, its prices as ordered, the add-ons relying on the line, the customer
and order TMF622 names, the service address and the network identifiers fulfilment recorded;
the TMF630 filters, fields= and paging; read only; who may read it."""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory

from inventory.models import Product, ProductStatus
from orders.models import Order
from tests.factories import StaticIpOfferingFactory
from tests.tmf.conftest import TMF620, TMF622, TMF637, ApiCaller
from tmf.auth import ClientPrincipal
from tmf.inventory.views import ProductList

pytestmark = pytest.mark.django_db

PRODUCTS = f"{TMF637}/product"


def listing(caller: ApiCaller, query: str = "") -> list[dict[str, Any]]:
    response = caller.get(f"{PRODUCTS}{query}")
    assert response.status_code == 200, response.content
    return response.json()


def by_item(order: Order) -> dict[str, Product]:
    return {product.order_item.item_id: product for product in Product.objects.filter(order=order)}


def serviceable_area_technology(order: Order) -> str:
    return order.service_area.technology


# --- what a product says ----------------------------------------------------------------------
def test_each_delivered_item_is_a_product_with_its_offering_prices_and_order(
    delivered_order: Callable[..., Order], api_reader: ApiCaller, plan: Any
) -> None:
    # Given a completed order of a line, a static IP and a router
    order = delivered_order()
    products = by_item(order)

    # When maintenance reads the line's product
    line = api_reader.get(f"{PRODUCTS}/{products['1'].pk}").json()

    # Then it is the plan as delivered, at its href, live since its item completed
    assert line["id"] == str(products["1"].pk)
    assert line["href"] == f"http://testserver{PRODUCTS}/{products['1'].pk}"
    assert line["name"] == plan.name
    assert (line["status"], line["isBundle"], line["isCustomerVisible"]) == ("active", False, True)
    assert line["startDate"].endswith("Z")
    assert "terminationDate" not in line
    assert line["productOffering"] == {
        "id": plan.code,
        "href": f"http://testserver{TMF620}/productOffering/{plan.code}",
        "name": plan.name,
        "@referredType": "ProductOffering",
    }
    specification = plan.specification
    assert line["productSpecification"] == {
        "id": specification.code,
        "href": f"http://testserver{TMF620}/productSpecification/{specification.code}",
        "name": specification.name,
        "version": specification.version,
        "@referredType": "ProductSpecification",
    }
    characteristics = {c["name"]: c for c in line["productCharacteristic"]}
    assert characteristics["downloadSpeed"]["value"] == plan.download_mbps
    assert characteristics["downloadSpeed"]["valueType"] == "integer"
    assert characteristics["technology"]["value"] == serviceable_area_technology(order)
    # the order item it came from, under the shared order ID
    assert line["productOrderItem"] == [
        {
            "orderItemId": "1",
            "orderItemAction": "add",
            "productOrderId": order.pk,
            "productOrderHref": f"http://testserver{TMF622}/productOrder/{order.pk}",
            "@referredType": "ProductOrder",
        }
    ]
    # the line relies on nothing; its price is the monthly charge as ordered, no one-time fee
    assert "productRelationship" not in line
    (monthly,) = line["productPrice"]
    assert monthly["priceType"] == "recurring" and monthly["recurringChargePeriod"] == "month"
    assert monthly["price"]["taxIncludedAmount"] == {"unit": "GBP", "value": 35.0}


def test_add_ons_rely_on_the_line_and_a_router_has_its_one_time_charge(
    delivered_order: Callable[..., Order], api_reader: ApiCaller
) -> None:
    order = delivered_order()
    products = by_item(order)

    static_ip = api_reader.get(f"{PRODUCTS}/{products['2'].pk}").json()
    router = api_reader.get(f"{PRODUCTS}/{products['3'].pk}").json()

    for add_on in (static_ip, router):
        (relationship,) = add_on["productRelationship"]
        assert relationship["relationshipType"] == "reliesOn"
        assert relationship["product"]["id"] == str(products["1"].pk)
        assert relationship["product"]["href"].endswith(f"/product/{products['1'].pk}")
    assert [p["priceType"] for p in static_ip["productPrice"]] == ["recurring"]
    assert [
        (p["priceType"], p["price"]["taxIncludedAmount"]["value"]) for p in router["productPrice"]
    ] == [
        ("recurring", 3.0),
        ("oneTime", 49.0),
    ]
    assert {c["name"]: c["value"] for c in router["productCharacteristic"]} == {
        "model": "Fritz!Box 5590"
    }


def test_the_network_identifiers_are_the_resources_realizing_each_product(
    delivered_order: Callable[..., Order], api_reader: ApiCaller
) -> None:
    order = delivered_order()
    products = by_item(order)

    line, static_ip, router = (
        api_reader.get(f"{PRODUCTS}/{products[item].pk}").json() for item in ("1", "2", "3")
    )

    recorded = {item: products[item].network_identifiers for item in products}
    assert line["realizingResource"] == [
        {
            "id": recorded["1"]["port"],
            "name": "port",
            "value": recorded["1"]["port"],
            "@referredType": "PhysicalResource",
        },
        {
            "id": f"sub-{order.pk.lower()}",
            "name": "subscriber",
            "value": f"sub-{order.pk.lower()}",
            "@referredType": "LogicalResource",
        },
    ]
    assert [(r["name"], r["value"]) for r in static_ip["realizingResource"]] == [
        ("ipv4Address", recorded["2"]["ipv4Address"])
    ]
    assert [(r["name"], r["value"]) for r in router["realizingResource"]] == [
        ("cpeSerial", recorded["3"]["cpeSerial"])
    ]
    # the router's serial is also its serial number, as TMF637 names it for a router
    assert router["productSerialNumber"] == recorded["3"]["cpeSerial"]
    assert "productSerialNumber" not in line


def test_the_customer_and_the_place_are_the_ones_tmf622_shows_for_the_order(
    delivered_order: Callable[..., Order], api_reader: ApiCaller
) -> None:
    order = delivered_order()
    product = by_item(order)["1"]
    ordered = api_reader.get(f"{TMF622}/productOrder/{order.pk}").json()

    answer = api_reader.get(f"{PRODUCTS}/{product.pk}").json()

    (party,) = answer["relatedParty"]
    (customer,) = ordered["relatedParty"]
    assert (party["id"], party["role"], party["@referredType"]) == (
        customer["id"],
        "Customer",
        "Individual",
    )
    assert party["id"] == str(order.customer_id)
    assert answer["place"] == ordered["productOrderItem"][0]["product"]["place"]
    assert answer["place"][0]["role"] == "installationAddress"


# --- list, filters, fields, paging ---------------------------------------------------------
def test_the_list_is_newest_first_with_counts(
    delivered_order: Callable[..., Order], api_reader: ApiCaller
) -> None:
    first = delivered_order()
    second = delivered_order()

    response = api_reader.get(PRODUCTS)

    assert response.status_code == 200
    body = response.json()
    assert (response["X-Total-Count"], response["X-Result-Count"]) == ("6", "6")
    orders = [entry["productOrderItem"][0]["productOrderId"] for entry in body]
    assert orders[:3] == [second.pk] * 3 and orders[3:] == [first.pk] * 3


def test_filters_find_products_by_order_customer_offering_specification_status_and_id(
    delivered_order: Callable[..., Order], api_reader: ApiCaller
) -> None:
    first = delivered_order()
    second = delivered_order(add_ons=(StaticIpOfferingFactory(code="static-ip-x"),))
    one = by_item(first)
    Product.objects.filter(pk=one["2"].pk).update(status=ProductStatus.SUSPENDED)

    def found(query: str) -> set[str]:
        return {entry["id"] for entry in listing(api_reader, query)}

    second_ids = {str(p.pk) for p in Product.objects.filter(order=second)}
    # the shared order ID in any spelling
    assert found(f"?productOrderItem.productOrderId={second.pk.lower()}") == second_ids
    assert found(f"?relatedParty.id={first.customer_id}") == {str(p.pk) for p in one.values()}
    assert found("?productOffering.id=static-ip-x") == {
        str(Product.objects.get(order=second, offering__code="static-ip-x").pk)
    }
    router_spec = one["3"].specification.code
    assert found(f"?productSpecification.id={router_spec}") == {str(one["3"].pk)}
    assert found("?status=suspended") == {str(one["2"].pk)}
    assert found("?status=active&relatedParty.id=" + str(first.customer_id)) == {
        str(one["1"].pk),
        str(one["3"].pk),
    }
    assert found(f"?id={one['1'].pk},{one['3'].pk}") == {str(one["1"].pk), str(one["3"].pk)}
    # values that can name nothing find nothing (they are not errors)
    assert found("?id=not-a-uuid") == set()
    assert found("?productOrderItem.productOrderId=nonsense") == set()
    assert found("?relatedParty.id=someone") == set()


def test_start_date_filters_take_days_and_instants(
    delivered_order: Callable[..., Order], api_reader: ApiCaller
) -> None:
    old = delivered_order()
    new = delivered_order()
    last_week = timezone.now() - datetime.timedelta(days=7)
    Product.objects.filter(order=old).update(start_date=last_week)
    yesterday = (timezone.now() - datetime.timedelta(days=1)).date().isoformat()

    def orders_of(query: str) -> set[str]:
        return {e["productOrderItem"][0]["productOrderId"] for e in listing(api_reader, query)}

    assert orders_of(f"?startDate.gt={yesterday}") == {new.pk}
    assert orders_of(f"?startDate.lt={yesterday}") == {old.pk}
    assert orders_of(f"?startDate={last_week.date().isoformat()}") == {old.pk}


def test_a_start_date_range_is_listed_and_paged_by_start_date_newest_first(
    delivered_order: Callable[..., Order], api_reader: ApiCaller
) -> None:
    # Given an order recorded first whose products started later than the next order's
    first = delivered_order()
    second = delivered_order()
    now = timezone.now()
    Product.objects.filter(order=first).update(start_date=now - datetime.timedelta(days=1))
    Product.objects.filter(order=second).update(start_date=now - datetime.timedelta(days=3))
    since = (now - datetime.timedelta(days=10)).date().isoformat()

    # When a client pages through a start date range two at a time
    seen: list[dict[str, Any]] = []
    url: str | None = f"{PRODUCTS}?startDate.gte={since}&limit=2"
    while url:
        response = api_reader.get(url)
        assert response.status_code == 200, response.content
        seen += response.json()
        link = response.headers.get("Link")
        url = link.split(">")[0].lstrip("<") if link else None

    # Then every product comes once, the latest started first
    assert len({entry["id"] for entry in seen}) == len(seen) == 6
    starts = [entry["startDate"] for entry in seen]
    assert starts == sorted(starts, reverse=True)
    assert [e["productOrderItem"][0]["productOrderId"] for e in seen] == [first.pk] * 3 + [
        second.pk
    ] * 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?status=live", "status"),
        ("?serialNumber=CPE1", "serialNumber"),
        ("?startDate.gt=yesterday", "startDate.gt"),
        ("?status.gt=active", "status.gt"),
        ("?limit=-1", "limit"),
        ("?cursor=bm9wZQ", "cursor"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_parameter(
    api_reader: ApiCaller, query: str, field: str
) -> None:
    response = api_reader.get(f"{PRODUCTS}{query}")

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] and body["status"] == "400"
    assert field in body["fieldErrors"]


def test_fields_keeps_the_attributes_asked_for_and_id_and_href(
    delivered_order: Callable[..., Order], api_reader: ApiCaller
) -> None:
    order = delivered_order()
    product = by_item(order)["1"]

    entries = listing(api_reader, "?fields=status,realizingResource")
    one = api_reader.get(f"{PRODUCTS}/{product.pk}?fields=name").json()

    # every product here has a realizing resource (a port, an address, a router)
    assert [set(entry) for entry in entries] == [
        {"id", "href", "@type", "status", "realizingResource"}
    ] * 3
    assert set(one) == {"id", "href", "@type", "name"}


def test_next_links_page_through_every_product_once(
    delivered_order: Callable[..., Order], api_reader: ApiCaller
) -> None:
    delivered_order()
    delivered_order()
    everything = [entry["id"] for entry in listing(api_reader)]

    seen: list[str] = []
    url: str | None = f"{PRODUCTS}?limit=4&fields=id"
    pages = 0
    while url:
        response = api_reader.get(url)
        assert response.status_code == 200
        assert response["X-Total-Count"] == "6"
        seen += [entry["id"] for entry in response.json()]
        link = response.headers.get("Link")
        url = link.split(">")[0].lstrip("<") if link else None
        pages += 1

    assert pages == 2
    assert seen == everything
    assert listing(api_reader, "?offset=4&limit=4&fields=id") == [
        {"id": pk, "href": f"http://testserver{PRODUCTS}/{pk}", "@type": "Product"}
        for pk in everything[4:]
    ]


# --- read only, unknown paths, errors -----------------------------------------------------------
@pytest.mark.parametrize("method", ["post", "patch", "put", "delete"])
def test_the_installed_base_cannot_be_written_through_the_api(
    delivered_order: Callable[..., Order], api_all: ApiCaller, method: str
) -> None:
    product = by_item(delivered_order())["1"]

    for path in (PRODUCTS, f"{PRODUCTS}/{product.pk}"):
        response = getattr(api_all, method)(path, {"status": "terminated"}, format="json")

        assert response.status_code == 405, (path, response.content)
        body = response.json()
        assert (body["code"], body["status"]) == ("METHOD_NOT_ALLOWED", "405")
        assert "GET" in response["Allow"]
    assert Product.objects.get(pk=product.pk).status == ProductStatus.ACTIVE


@pytest.mark.parametrize(
    "path",
    [f"{PRODUCTS}/{uuid.uuid4()}", f"{PRODUCTS}/not-a-uuid", f"{TMF637}/productSomething"],
    ids=["unknown-product", "not-a-product-id", "unknown-path"],
)
def test_a_path_naming_nothing_is_a_tmf_404(api_reader: ApiCaller, path: str) -> None:
    response = api_reader.get(path)

    assert response.status_code == 404
    assert (response.json()["code"], response.json()["status"]) == ("NOT_FOUND", "404")


# --- who may read it ----------------------------------------------------------------------------
def test_reading_needs_a_token_and_the_read_scope(
    delivered_order: Callable[..., Order], make_api_client: Callable[..., ApiCaller]
) -> None:
    product = by_item(delivered_order())["1"]
    ordering_only = make_api_client("create", "cancel", name="order-taker")
    anonymous = ApiCaller()

    for path in (PRODUCTS, f"{PRODUCTS}/{product.pk}"):
        assert anonymous.get(path).status_code == 401
        refused = ordering_only.get(path)
        assert refused.status_code == 403
        assert "'read'" in refused.json()["message"]


def test_a_client_reads_the_products_of_exactly_the_orders_it_may_read(
    delivered_order: Callable[..., Order],
    make_api_client: Callable[..., ApiCaller],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Given an order placed by one client system through TMF622, and one taken by a sales rep
    crm = make_api_client("read", "create", name="crm")
    maintenance = make_api_client("read", name="maintenance")
    by_crm = delivered_order(submitted_by=crm.client_row.user)
    by_sales = delivered_order()

    for caller in (crm, maintenance):
        # When each reads the orders (TMF622) and the installed base (TMF637)
        orders = {entry["id"] for entry in caller.get(f"{TMF622}/productOrder").json()}
        products = listing(caller)
        # Then the products listed are those of the orders it may read, whoever placed them:
        # the APIs serve the ISP's own systems (orders.access), and maintenance must find a
        # service whichever channel sold it
        assert {p["productOrderItem"][0]["productOrderId"] for p in products} == orders
        assert orders == {by_crm.pk, by_sales.pk}
        for product in Product.objects.filter(order__in=[by_crm, by_sales]):
            assert caller.get(f"{PRODUCTS}/{product.pk}").status_code == 200


# --- what a list costs (DESIGN invariant 10) ----------------------------------------------------
def _queries(caller: ApiCaller, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert caller.get(url).status_code == 200
    return len(captured.captured_queries)


def test_a_page_costs_the_same_queries_for_6_and_for_12_products(
    delivered_order: Callable[..., Order], api_reader: ApiCaller
) -> None:
    delivered_order()
    first = delivered_order()
    api_reader.get(PRODUCTS)  # the token's first use of the minute records it: not the list's
    at_6 = _queries(api_reader, PRODUCTS), _queries(api_reader, f"{PRODUCTS}?limit=2")
    delivered_order()
    delivered_order()

    assert _queries(api_reader, PRODUCTS) == at_6[0]
    assert _queries(api_reader, f"{PRODUCTS}?limit=2") == at_6[1]
    by_order = f"{PRODUCTS}?productOrderItem.productOrderId={first.pk}"
    assert _queries(api_reader, by_order) == at_6[0]


@pytest.mark.postgresql  # EXPLAIN is PostgreSQL's; CI's second pass runs it there
@pytest.mark.parametrize(
    "query",
    [
        "",
        "?status=active",
        "?productOffering.id={offering}",
        "?productSpecification.id={specification}",
        "?relatedParty.id={customer}",
        "?productOrderItem.productOrderId={order}",
        "?startDate.gte=2026-11-01",
    ],
)
def test_postgresql_serves_the_list_and_each_filter_from_an_index(
    delivered_order: Callable[..., Order], api_reader: ApiCaller, query: str
) -> None:
    # given a few products
    order = delivered_order()

    # when PostgreSQL plans the page the view reads, with sequential scans and sorts priced out
    add_on = Product.objects.select_related("specification").get(
        order=order, parent__isnull=False, order_item__item_id="2"
    )
    query = query.format(
        order=order.pk,
        customer=order.customer_id,
        offering=order.plan.code,
        specification=add_on.specification.code,
    )
    request = Request(APIRequestFactory().get(f"{PRODUCTS}{query}"))
    request.user = ClientPrincipal(api_reader.client_row)
    view = ProductList()
    products: Any = None

    def capture(request: Any, queryset: Any, render: Any, *, always: Any) -> Response:
        nonlocal products
        products = queryset
        return Response([])

    with mock.patch("tmf.inventory.views.list_response", capture):
        view.get(request)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    plan = products.values("pk")[:101].explain()

    # then it reads an index range of the products in the list's order: no sequential scan
    # of them, no sort, no filter of rows read
    assert not re.search(r"Seq Scan on inventory_product\b", plan), plan
    assert "inventory_product" in plan
    assert not re.search(r"^\s*(->\s+)?Sort\b", plan, re.M), plan
    assert "Join Filter" not in plan and "  Filter:" not in plan, plan
