"""An order's whole path, from the sales form through activation, billing, the customer's
e-mails and the event hub, seen by operations: /metrics counts it, and every JSON log line about
it, web or task or hub, carries its order ID (issue 12: metrics and logs for an order's path)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse

from notices.models import CustomerNotice
from orders.models import Order
from orders.states import OrderStatus
from provisioning.models import TaskAttempt
from tests.observability.conftest import sample, total
from tests.tmf.conftest import TMF622, make_api_client  # noqa: F401  (a fixture)
from tests.tmf.hub_listener import Listener, running_listener
from tmf.models import DeliveryAttempt

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener() -> Iterator[Listener]:
    yield from running_listener()


@pytest.fixture
def hub_listening(make_api_client: Any, listener: Listener) -> Listener:  # noqa: F811
    """A CRM registered with the TMF622 hub for every product order event."""
    crm = make_api_client("read", "subscribe", name="crm")
    response = crm.post(f"{TMF622}/hub", {"callback": listener.url}, format="json")
    assert response.status_code == 201, response.content
    return listener


def sales_form(plan: Any) -> dict[str, str]:
    return {
        "name": "Jane Doe",
        "email": "jane@example.com",
        "phone": "07700 900123",
        "address_line1": "1 High Street",
        "address_line2": "",
        "city": "London",
        "postcode": "sw1a 1aa",
        "plan": str(plan.pk),
        "requested_activation_date": "",
        "submission_token": str(uuid.uuid4()),
    }


@pytest.fixture
def order_through_its_path(
    client: Any,
    sales_user: Any,
    plan: Any,
    serviceable_area: Any,
    settings: Any,
    hub_listening: Listener,
    django_capture_on_commit_callbacks: Any,
) -> Any:
    """Take one order from the sales form to completed (workers run at commit, in process),
    then open its page; returns a function that does it and gives the order."""
    settings.CUSTOMER_NOTICES_ON_EVENTS = True
    client.force_login(sales_user)

    def run() -> Order:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("orders:new"), sales_form(plan))
        assert response.status_code == 302
        order = Order.objects.get()
        assert client.get(response.url).status_code == 200
        return order

    return run


def test_metrics_follow_an_order_from_the_sales_form_to_completed(
    order_through_its_path, scrape, hub_listening
):
    # Given what operations saw before the order
    before = scrape()
    # When a sales rep takes an order that activates, bills and is announced to everyone
    order = order_through_its_path()
    after = scrape()
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED

    # Then the form's POST and the order page's GET were timed under their route names
    def requests(route: str, method: str, status: str, snapshot: Any) -> float:
        return sample(
            snapshot,
            "http_request_duration_seconds_count",
            route=route,
            method=method,
            status=status,
        )

    assert (
        requests("orders:new", "POST", "3xx", after)
        == requests("orders:new", "POST", "3xx", before) + 1
    )
    assert (
        requests("orders:detail", "GET", "2xx", after)
        == requests("orders:detail", "GET", "2xx", before) + 1
    )
    # ... never under the raw path (it holds the order ID)
    assert not any(order.pk in str(labels) for (_, labels) in after)
    # And the order moved from submitted to completed in the count of orders by state
    assert sample(after, "orders_by_state", state="completed") == 1
    assert sample(after, "orders_by_state", state="submitted") == 0
    assert sample(after, "orders_by_state", state="provisioning") == 0
    # And its task attempts, e-mails and hub deliveries were counted
    attempts = TaskAttempt.objects.filter(order=order).count()
    assert attempts >= 4
    assert total(after, "task_attempts_total") - total(before, "task_attempts_total") == attempts
    assert total(after, "task_failures_total") == total(before, "task_failures_total")
    sent = CustomerNotice.objects.filter(order=order, sent_at__isnull=False).count()
    assert sent >= 1
    assert total(after, "emails_sent_total") - total(before, "emails_sent_total") == sent
    delivered = DeliveryAttempt.objects.filter(delivery__order=order, status_code=200).count()
    assert delivered >= 1 and len(hub_listening.received) >= delivered
    assert (
        sample(after, "hub_delivery_attempts_total", outcome="delivered")
        - sample(before, "hub_delivery_attempts_total", outcome="delivered")
        == delivered
    )
    # And nothing is left waiting: no queue, no lag
    assert total(after, "outbox_queue_depth") == 0
    assert sample(after, "outbox_lag_seconds", state="waiting") == 0
    assert sample(after, "hub_deliveries_pending") == 0


def test_every_log_line_about_the_order_carries_its_id_across_web_tasks_and_hub(
    order_through_its_path, json_log
):
    # When an order goes its whole way, logged as JSON (production's format)
    order = order_through_its_path()
    lines = json_log.records()

    # Then every line that names the order carries its ID as a field
    about = [line for line in lines if order.pk in line["message"]]
    assert about, "no log line names the order"
    assert [line for line in about if line.get("order_id") != order.pk] == []
    ours = [line for line in lines if line.get("order_id") == order.pk]
    # ... from the web: the form's request and the order page's
    web = {line.get("route") for line in ours if line["name"] == "observability.request"}
    assert {"orders:new", "orders:detail"} <= web
    # ... from the workers' tasks, each named, the plan's steps with their attempt
    tasks = {line.get("task") for line in ours}
    assert {"provisioning.fulfil_order", "provisioning.run_task", "billing.start_billing"} <= tasks
    steps = [line for line in ours if line.get("task") == "provisioning.run_task"]
    assert steps and all(line.get("step") and line.get("attempt") == 1 for line in steps)
    # ... and from the event hub's deliveries
    assert "tmf.deliver_event" in tasks
    # And each line is one JSON object with the time, level and logger
    assert all({"time", "level", "name", "message"} <= set(line) for line in lines)
