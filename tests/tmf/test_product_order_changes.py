"""TMF622 orders that change a customer's live line (tmf/productorder/changes.py): a CRM posts a
plan change, a suspension and its resumption, a cease of the line with its add-ons, or one
add-on taken off, each naming the product of the installed base by its TMF637 id; the answer
is a conforming ProductOrder; the order completes; TMF637 then shows the product as it now is
and its hub tells listeners. Refusals are TM Forum error bodies naming the item."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from inventory.models import Product, ProductStatus
from orders.models import Order, OrderItem
from orders.states import ItemAction, ItemChange, OrderStatus
from tests.factories import PlanFactory
from tests.tmf.conftest import TMF637, ApiCaller
from tests.tmf.hub_listener import Listener, running_listener
from tests.tmf.product_order_bodies import CANCELS, ORDERS, existing_customer_party
from tests.tmf.schema import assert_valid
from tmf.models import EventDelivery

pytestmark = pytest.mark.django_db

PRODUCTS = f"{TMF637}/product"


@pytest.fixture
def listener() -> Iterator[Listener]:
    yield from running_listener()


def change_body(line: Product, *items: dict[str, Any]) -> dict[str, Any]:
    return {
        "relatedParty": [existing_customer_party(line.customer)],
        "productOrderItem": list(items),
        "@type": "ProductOrder",
    }


def item(
    item_id: str,
    action: str,
    product: Product | str,
    *,
    relies_on: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    product_id = product if isinstance(product, str) else str(product.pk)
    body: dict[str, Any] = {"id": item_id, "action": action, "product": {"id": product_id}}
    if "status" in extra:
        body["product"]["status"] = extra.pop("status")
    if relies_on:
        body["productOrderItemRelationship"] = [{"id": relies_on, "relationshipType": "reliesOn"}]
    return {**body, **extra, "@type": "ProductOrderItem"}


def post(caller: ApiCaller, body: dict[str, Any], capture: Any) -> Any:
    """POST the order, its work run (eager Celery) once the request commits."""
    with capture(execute=True):
        return caller.post(ORDERS, body, format="json")


def placed(caller: ApiCaller, body: dict[str, Any], capture: Any) -> dict[str, Any]:
    response = post(caller, body, capture)
    assert response.status_code == 201, response.content
    answer = response.json()
    assert_valid("TMF622", "ProductOrder", answer)
    return answer


def product_now(caller: ApiCaller, product: Product) -> dict[str, Any]:
    response = caller.get(f"{PRODUCTS}/{product.pk}")
    assert response.status_code == 200, response.content
    assert_valid("TMF637", "Product", response.json())
    return response.json()


def register(caller: ApiCaller, listener: Listener, query: str = "") -> None:
    body = {"callback": listener.url, **({"query": query} if query else {})}
    response = caller.post(f"{TMF637}/hub", body, format="json")
    assert response.status_code == 201, response.content


@pytest.fixture
def line_with_add_ons(delivered_order: Callable[..., Order]) -> dict[str, Product]:
    """A Fibre 500 line with a static IP (item 2) and a router (item 3), live."""
    order = delivered_order()
    return {p.order_item.item_id: p for p in Product.objects.filter(order=order)}


def test_a_plan_change_is_placed_completes_and_tmf637_shows_the_new_offering_with_an_event(
    live_line: Product,
    api_all: ApiCaller,
    listener: Listener,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Given a listener on the TMF637 hub for attribute changes, and a faster plan on sale at
    # the line's address
    register(api_all, listener, query="eventType=ProductAttributeValueChangeEvent")
    PlanFactory(code="fibre-900", name="Fibre 900", download_mbps=900)

    # When the CRM posts a modify item naming the line and the new offering
    body = change_body(
        live_line, item("1", "modify", live_line, productOffering={"id": "fibre-900"})
    )
    answer = placed(api_all, body, django_capture_on_commit_callbacks)

    # Then the answer names the product (TMF637) and the new offering
    (line_item,) = answer["productOrderItem"]
    assert line_item["action"] == "modify"
    assert line_item["productOffering"]["id"] == "fibre-900"
    assert line_item["product"]["id"] == str(live_line.pk)
    assert line_item["product"]["href"].endswith(f"{PRODUCTS}/{live_line.pk}")
    assert "status" not in line_item["product"]
    assert answer["description"].startswith("Plan change to Fibre 900")
    # and the order completed, the product now on the new plan
    order = Order.objects.get(pk=answer["id"])
    assert order.status == OrderStatus.COMPLETED and order.product_ref == live_line.pk
    shown = api_all.get(f"{ORDERS}/{order.pk}").json()
    assert_valid("TMF622", "ProductOrder", shown)
    assert shown["state"] == "completed"
    assert shown["productOrderItem"][0]["state"] == "completed"
    product = product_now(api_all, live_line)
    assert product["productOffering"]["id"] == "fibre-900"
    assert product["status"] == "active"
    # and the hub said so with a ProductAttributeValueChangeEvent
    (event,) = [
        e.event for e in listener.delivered if e.event["eventType"].startswith("ProductAttr")
    ]
    assert_valid("TMF637", "ProductAttributeValueChangeEvent", event)
    assert event["event"]["product"]["productOffering"]["id"] == "fibre-900"
    assert "productOffering" in event["fieldPath"]


def test_a_suspension_then_a_resumption_each_show_on_tmf637_with_a_state_change_event(
    live_line: Product,
    api_all: ApiCaller,
    listener: Listener,
    django_capture_on_commit_callbacks: Any,
) -> None:
    register(api_all, listener)

    # When the CRM suspends the line
    suspend = change_body(live_line, item("1", "modify", live_line, status="suspended"))
    answer = placed(api_all, suspend, django_capture_on_commit_callbacks)

    # Then the item asks for the status; the order completes; TMF637 shows it suspended
    assert answer["productOrderItem"][0]["product"]["status"] == "suspended"
    assert Order.objects.get(pk=answer["id"]).status == OrderStatus.COMPLETED
    assert product_now(api_all, live_line)["status"] == "suspended"
    # and the hub's delivery is logged under the suspension's own order ID
    delivery = EventDelivery.objects.get(event_type="ProductStateChangeEvent")
    assert delivery.order_id == answer["id"]
    assert answer["id"] in listener.delivered[-1].event["description"]

    # When it resumes the line
    resume = change_body(live_line, item("1", "modify", live_line, status="active"))
    answer = placed(api_all, resume, django_capture_on_commit_callbacks)

    # Then it is active again, and the hub told of each change of state
    assert answer["productOrderItem"][0]["product"]["status"] == "active"
    assert product_now(api_all, live_line)["status"] == "active"
    events = [
        e.event for e in listener.delivered if e.event["eventType"] == "ProductStateChangeEvent"
    ]
    assert [e["event"]["product"]["status"] for e in events] == ["suspended", "active"]
    for event in events:
        assert_valid("TMF637", "ProductStateChangeEvent", event)


def test_a_cease_names_the_line_and_each_add_on_and_terminates_them_all(
    line_with_add_ons: dict[str, Product],
    api_all: ApiCaller,
    listener: Listener,
    django_capture_on_commit_callbacks: Any,
) -> None:
    register(api_all, listener)
    line, static_ip, router = (line_with_add_ons[n] for n in ("1", "2", "3"))

    # When the CRM ceases the line, with a delete for each add-on relying on it
    body = change_body(
        line,
        item("1", "delete", line),
        item("2", "delete", static_ip, relies_on="1"),
        item("3", "delete", router, relies_on="1"),
    )
    answer = placed(api_all, body, django_capture_on_commit_callbacks)

    # Then each item names its product; the order completes
    assert [(i["action"], i["product"]["id"]) for i in answer["productOrderItem"]] == [
        ("delete", str(line.pk)),
        ("delete", str(static_ip.pk)),
        ("delete", str(router.pk)),
    ]
    assert answer["description"].startswith("Cease of Fibre 500")
    assert Order.objects.get(pk=answer["id"]).status == OrderStatus.COMPLETED
    # and TMF637 shows all three terminated, with their termination date
    for product in (line, static_ip, router):
        shown = product_now(api_all, product)
        assert shown["status"] == "terminated" and shown["terminationDate"]
    assert {
        e.event["event"]["product"]["id"]
        for e in listener.delivered
        if e.event["eventType"] == "ProductStateChangeEvent"
    } == {str(line.pk), str(static_ip.pk), str(router.pk)}


def test_a_cease_of_the_line_alone_is_a_400_naming_the_add_ons_left_out(
    line_with_add_ons: dict[str, Product],
    api_all: ApiCaller,
    django_capture_on_commit_callbacks: Any,
) -> None:
    line = line_with_add_ons["1"]

    # When the CRM sends only the line's delete
    response = post(
        api_all, change_body(line, item("1", "delete", line)), django_capture_on_commit_callbacks
    )

    # Then it is refused, naming the add-ons the cease must carry, and nothing was ordered
    assert response.status_code == 400, response.content
    error = response.json()
    assert_valid("TMF622", "Error", error)
    assert "Static IP" in error["message"] and "Router" in error["message"]
    assert "productOrderItem" in error["fieldErrors"]
    assert not Order.objects.filter(product_ref=line.pk).exists()


def test_one_add_on_taken_off_leaves_the_line_active(
    line_with_add_ons: dict[str, Product],
    api_all: ApiCaller,
    django_capture_on_commit_callbacks: Any,
) -> None:
    line, static_ip, router = (line_with_add_ons[n] for n in ("1", "2", "3"))

    # When the CRM names the line unchanged and the static IP's delete relying on it
    body = change_body(
        line, item("1", "noChange", line), item("2", "delete", static_ip, relies_on="1")
    )
    answer = placed(api_all, body, django_capture_on_commit_callbacks)

    # Then the order completes: the static IP is terminated, the line and router still live
    removal = answer["productOrderItem"][1]
    assert (removal["action"], removal["product"]["id"]) == ("delete", str(static_ip.pk))
    assert removal["productOrderItemRelationship"][0]["id"] == "1"
    assert Order.objects.get(pk=answer["id"]).status == OrderStatus.COMPLETED
    assert product_now(api_all, static_ip)["status"] == "terminated"
    assert product_now(api_all, line)["status"] == "active"
    assert product_now(api_all, router)["status"] == "active"


def test_the_change_items_are_stored_as_the_core_states_them(
    live_line: Product, api_all: ApiCaller, django_capture_on_commit_callbacks: Any
) -> None:
    # When a suspension is posted
    body = change_body(live_line, item("1", "modify", live_line, status="suspended"))
    answer = placed(api_all, body, django_capture_on_commit_callbacks)

    # Then the order's item is a modify of kind suspend about the product, at no price
    stored = OrderItem.objects.get(order_id=answer["id"])
    assert (stored.action, stored.change, stored.product_ref) == (
        ItemAction.MODIFY,
        ItemChange.SUSPEND,
        live_line.pk,
    )
    assert answer["orderTotalPrice"][0]["price"]["taxIncludedAmount"]["value"] == 0.0


def test_a_second_change_while_one_is_open_is_a_409_naming_the_item(
    live_line: Product, api_all: ApiCaller, make_api_client: Callable[..., ApiCaller]
) -> None:
    # Given a suspension taken but not yet carried out (its work not run)
    first = api_all.post(
        ORDERS,
        change_body(live_line, item("1", "modify", live_line, status="suspended")),
        format="json",
    )
    assert first.status_code == 201, first.content

    # When another change to the line is posted
    gigabit = PlanFactory(code="fibre-900", name="Fibre 900", download_mbps=900)
    second = change_body(
        live_line, item("1", "modify", live_line, productOffering={"id": gigabit.code})
    )
    response = api_all.post(ORDERS, second, format="json")

    # Then it is a 409: a line takes one order at a time, the open order named to a reader
    assert response.status_code == 409, response.content
    error = response.json()
    assert_valid("TMF622", "Error", error)
    assert "one order at a time" in error["message"]
    assert first.json()["id"] in error["message"]
    assert "productOrderItem[0].product.id" in error["fieldErrors"]
    # and to a client that may not read orders, without the open order's ID
    writer = make_api_client("create", name="crm-writer")
    response = writer.post(ORDERS, second, format="json")
    assert response.status_code == 409
    assert first.json()["id"] not in response.json()["message"]


def test_an_unknown_product_is_a_400_naming_the_item(
    live_line: Product, api_all: ApiCaller, django_capture_on_commit_callbacks: Any
) -> None:
    for product_id in ("9b1f3b8e-0000-4000-8000-000000000000", "not-a-uuid"):
        body = change_body(live_line, item("1", "modify", product_id, status="suspended"))
        response = post(api_all, body, django_capture_on_commit_callbacks)
        assert response.status_code == 400, response.content
        error = response.json()
        assert_valid("TMF622", "Error", error)
        assert list(error["fieldErrors"]) == ["productOrderItem[0].product.id"]
        assert "Item 1" in error["fieldErrors"]["productOrderItem[0].product.id"]
    assert not Order.objects.filter(product_ref__isnull=False).exists()


def test_another_customers_line_is_refused(
    live_line: Product,
    make_live_line: Callable[..., Product],
    plan: Any,
    serviceable_area: Any,
    api_all: ApiCaller,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Given Bob's own line, and a change to Jane's line naming Bob as the customer
    bobs = make_live_line(plan=plan, area=serviceable_area, email="bob@example.com")
    body = change_body(bobs, item("1", "modify", live_line, status="suspended"))

    response = post(api_all, body, django_capture_on_commit_callbacks)

    # Then it is refused, naming the item; Jane's line is untouched
    assert response.status_code == 400, response.content
    assert "not this customer's line" in response.json()["fieldErrors"]["productOrderItem[0]"]
    live_line.refresh_from_db()
    assert live_line.status == ProductStatus.ACTIVE


@pytest.mark.parametrize(
    ("product_extra", "offering", "path", "words"),
    [
        ({}, None, "productOrderItem[0].productOffering", "names the new plan"),
        ({"status": "terminated"}, None, "productOrderItem[0].product.status", "'suspended'"),
        ({"status": "suspended"}, "fibre-500", "productOrderItem[0].product", "not both"),
    ],
)
def test_a_modify_item_says_what_it_changes(
    live_line: Product,
    api_all: ApiCaller,
    django_capture_on_commit_callbacks: Any,
    product_extra: dict[str, str],
    offering: str | None,
    path: str,
    words: str,
) -> None:
    extra: dict[str, Any] = dict(product_extra)
    if offering:
        extra["productOffering"] = {"id": offering}
    body = change_body(live_line, item("1", "modify", live_line, **extra))

    response = post(api_all, body, django_capture_on_commit_callbacks)

    assert response.status_code == 400, response.content
    error = response.json()
    assert_valid("TMF622", "Error", error)
    assert words in error["fieldErrors"][path]


def test_resuming_an_active_line_is_refused_by_the_line_rule(
    live_line: Product, api_all: ApiCaller, django_capture_on_commit_callbacks: Any
) -> None:
    body = change_body(live_line, item("1", "modify", live_line, status="active"))

    response = post(api_all, body, django_capture_on_commit_callbacks)

    assert response.status_code == 400, response.content
    assert (
        "only a suspended line can be resumed"
        in (response.json()["fieldErrors"]["productOrderItem[0]"])
    )


def test_a_client_that_may_only_read_cannot_change_a_line(
    live_line: Product, api_reader: ApiCaller, django_capture_on_commit_callbacks: Any
) -> None:
    body = change_body(live_line, item("1", "modify", live_line, status="suspended"))

    response = post(api_reader, body, django_capture_on_commit_callbacks)

    # Then the scope rule answers (403), and the line is untouched
    assert response.status_code == 403, response.content
    assert_valid("TMF622", "Error", response.json())
    assert not Order.objects.filter(product_ref=live_line.pk).exists()


def test_a_change_not_yet_started_can_be_cancelled_and_frees_the_line(
    live_line: Product, api_all: ApiCaller, django_capture_on_commit_callbacks: Any
) -> None:
    # Given a suspension taken but not yet carried out
    suspend = change_body(live_line, item("1", "modify", live_line, status="suspended"))
    taken = api_all.post(ORDERS, suspend, format="json").json()

    # When the CRM cancels it through cancelProductOrder
    with django_capture_on_commit_callbacks(execute=True):
        response = api_all.post(CANCELS, {"productOrder": {"id": taken["id"]}}, format="json")

    # Then the cancellation is done, the order cancelled, and the line still active
    assert response.status_code == 201, response.content
    assert_valid("TMF622", "CancelProductOrder", response.json())
    assert response.json()["state"] == "done"
    shown = api_all.get(f"{ORDERS}/{taken['id']}").json()
    assert_valid("TMF622", "ProductOrder", shown)
    assert shown["state"] == "cancelled"
    assert product_now(api_all, live_line)["status"] == "active"
    # and the line takes another order again
    again = placed(api_all, suspend, django_capture_on_commit_callbacks)
    assert api_all.get(f"{ORDERS}/{again['id']}").json()["state"] == "completed"
    assert product_now(api_all, live_line)["status"] == "suspended"
