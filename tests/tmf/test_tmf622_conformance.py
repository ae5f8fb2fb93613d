"""TMF622 v4 response-schema conformance: real answers of our Product Ordering API, for orders
placed through POST, validated against the definitions of the official swagger
(specs/TMF622-ProductOrder-v4.0.0.swagger.json in the repository; fails when the file is absent).

What an integrator relies on: a 201 body is a ProductOrder whose ``href`` is the ``Location``;
lists are arrays of ProductOrder with X-Total-Count / X-Result-Count; ``fields=`` keeps
first-level attributes; filters combine with AND; every state is a ProductOrderStateType; every
error is an Error with code, reason and the HTTP status.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.response import Response

from orders import order_id
from orders.models import Order, OrderItem
from orders.scheduled_cancellations import scheduled_cancellations_carry_out_due
from orders.states import OrderStatus
from provisioning.models import ExceptionCase
from provisioning.services import exception_case_cancel_item
from tests.factories import RouterOfferingFactory, StaticIpOfferingFactory
from tests.tmf import specs
from tests.tmf.conftest import ApiCaller
from tests.tmf.product_order_bodies import (
    CANCELS,
    ORDERS,
    existing_customer_party,
    multi_item_body,
    new_customer_party,
    order_body,
)
from tests.tmf.schema import assert_each_valid, assert_valid
from tmf.models import EventDelivery

pytestmark = pytest.mark.django_db

SPEC = "TMF622"
SERVICEABLE = "SW1A 1AA"
JSON_UTF8 = "application/json; charset=utf-8"
# What every representation carries, whatever fields= asks for: the conformance profile's
# mandatory attributes, and the ones the official definition requires (productOrderItem).
ALWAYS = {"id", "href", "orderDate", "state", "relatedParty", "productOrderItem"}


def enum(definition: str) -> list[str]:
    return specs.load(SPEC)["definitions"][definition]["enum"]


def place(caller: ApiCaller, **body: Any) -> Response:
    body.setdefault("postcode", SERVICEABLE)
    return caller.post(ORDERS, order_body(**body), format="json")


def placed(caller: ApiCaller, **body: Any) -> dict[str, Any]:
    response = place(caller, **body)
    assert response.status_code == 201, response.content
    return response.json()


def assert_product_order(representation: dict[str, Any]) -> None:
    assert_valid(SPEC, "ProductOrder", representation)
    assert representation["state"] in enum("ProductOrderStateType")
    assert set(representation) >= ALWAYS
    assert order_id.is_valid(representation["id"])
    assert representation["href"].endswith(f"/productOrder/{representation['id']}")


def assert_error(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == JSON_UTF8
    body = response.json()
    assert_valid(SPEC, "Error", body)
    assert body["status"] == str(status)
    assert body["code"] and body["reason"] and body["message"]
    return body


def listing(caller: ApiCaller, query: str = "") -> tuple[list[dict[str, Any]], Response]:
    response = caller.get(f"{ORDERS}{query}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert isinstance(body, list)
    return body, response


def ids(entries: list[dict[str, Any]]) -> set[str]:
    return {entry["id"] for entry in entries}


# --- create / retrieve ----------------------------------------------------------------------
def test_a_created_order_is_an_official_product_order_at_its_location(
    plan: Any, serviceable_area: Any, api_all: ApiCaller
) -> None:
    response = place(api_all, externalId="crm-42")

    assert response.status_code == 201, response.content
    assert response["Content-Type"] == JSON_UTF8
    created = response.json()
    assert_product_order(created)
    assert response["Location"] == created["href"]
    assert created["href"].startswith("http")
    assert created["state"] == "acknowledged"
    assert created["externalId"] == "crm-42"
    # The id is the shared order ID the call centre and the portal use.
    assert Order.objects.get(pk=created["id"]).status == OrderStatus.SUBMITTED
    (customer,) = created["relatedParty"]
    assert customer["role"] == "Customer" and customer["@referredType"]
    (item,) = created["productOrderItem"]
    assert item["action"] == "add"
    assert item["productOffering"]["id"] == plan.code
    assert item["product"]["place"][0]["role"] == "installationAddress"
    assert item["product"]["place"][0]["postcode"] == SERVICEABLE


def test_retrieve_answers_the_same_official_product_order(
    plan: Any, serviceable_area: Any, api_all: ApiCaller
) -> None:
    created = placed(api_all)

    response = api_all.get(created["href"])

    assert response.status_code == 200
    assert response["Content-Type"] == JSON_UTF8
    assert_product_order(response.json())
    assert response.json() == created


def test_an_existing_customer_named_by_id_orders_again(
    plan: Any, serviceable_area: Any, api_all: ApiCaller
) -> None:
    first = placed(api_all, street="1 First Street")
    customer = Order.objects.get(pk=first["id"]).customer

    second = placed(api_all, street="2 Second Street", party=existing_customer_party(customer))

    assert_product_order(second)
    assert second["relatedParty"][0]["id"] == first["relatedParty"][0]["id"] == str(customer.pk)
    assert second["id"] != first["id"]


def test_a_future_requested_start_date_gives_state_pending(
    plan: Any, serviceable_area: Any, api_all: ApiCaller
) -> None:
    start = timezone.localdate() + datetime.timedelta(days=14)

    created = placed(api_all, requestedStartDate=f"{start.isoformat()}T09:00:00Z")

    assert_product_order(created)
    assert created["state"] == "pending"
    assert created["requestedStartDate"].startswith(start.isoformat())


@pytest.mark.parametrize(
    ("area", "postcode", "state"),
    [
        ("serviceable_area", "SW1A 1AA", "completed"),
        ("manual_area", "IV1 1AA", "inProgress"),
        ("faulty_area", "FB1 1AA", "held"),
    ],
)
def test_after_activation_runs_the_state_is_an_official_state(
    request: pytest.FixtureRequest,
    django_capture_on_commit_callbacks: Callable[..., Any],
    plan: Any,
    api_all: ApiCaller,
    area: str,
    postcode: str,
    state: str,
) -> None:
    request.getfixturevalue(area)
    with django_capture_on_commit_callbacks(execute=True):
        created = placed(api_all, postcode=postcode)

    current = api_all.get(created["href"]).json()

    assert_product_order(current)
    assert current["state"] == state
    assert current["productOrderItem"][0]["state"] in enum("ProductOrderItemStateType")
    if state == "completed":
        assert current["completionDate"] >= current["orderDate"]


# --- list, fields=, filters, paging ---------------------------------------------------------
def test_list_is_an_array_of_product_orders_with_count_headers(
    plan: Any, serviceable_area: Any, api_all: ApiCaller
) -> None:
    made = [placed(api_all, street=f"{n} Mall Road")["id"] for n in range(3)]

    body, response = listing(api_all)

    assert response["Content-Type"] == JSON_UTF8
    for entry in body:
        assert_product_order(entry)
    assert ids(body) == set(made)
    # Both headers are declared integers in the swagger.
    assert int(response["X-Total-Count"]) == 3
    assert int(response["X-Result-Count"]) == 3


def test_offset_and_limit_page_through_the_list(
    plan: Any, serviceable_area: Any, api_all: ApiCaller
) -> None:
    for n in range(3):
        placed(api_all, street=f"{n} Page Lane")
    everything, _ = listing(api_all)

    page, response = listing(api_all, "?offset=1&limit=1")

    assert [entry["id"] for entry in page] == [everything[1]["id"]]
    assert response["X-Total-Count"] == "3"
    assert response["X-Result-Count"] == "1"
    past_the_end, response = listing(api_all, "?offset=5")
    assert past_the_end == []
    assert (response["X-Total-Count"], response["X-Result-Count"]) == ("3", "0")


def test_fields_keeps_the_named_first_level_attributes_and_the_mandatory_ones(
    plan: Any, serviceable_area: Any, api_all: ApiCaller
) -> None:
    created = placed(api_all, externalId="crm-7")

    retrieved = api_all.get(f"{created['href']}?fields=externalId,category").json()
    listed, _ = listing(api_all, "?fields=externalId")
    # Only first-level names select: a dotted path selects nothing below the first level.
    nested = api_all.get(f"{created['href']}?fields=productOrderItem.state").json()

    assert set(retrieved) - {"@type"} == ALWAYS | {"externalId", "category"}
    assert retrieved["externalId"] == "crm-7"
    assert_valid(SPEC, "ProductOrder", retrieved)
    assert set(listed[0]) - {"@type"} == ALWAYS | {"externalId"}
    assert_valid(SPEC, "ProductOrder", listed[0])
    assert set(nested) - {"@type"} == ALWAYS
    assert {key: created[key] for key in ALWAYS} == {key: retrieved[key] for key in ALWAYS}


@pytest.mark.parametrize("fields", ["noSuchAttribute", "productOrderItem.state", ",", "@type"])
def test_whatever_fields_names_every_answer_keeps_what_the_swagger_requires(
    plan: Any, serviceable_area: Any, api_all: ApiCaller, fields: str
) -> None:
    # Given an order and its cancellation request
    created = placed(api_all)
    other = placed(api_all, street="2 Other Street")
    cancel = api_all.post(CANCELS, {"productOrder": {"id": other["id"]}}, format="json").json()

    # When they are read with a fields= selection that names nothing we have (or little)
    one = api_all.get(created["href"], {"fields": fields}).json()
    listed, _ = listing(api_all, f"?fields={fields}")
    cancel_one = api_all.get(cancel["href"], {"fields": fields}).json()
    cancels = api_all.get(CANCELS, {"fields": fields}).json()

    # Then each is still a whole ProductOrder / CancelProductOrder of the official swagger
    # (its required attributes kept), not a fragment an integrator's validator refuses
    assert_valid(SPEC, "ProductOrder", one)
    assert one["productOrderItem"] == created["productOrderItem"]
    assert len(listed) == 2
    assert_each_valid(SPEC, "ProductOrder", listed)
    assert_valid(SPEC, "CancelProductOrder", cancel_one)
    assert_each_valid(SPEC, "CancelProductOrder", cancels)


def test_filters_combine_with_and(
    plan: Any, serviceable_area: Any, api_all: ApiCaller, make_api_client: Callable[..., Any]
) -> None:
    later = timezone.localdate() + datetime.timedelta(days=10)
    ann = new_customer_party(name="Ann Filter")
    first = placed(api_all, street="1 Ann Street", party=ann, externalId="crm-1")
    customer = Order.objects.get(pk=first["id"]).customer
    second = placed(
        api_all,
        street="2 Ann Street",
        party=existing_customer_party(customer),
        externalId="crm-2",
        requestedStartDate=later.isoformat(),
    )
    other = placed(api_all, street="9 Other Road", requestedStartDate=later.isoformat())
    party = customer.pk
    before = (timezone.now() - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    tomorrow = (timezone.now() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    cases = {
        "?state=pending": {second["id"], other["id"]},
        "?externalId=crm-1": {first["id"]},
        f"?relatedParty.id={party}": {first["id"], second["id"]},
        f"?relatedParty.id={party}&state=pending": {second["id"]},
        f"?id={first['id']},{other['id']}&state=pending": {other["id"]},
        f"?id={first['id']}&externalId=crm-2": set(),
        f"?orderDate.gte={before}&relatedParty.id={party}": {first["id"], second["id"]},
        f"?orderDate.gte={tomorrow}": set(),
    }
    for query, expected in cases.items():
        body, response = listing(api_all, query)
        assert ids(body) == expected, query
        assert response["X-Total-Count"] == str(len(expected)), query
        for entry in body:
            assert_product_order(entry)


# --- patch, cancel, delete ------------------------------------------------------------------
def test_patch_answers_the_updated_official_product_order(
    plan: Any, serviceable_area: Any, api_all: ApiCaller
) -> None:
    created = placed(api_all, externalId="crm-old")
    patch = {"externalId": "crm-new", "note": [{"text": "Gate code 1234."}]}

    response = api_all.patch(
        created["href"], json.dumps(patch), content_type="application/merge-patch+json"
    )

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == JSON_UTF8
    assert_product_order(response.json())
    assert response.json()["externalId"] == "crm-new"
    assert api_all.get(created["href"]).json()["externalId"] == "crm-new"


def test_cancel_answers_an_official_cancel_product_order_and_cancels(
    plan: Any, serviceable_area: Any, api_all: ApiCaller
) -> None:
    created = placed(api_all)

    response = api_all.post(
        CANCELS,
        {"productOrder": {"id": created["id"]}, "cancellationReason": "Moving abroad."},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response["Content-Type"] == JSON_UTF8
    cancel = response.json()
    assert_valid(SPEC, "CancelProductOrder", cancel)
    assert cancel["state"] in enum("TaskStateType")
    assert response["Location"] == cancel["href"]
    assert cancel["productOrder"]["id"] == created["id"]
    retrieved = api_all.get(cancel["href"])
    assert retrieved.status_code == 200
    assert_valid(SPEC, "CancelProductOrder", retrieved.json())
    listed = api_all.get(CANCELS)
    assert [entry["id"] for entry in listed.json()] == [cancel["id"]]
    for entry in listed.json():
        assert_valid(SPEC, "CancelProductOrder", entry)
    order = api_all.get(created["href"]).json()
    assert_product_order(order)
    assert order["state"] == "cancelled"
    assert order["cancellationReason"] == "Moving abroad."


def test_delete_of_a_closed_order_is_204_and_then_404(
    plan: Any, serviceable_area: Any, api_all: ApiCaller
) -> None:
    created = placed(api_all)
    api_all.post(CANCELS, {"productOrder": {"id": created["id"]}}, format="json")

    response = api_all.delete(created["href"])

    assert response.status_code == 204
    assert response.content == b""
    # The swagger declares every answer, this empty one too, as produced in JSON (and
    # schemathesis' content_type_conformance holds a 204 to that).
    assert response["Content-Type"] == JSON_UTF8
    assert JSON_UTF8.replace(" ", "") in specs.load(SPEC)["produces"]
    assert_error(api_all.get(created["href"]), 404)
    assert created["id"] not in ids(listing(api_all)[0])


# --- errors ---------------------------------------------------------------------------------
def test_malformed_json_is_an_official_error_400(
    plan: Any, serviceable_area: Any, api_all: ApiCaller
) -> None:
    response = api_all.post(ORDERS, '{"productOrderItem": [', content_type="application/json")

    assert assert_error(response, 400)["code"] == "MALFORMED_BODY"
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"productOrderItem": "one"},
        {"productOrderItem": [{"id": 1, "action": "add", "productOffering": "fibre-500"}]},
        {"relatedParty": {"role": "Customer"}, "productOrderItem": [{"quantity": "1"}]},
    ],
    ids=["array", "items-a-string", "wrong-member-types", "party-not-a-list"],
)
def test_wrong_types_are_an_official_error_400(
    plan: Any, serviceable_area: Any, api_all: ApiCaller, body: Any
) -> None:
    response = api_all.post(ORDERS, body, format="json")

    assert_error(response, 400)
    assert not Order.objects.exists()


def test_an_unknown_offering_is_an_official_error_400_naming_the_attribute(
    plan: Any, serviceable_area: Any, api_all: ApiCaller
) -> None:
    response = place(api_all, offering="copper-9000")

    body = assert_error(response, 400)
    assert "productOrderItem[0].productOffering.id" in body["fieldErrors"]


def test_an_unserviceable_place_is_an_official_error_400(
    plan: Any, serviceable_area: Any, api_all: ApiCaller
) -> None:
    response = place(api_all, postcode="ZE2 9XX")

    body = assert_error(response, 400)
    assert body["code"] == "NOT_SERVICEABLE"
    assert "productOrderItem[0].product.place[0].postcode" in body["fieldErrors"]
    assert not Order.objects.exists()


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic dXNlcjpwYXNz"])
def test_no_or_a_wrong_token_is_an_official_error_401(
    plan: Any, serviceable_area: Any, make_api_client: Callable[..., Any], authorization: Any
) -> None:
    caller = make_api_client("read", "create")
    caller.credentials(**({"HTTP_AUTHORIZATION": authorization} if authorization else {}))

    for response in (caller.get(ORDERS), place(caller)):
        assert_error(response, 401)
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Order.objects.exists()


def test_a_missing_scope_is_an_official_error_403(
    plan: Any, serviceable_area: Any, api_all: ApiCaller, api_reader: ApiCaller
) -> None:
    created = placed(api_all)

    refused = [
        place(api_reader, street="5 Reader Road"),
        api_reader.post(CANCELS, {"productOrder": {"id": created["id"]}}, format="json"),
        api_reader.patch(created["href"], {"externalId": "x"}, format="json"),
        api_reader.delete(created["href"]),
    ]

    for response in refused:
        assert_error(response, 403)
    assert Order.objects.count() == 1


@pytest.mark.parametrize("path", [f"{ORDERS}/{{valid}}", f"{ORDERS}/NOT-AN-ID", f"{CANCELS}/999"])
def test_an_unknown_id_is_an_official_error_404(
    plan: Any, serviceable_area: Any, api_all: ApiCaller, path: str
) -> None:
    response = api_all.get(path.format(valid=order_id.generate()))

    assert_error(response, 404)


def test_an_unsupported_method_is_an_official_error_405(
    plan: Any, serviceable_area: Any, api_all: ApiCaller
) -> None:
    created = placed(api_all)

    for response in (
        api_all.put(created["href"], order_body(postcode=SERVICEABLE), format="json"),
        api_all.delete(ORDERS),
        api_all.patch(CANCELS, {}, format="json"),
    ):
        assert_error(response, 405)


def test_conflicts_are_an_official_error_409(
    django_capture_on_commit_callbacks: Callable[..., Any],
    plan: Any,
    serviceable_area: Any,
    api_all: ApiCaller,
) -> None:
    body = order_body(postcode=SERVICEABLE)
    open_order = api_all.post(ORDERS, body, format="json").json()
    with django_capture_on_commit_callbacks(execute=True):
        completed = placed(api_all, street="3 Done Street")

    duplicate = api_all.post(ORDERS, body, format="json")
    late_cancel = api_all.post(CANCELS, {"productOrder": {"id": completed["id"]}}, format="json")
    open_delete = api_all.delete(open_order["href"])
    key_reused = [
        api_all.post(
            ORDERS,
            order_body(postcode=SERVICEABLE, street=street),
            format="json",
            HTTP_IDEMPOTENCY_KEY="retry-1",
        )
        for street in ("7 Key Street", "8 Key Street")
    ][1]

    assert assert_error(duplicate, 409)["code"] == "DUPLICATE_ORDER"
    assert assert_error(late_cancel, 409)["code"] == "NOT_CANCELLABLE"
    assert assert_error(open_delete, 409)["code"] == "ORDER_OPEN"
    assert assert_error(key_reused, 409)["code"] == "IDEMPOTENCY_KEY_REUSED"


# --- inputs that used to answer 500 (found while fuzzing; PostgreSQL for the NUL cases) -------
@pytest.mark.parametrize(
    "raw",
    [
        '{"externalId": "crm\\u0000", "productOrderItem": []}',
        '{"externalId": "\\ud800", "productOrderItem": []}',
        '{"productOrderItem": [{"id": "1", "action": "add", "\\udfff": 1}]}',
    ],
    ids=["nul", "lone-surrogate", "surrogate-in-a-key"],
)
def test_text_no_database_can_hold_is_an_official_error_400(
    plan: Any, serviceable_area: Any, api_all: ApiCaller, raw: str
) -> None:
    created = placed(api_all)

    for response in (
        api_all.post(ORDERS, raw, content_type="application/json"),
        api_all.patch(created["href"], raw, content_type="application/merge-patch+json"),
        api_all.post(CANCELS, raw, content_type="application/json"),
    ):
        assert assert_error(response, 400)["code"] == "MALFORMED_BODY"
    assert Order.objects.count() == 1


def test_a_nul_in_the_query_or_the_path_is_an_official_error_not_a_500(
    plan: Any, serviceable_area: Any, api_all: ApiCaller
) -> None:
    assert_error(api_all.get(f"{ORDERS}?externalId=crm%00"), 400)
    assert_error(api_all.get(f"{CANCELS}?productOrder.id=%00"), 400)
    assert_error(api_all.get(f"{CANCELS}/%00"), 404)


def test_a_cancel_for_a_later_date_answers_official_resources_and_events_at_each_step(
    plan: Any, serviceable_area: Any, api_all: ApiCaller
) -> None:
    # Given a client listening to the hub, and an order
    hub = api_all.post(
        f"{ORDERS.rsplit('/', 1)[0]}/hub",
        {"callback": "https://crm.example.com/tmf/events"},
        format="json",
    )
    assert hub.status_code == 201
    created = placed(api_all)
    due = timezone.now() + datetime.timedelta(days=2)

    # When it asks for the order to be cancelled in two days
    response = api_all.post(
        CANCELS,
        {"productOrder": {"id": created["id"]}, "requestedCancellationDate": due.isoformat()},
        format="json",
    )

    # Then the 201 is an official, acknowledged CancelProductOrder, and so are GET and list
    assert response.status_code == 201, response.content
    assert response["Location"] == response.json()["href"]
    assert_valid(SPEC, "CancelProductOrder", response.json())
    assert response.json()["state"] == "acknowledged"
    assert_valid(SPEC, "CancelProductOrder", api_all.get(response["Location"]).json())
    assert_each_valid(SPEC, "CancelProductOrder", api_all.get(CANCELS).json())

    # When the date comes, then the request is done and every event is the official one
    scheduled_cancellations_carry_out_due(now=due)
    done = api_all.get(response["Location"]).json()
    assert_valid(SPEC, "CancelProductOrder", done)
    assert done["state"] == "done"
    bodies = [
        (delivery.event_type, json.loads(delivery.body))
        for delivery in EventDelivery.objects.filter(
            event_type__startswith="CancelProductOrder"
        ).order_by("pk")
    ]
    assert [event_type for event_type, _ in bodies] == [
        "CancelProductOrderCreateEvent",
        "CancelProductOrderStateChangeEvent",
        "CancelProductOrderStateChangeEvent",
    ]
    for event_type, body in bodies:
        assert_valid(SPEC, event_type, body)
        assert body["event"]["cancelProductOrder"]["state"] in enum("TaskStateType")


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"], ids=["late", "early"]
)
def test_an_instant_beyond_the_calendar_is_an_official_error_400(
    plan: Any, serviceable_area: Any, api_all: ApiCaller, moment: str
) -> None:
    created = placed(api_all)
    query = moment.replace("+", "%2B")

    for response in (
        place(api_all, street="2 Far Street", requestedStartDate=moment),
        api_all.patch(created["href"], {"requestedStartDate": moment}, format="json"),
        api_all.post(
            CANCELS,
            {"productOrder": {"id": created["id"]}, "requestedCancellationDate": moment},
            format="json",
        ),
        api_all.get(f"{ORDERS}?orderDate.gt={query}"),
    ):
        assert_error(response, 400)


def test_an_offset_beyond_any_database_integer_is_an_empty_page(
    plan: Any, serviceable_area: Any, api_all: ApiCaller
) -> None:
    placed(api_all)

    page, response = listing(api_all, f"?offset={10**20}")

    assert page == []
    assert (response["X-Total-Count"], response["X-Result-Count"]) == ("1", "0")


# --- multi-item orders ----------------------------------------------------------------------
NO_STATIC_IP = [{"when": {}, "step": "allocate_address", "error": "ADDRESS_POOL_EXHAUSTED"}]


@pytest.fixture
def add_ons(db: None) -> tuple[str, str]:
    return StaticIpOfferingFactory().code, RouterOfferingFactory().code


def place_items(caller: ApiCaller, add_ons: tuple[str, ...], **body: Any) -> dict[str, Any]:
    body.setdefault("postcode", SERVICEABLE)
    response = caller.post(ORDERS, multi_item_body(add_ons=add_ons, **body), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def assert_items(representation: dict[str, Any], states: dict[str, str]) -> None:
    """Each item an official ProductOrderItem in the expected state, its prices OrderPrices."""
    items = {entry["id"]: entry for entry in representation["productOrderItem"]}
    assert {key: entry["state"] for key, entry in items.items()} == states
    for entry in items.values():
        assert_valid(SPEC, "ProductOrderItem", entry)
        assert entry["state"] in enum("ProductOrderItemStateType")
        assert_each_valid(SPEC, "OrderPrice", entry["itemPrice"])
    assert_each_valid(SPEC, "OrderPrice", representation["orderTotalPrice"])


def test_a_multi_item_order_is_an_official_product_order_when_created_read_and_listed(
    plan: Any, add_ons: tuple[str, str], manual_area: Any, api_all: ApiCaller
) -> None:
    created = place_items(api_all, add_ons, postcode=manual_area.postcode)
    retrieved = api_all.get(created["href"]).json()
    listed, _ = listing(api_all)

    for representation in (created, retrieved, *listed):
        assert_product_order(representation)
        assert_items(
            representation, {"1": "acknowledged", "2": "acknowledged", "3": "acknowledged"}
        )
    assert retrieved == created == listed[0]
    kinds = [price["priceType"] for price in created["orderTotalPrice"]]
    assert kinds == ["recurring", "oneTime"]


@pytest.mark.parametrize(
    ("outcome", "state", "states"),
    [
        ("delivered", "completed", {"1": "completed", "2": "completed", "3": "completed"}),
        ("held", "held", {"1": "inProgress", "2": "held", "3": "inProgress"}),
        ("partial", "partial", {"1": "completed", "2": "cancelled", "3": "completed"}),
    ],
)
def test_a_multi_item_order_stays_official_as_it_completes_is_held_or_ends_partial(
    django_capture_on_commit_callbacks: Callable[..., Any],
    settings: Any,
    plan: Any,
    add_ons: tuple[str, str],
    serviceable_area: Any,
    lead_user: Any,
    api_all: ApiCaller,
    outcome: str,
    state: str,
    states: dict[str, str],
) -> None:
    if outcome != "delivered":
        settings.NETWORK_SIMULATOR_RULES = NO_STATIC_IP
    with django_capture_on_commit_callbacks(execute=True):
        created = place_items(api_all, add_ons)
    if outcome == "partial":
        case = ExceptionCase.objects.get(order_id=created["id"])
        with django_capture_on_commit_callbacks(execute=True):
            exception_case_cancel_item(
                case,
                item=OrderItem.objects.get(order_id=created["id"], item_id="2"),
                acting_user=lead_user,
                reason="No address to give.",
            )

    current = api_all.get(created["href"]).json()
    listed, _ = listing(api_all, f"?state={state}")

    assert current["state"] == state
    for representation in (current, *listed):
        assert_product_order(representation)
        assert_items(representation, states)
    assert ids(listed) == {created["id"]}
