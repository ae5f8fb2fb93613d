"""The TMF637 hub (tmf/inventory/receivers.py): a maintenance system listening there learns of
each product entering the installed base when its order completes, and of each change of a
product's status, signed like every notification and written in the transaction that made the
change."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import transaction

from inventory.models import Product, ProductStatus
from inventory.services import products_record
from inventory.signals import product_status_changed
from orders.models import Order
from tests.tmf.conftest import TMF622, TMF637, ApiCaller
from tests.tmf.hub_listener import Listener, running_listener
from tests.tmf.schema import assert_valid
from tmf.hub.publish import signature_valid
from tmf.models import EventDelivery

pytestmark = pytest.mark.django_db

HUB = f"{TMF637}/hub"


@pytest.fixture
def listener() -> Iterator[Listener]:
    yield from running_listener()


@pytest.fixture
def maintenance(make_api_client: Callable[..., ApiCaller]) -> ApiCaller:
    return make_api_client("read", "subscribe", name="maintenance")


def register(caller: ApiCaller, listener: Listener, *, hub: str = HUB, query: str = "") -> str:
    body = {"callback": listener.url, **({"query": query} if query else {})}
    response = caller.post(hub, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["secret"]


def status_change(product: Product, to: ProductStatus) -> None:
    """What a change to a live service does (none changes a product's status on this branch
    yet; the next issue's suspend and cease orders will): in one transaction, the status and
    the installed base's signal."""
    with transaction.atomic():
        before = product.status
        Product.objects.filter(pk=product.pk).update(status=to)
        product.refresh_from_db()
        product_status_changed.send(sender=Product, product=product, from_status=before)


def test_completion_publishes_a_signed_product_create_event_per_product(
    delivered_order: Callable[..., Order],
    maintenance: ApiCaller,
    listener: Listener,
    settings: Any,
) -> None:
    settings.SITE_URL = "http://testserver"  # event hrefs then equal the API's answers
    secret = register(maintenance, listener)

    # When an order of a line, a static IP and a router completes
    order = delivered_order()

    # Then the listener got one ProductCreateEvent per product, the line first
    events = [item.event for item in listener.delivered]
    assert [event["eventType"] for event in events] == ["ProductCreateEvent"] * 3
    products = {str(p.pk): p for p in Product.objects.filter(order=order)}
    assert [products[e["event"]["product"]["id"]].order_item.item_id for e in events] == [
        "1",
        "2",
        "3",
    ]
    for item, event in zip(listener.delivered, events, strict=True):
        # signed with the listener's secret, over the exact bytes sent
        assert signature_valid(secret, item.body, item.headers["X-Signature-256"])
        assert item.headers["X-Event-Id"] == event["eventId"]
        assert item.headers["X-Event-Type"] == "ProductCreateEvent"
        # a TMF v4 notification of this API whose product is the one TMF637 serves
        assert_valid("TMF637", "ProductCreateEvent", event)
        assert event["domain"] == "productInventory"
        assert event["title"] == "Product create"
        assert order.pk in event["description"]
        assert event["eventTime"] == event["timeOcurred"]
        product = event["event"]["product"]
        assert product == maintenance.get(f"{TMF637}/product/{product['id']}").json()
        assert product["status"] == "active"
    deliveries = EventDelivery.objects.filter(event_type="ProductCreateEvent")
    assert set(deliveries.values_list("order_id", flat=True)) == {order.pk}


def test_a_status_change_publishes_a_product_state_change_event(
    delivered_order: Callable[..., Order],
    maintenance: ApiCaller,
    listener: Listener,
    django_capture_on_commit_callbacks: Any,
) -> None:
    order = delivered_order()
    line = Product.objects.get(order=order, order_item__item_id="1")
    # Given a listener that wants suspensions only
    secret = register(
        maintenance,
        listener,
        query="eventType=ProductStateChangeEvent&event.product.status=suspended",
    )

    # When the line is suspended, then resumed
    with django_capture_on_commit_callbacks(execute=True):
        status_change(line, ProductStatus.SUSPENDED)
        status_change(line, ProductStatus.ACTIVE)

    # Then the listener heard of the suspension only, with the product as it now is
    (item,) = listener.delivered
    event = item.event
    assert_valid("TMF637", "ProductStateChangeEvent", event)
    assert signature_valid(secret, item.body, item.headers["X-Signature-256"])
    assert event["eventType"] == "ProductStateChangeEvent"
    assert event["event"]["product"]["id"] == str(line.pk)
    assert event["event"]["product"]["status"] == "suspended"
    assert "active to suspended" in event["description"]
    # and a status "changed" to the one it had publishes nothing
    product_status_changed.send(sender=Product, product=line, from_status=line.status)
    assert EventDelivery.objects.filter(event_type="ProductStateChangeEvent").count() == 1


def test_a_state_change_that_rolls_back_publishes_nothing(
    delivered_order: Callable[..., Order],
    maintenance: ApiCaller,
    listener: Listener,
    django_capture_on_commit_callbacks: Any,
) -> None:
    order = delivered_order()
    line = Product.objects.get(order=order, order_item__item_id="1")
    register(maintenance, listener)

    class Refused(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Refused),
        transaction.atomic(),
    ):
        status_change(line, ProductStatus.TERMINATED)
        assert EventDelivery.objects.filter(event_type="ProductStateChangeEvent").exists()
        raise Refused

    assert not EventDelivery.objects.filter(event_type="ProductStateChangeEvent").exists()
    assert listener.received == []
    assert Product.objects.get(pk=line.pk).status == ProductStatus.ACTIVE


