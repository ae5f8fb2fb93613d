"""An order's whole path with a real Celery worker process logging JSON, as docker-compose runs
it: one search for the order's ID finds its lines from the web (this process), the worker's
tasks and the hub's deliveries (the worker's log), and /metrics counts the worker's work."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse

from orders.models import Order, OutboxMessage
from orders.states import OrderStatus
from provisioning.models import TaskAttempt
from tests.observability.conftest import sample, total
from tests.observability.test_order_path import sales_form
from tests.plugins.celery_worker import CeleryWorker, start_or_fail, worker_environment
from tests.tmf.conftest import TMF622, make_api_client  # noqa: F401  (a fixture)
from tests.tmf.hub_listener import Listener, running_listener

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SETTLE_TIMEOUT_SECONDS = 120.0


@pytest.fixture
def listener() -> Iterator[Listener]:
    yield from running_listener()


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for raw in text.splitlines():
        raw = raw.strip()
        if raw.startswith("{"):
            lines.append(json.loads(raw))
    return lines


def test_one_search_for_the_order_id_finds_its_path_through_web_worker_and_hub(
    client,
    sales_user,
    plan,
    serviceable_area,
    settings,
    make_api_client,  # noqa: F811
    scrape,
    json_log,
    listener,
    tmp_path,
):
    settings.CUSTOMER_NOTICES_ON_EVENTS = True
    crm = make_api_client("read", "subscribe", name="crm")
    assert crm.post(f"{TMF622}/hub", {"callback": listener.url}, format="json").status_code == 201
    with contextlib.ExitStack() as stack:
        # Given a worker logging JSON, as in production
        env = worker_environment(stack, LOG_FORMAT="json", CUSTOMER_NOTICES_ON_EVENTS="1")
        worker = CeleryWorker(env=env, log_path=tmp_path / "worker.log")
        start_or_fail(worker)
        stack.callback(worker.stop)
        # When a sales rep takes an order and the worker carries it through
        client.force_login(sales_user)
        response = client.post(reverse("orders:new"), sales_form(plan))
        assert response.status_code == 302
        order = Order.objects.get()
        deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
        while not (
            Order.objects.filter(pk=order.pk, status=OrderStatus.COMPLETED).exists()
            and not OutboxMessage.objects.filter(completed_at__isnull=True).exists()
        ):
            if time.monotonic() > deadline:
                pytest.fail(f"order not completed\n{worker.log_tail(80)}", pytrace=False)
            time.sleep(0.3)
        samples = scrape()
        worker_log = worker.log()

    # Then the worker wrote JSON lines, and every one naming the order carries its ID
    worker_lines = json_lines(worker_log)
    assert worker_lines, worker_log[-2000:]
    everything = json_log.records() + worker_lines
    naming = [line for line in everything if order.pk in line["message"]]
    assert naming and all(line.get("order_id") == order.pk for line in naming)
    # And a search for the ID finds the web's request, each task the worker ran, the plan's
    # steps with their attempts, and the hub's deliveries
    found = [line for line in everything if line.get("order_id") == order.pk]
    assert "orders:new" in {line.get("route") for line in found}
    tasks = {line.get("task") for line in found}
    assert {"provisioning.fulfil_order", "provisioning.run_task", "billing.start_billing"} <= tasks
    assert {"notices.send_customer_notice", "tmf.deliver_event"} <= tasks
    steps = {line.get("step") for line in found if line.get("task") == "provisioning.run_task"}
    assert len(steps - {None}) >= 4
    assert len(listener.received) >= 1
    # And /metrics (read from the database) counts what the worker did
    assert sample(samples, "orders_by_state", state="completed") == 1
    assert total(samples, "task_attempts_total") == TaskAttempt.objects.filter(order=order).count()
    assert total(samples, "emails_sent_total") >= 1
    assert sample(samples, "hub_delivery_attempts_total", outcome="delivered") >= 1
