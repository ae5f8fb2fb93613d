"""A move home carried out by a real worker: the old line's cease waits, scheduled, while the
worker sets up the new line, and starts only once the new line is live; then the old line is
terminated and the new one is active."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest

from inventory.models import Product, ProductStatus
from orders.models import Order, OutboxMessage
from orders.moves import NewAddress, order_submit_move
from orders.states import EventSource, OrderStatus
from provisioning.models import TaskAttempt
from tests.factories import ServiceAreaFactory, submit_order
from tests.plugins.celery_worker import CeleryWorker, start_or_fail, worker_environment

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_for(condition, what: str, worker: CeleryWorker, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{worker.log_tail(80)}", pytrace=False)
        time.sleep(0.1)


def _settled(order: Order, status: str) -> bool:
    return Order.objects.filter(pk=order.pk, status=status).exists() and (
        not OutboxMessage.objects.filter(order=order, completed_at__isnull=True).exists()
    )


def test_a_worker_ceases_the_old_line_only_after_the_new_one_is_live(
    plan, serviceable_area, tmp_path: Path
):
    ServiceAreaFactory(postcode="NW1 4AA", exchange="Newtown")
    with contextlib.ExitStack() as stack:
        # Slow enough that the cease would visibly run early if it did not wait.
        env = worker_environment(
            stack, NETWORK_SIMULATOR_LATENCY_MS="300", OUTBOX_DISPATCH_EVERY_SECONDS="0.5"
        )
        worker = CeleryWorker(
            env=env,
            log_path=tmp_path / "worker.log",
            concurrency=3,
            beat_schedule=tmp_path / "beat-schedule",
        )
        stack.callback(worker.stop)
        start_or_fail(worker)

        # Given a live line
        first = submit_order(plan=plan, area=serviceable_area).order
        _wait_for(lambda: _settled(first, OrderStatus.COMPLETED), "the first line", worker)
        old_line = Product.objects.get(order=first)

        # When the customer moves home
        submission = order_submit_move(
            old_line.pk,
            NewAddress(address_line1="4 New Road", city="Newtown", postcode="NW1 4AA"),
            channel=EventSource.SUPPORT_PORTAL,
            submitted_by=None,
        )
        cease = submission.cease
        _wait_for(lambda: _settled(cease, OrderStatus.COMPLETED), "the cease", worker)

    # Then the cease's first task started only after the new line was live
    provide = Order.objects.get(pk=submission.provide.pk)
    assert provide.status == OrderStatus.COMPLETED and provide.activated_at is not None
    first_cease_attempt = TaskAttempt.objects.filter(order=cease).order_by("started_at").first()
    assert first_cease_attempt is not None
    assert first_cease_attempt.started_at >= provide.activated_at
    # ... the old line is terminated, the new one active
    old_line.refresh_from_db()
    assert old_line.status == ProductStatus.TERMINATED
    assert Product.objects.get(order=provide).status == ProductStatus.ACTIVE
