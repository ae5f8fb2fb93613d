"""The point of no return with a real worker (issue 10's "done when": a cancel refused after the
point of no return in every channel). While the worker is activating the line, a cancel is
refused with its reason in the service, the TMF622 API, the sales and support pages and the
customer's page; nothing of the order is undone, and the line goes live as planned."""

from __future__ import annotations

import contextlib
import html
import time
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from orders.cancellation import CancellationRefused
from orders.models import Order, OutboxMessage
from orders.services import customer_link_user, order_cancel
from orders.states import EventSource, OrderStatus
from provisioning.models import FulfilmentTask, TaskState
from tests.factories import submit_order
from tests.plugins.celery_worker import CeleryWorker, start_or_fail, worker_environment
from tests.tmf.conftest import TMF622
from tmf.clients import api_client_create
from tmf.models import CancelProductOrder

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_for(condition, what: str, worker: CeleryWorker, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{worker.log_tail(80)}", pytrace=False)
        time.sleep(0.05)


def _page(client: Client, name: str, order: Order, **data: str) -> str:
    url = reverse(name, kwargs={"order_id": order.pk})
    response = client.post(url, data, follow=True) if data else client.get(url)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_while_the_worker_activates_the_line_every_channel_refuses_to_cancel(
    plan, serviceable_area, sales_user, support_user, customer_user, tmp_path: Path
):
    _, token = api_client_create("crm", ("read", "create", "cancel"))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    with contextlib.ExitStack() as stack:
        # Slow enough that the line's activation lasts seconds: the refusals happen during it.
        env = worker_environment(
            stack, NETWORK_SIMULATOR_LATENCY_MS="2500", OUTBOX_DISPATCH_EVERY_SECONDS="0.5"
        )
        worker = CeleryWorker(
            env=env,
            log_path=tmp_path / "worker.log",
            concurrency=2,
            beat_schedule=tmp_path / "beat-schedule",
        )
        stack.callback(worker.stop)
        start_or_fail(worker)

        # Given a customer's order whose line the worker has started to activate
        order = submit_order(plan=plan, area=serviceable_area).order
        customer_link_user(order.customer_id, customer_user)

        def activating() -> bool:
            return FulfilmentTask.objects.filter(
                order=order, key="1.activate_line", state=TaskState.RUNNING
            ).exists()

        _wait_for(activating, "the worker to start activating the line", worker)
        status_before = Order.objects.get(pk=order.pk).status

        # When the rep's service call cancels it: refused, saying which task started and when
        with pytest.raises(CancellationRefused) as refused:
            order_cancel(
                order, actor=sales_user, reason="Changed my mind.", source=EventSource.SALES_PORTAL
            )
        assert refused.value.reason_code == CancellationRefused.PONR
        assert "Activate line started at" in refused.value.message

        # ... the CRM cancels it through TMF622: 409 with code PONR
        response = api.post(
            f"{TMF622}/cancelProductOrder",
            {"productOrder": {"id": order.display_id}, "cancellationReason": "Changed my mind."},
            format="json",
        )
        assert response.status_code == 409, response.content
        assert response.json()["code"] == "PONR"

        # ... the sales rep and the support agent press "Cancel order": the page says why
        for user, action in ((sales_user, "orders:cancel"), (support_user, "support:order_cancel")):
            staff = Client()
            staff.force_login(user)
            page = _page(
                staff, action, order, reason="Customer asked.", expected_status=status_before
            )
            assert "Activate line started at" in page
            assert "point of no return" in page

        # ... and the customer, on their own order page, is told in their words
        customer = Client()
        customer.force_login(customer_user)
        page = _page(customer, "portal:order_detail", order)
        assert "This order can no longer be changed online. Your line is being switched on." in page
        page = _page(customer, "portal:order_cancel", order, expected_status=status_before)
        assert "This order can no longer be changed online." in page
        assert "Activate line" not in page

        # Then the worker carries on: the line goes live and the order completes
        def completed() -> bool:
            return Order.objects.filter(pk=order.pk, status=OrderStatus.COMPLETED).exists() and (
                not OutboxMessage.objects.filter(order=order, completed_at__isnull=True).exists()
            )

        _wait_for(completed, "the order to complete", worker)

    # ... with nothing undone and no cancellation on record anywhere
    assert not FulfilmentTask.objects.filter(order=order, undoes__isnull=False).exists()
    assert not CancelProductOrder.objects.filter(order=order).exists()
    assert not order.events.filter(to_status__in=[OrderStatus.CANCELLING, OrderStatus.CANCELLED])