def test_products_entering_the_installed_base_publish_with_that_transaction(
    delivered_order: Callable[..., Order],
    maintenance: ApiCaller,
    listener: Listener,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Given a completed order whose products are taken out again (as if not yet recorded)
    order = delivered_order()
    Product.objects.filter(order=order, parent__isnull=False).delete()
    Product.objects.filter(order=order).delete()
    register(maintenance, listener)

    class Refused(Exception):
        pass

    # When recording them fails after the fact, nothing is queued
    with pytest.raises(Refused), transaction.atomic():
        assert len(products_record(order)) == 3
        assert EventDelivery.objects.filter(event_type="ProductCreateEvent").count() == 3
        raise Refused
    assert not EventDelivery.objects.exists()

    # and when it commits, the three events are sent once it has committed
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        products_record(order)
        assert listener.received == []
    assert listener.event_types() == ["ProductCreateEvent"] * 3


def test_each_hub_hears_its_own_apis_events_only(
    delivered_order: Callable[..., Order],
    make_api_client: Callable[..., ApiCaller],
    maintenance: ApiCaller,
    listener: Listener,
) -> None:
    # Given a CRM listening on the ordering hub and maintenance on the inventory hub
    crm_listener = Listener()
    try:
        crm = make_api_client("read", "subscribe", name="crm")
        register(crm, crm_listener, hub=f"{TMF622}/hub")
        register(maintenance, listener)

        delivered_order()

        # Then product events reach only the inventory hub, order events only the ordering hub
        assert set(listener.event_types()) == {"ProductCreateEvent"}
        assert crm_listener.event_types()
        assert all(t.startswith("ProductOrder") for t in crm_listener.event_types())
    finally:
        crm_listener.down()


def test_the_inventory_hub_lists_and_unregisters_a_clients_listeners(
    delivered_order: Callable[..., Order], maintenance: ApiCaller, listener: Listener
) -> None:
    register(maintenance, listener)
    (registered,) = maintenance.get(HUB).json()
    assert registered["callback"] == listener.url

    assert maintenance.delete(f"{HUB}/{registered['id']}").status_code == 204
    delivered_order()

    assert maintenance.get(HUB).json() == []
    assert listener.received == []


def test_a_listener_needs_the_read_scope_to_hear_the_installed_base(
    make_api_client: Callable[..., ApiCaller], listener: Listener
) -> None:
    subscribe_only = make_api_client("subscribe", name="blind")

    response = subscribe_only.post(HUB, {"callback": listener.url}, format="json")

    assert response.status_code == 403
    assert "'read'" in response.json()["message"]
