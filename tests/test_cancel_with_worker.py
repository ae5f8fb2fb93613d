"""A cancel in flight carried out by a real worker (issue 10's "done when"): an order cancelled
before its point of no return has every task its plan did undone, in reverse dependency order,
by the worker; the line is never activated, the simulated network holds nothing of the order
afterwards, and only then is the order reported cancelled."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest

from orders.models import Order, OutboxMessage
from orders.services import order_cancel
from orders.states import EventSource, OrderStatus
from provisioning.models import FulfilmentTask, TaskAttempt, TaskState
from tests.factories import RouterOfferingFactory, StaticIpOfferingFactory, submit_order
from tests.plugins.celery_worker import CeleryWorker, start_or_fail, worker_environment
from tests.provisioning.running import held_by_network

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_for(condition, what: str, worker: CeleryWorker, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{worker.log_tail(80)}", pytrace=False)
        time.sleep(0.1)


def test_a_worker_undoes_a_cancelled_order_in_reverse_and_leaves_nothing_behind(
    plan, serviceable_area, sales_user, tmp_path: Path
):
    with contextlib.ExitStack() as stack:
        # Slow enough that the order is cancelled with the line's activation still seconds away.
        env = worker_environment(
            stack, NETWORK_SIMULATOR_LATENCY_MS="1500", OUTBOX_DISPATCH_EVERY_SECONDS="0.5"
        )
        worker = CeleryWorker(
            env=env,
            log_path=tmp_path / "worker.log",
            concurrency=3,
            beat_schedule=tmp_path / "beat-schedule",
        )
        stack.callback(worker.stop)
        start_or_fail(worker)

        # Given a line with a static IP and a router on its way: the subscriber is created
        order = submit_order(
            plan=plan,
            add_ons=(StaticIpOfferingFactory(), RouterOfferingFactory()),
            area=serviceable_area,
        ).order

        def subscribed() -> bool:
            return FulfilmentTask.objects.filter(
                order=order, key="1.create_subscriber", state=TaskState.DONE
            ).exists()

        _wait_for(subscribed, "the subscriber to be created", worker)

        # When the rep cancels it, before the point of no return
        cancelling = order_cancel(
            order, actor=sales_user, reason="Customer withdrew.", source=EventSource.SALES_PORTAL
        )
        assert cancelling.status == OrderStatus.CANCELLING

        def cancelled() -> bool:
            return Order.objects.filter(pk=order.pk, status=OrderStatus.CANCELLED).exists() and (
                not OutboxMessage.objects.filter(order=order, completed_at__isnull=True).exists()
            )

        _wait_for(cancelled, "the cancellation to finish", worker)

    # Then every task done was undone by the worker, each undo after those of what relied on it
    undos = {
        a.task.undoes.key: a
        for a in TaskAttempt.objects.filter(order=order, task__undoes__isnull=False)
        .select_related("task__undoes")
        .order_by("number")
    }
    done = set(
        FulfilmentTask.objects.filter(
            order=order, undoes__isnull=True, state=TaskState.DONE
        ).values_list("key", flat=True)
    )
    assert {"1.reserve_port", "1.create_subscriber", "3.register_cpe"} <= done
    assert set(undos) == done
    assert all(a.outcome == TaskAttempt.Outcome.SUCCEEDED for a in undos.values())
    assert undos["1.create_subscriber"].finished_at <= undos["1.reserve_port"].started_at
    for dependent in ("1.apply_speed_profile", "2.allocate_address"):
        if dependent in undos:
            assert undos[dependent].finished_at <= undos["1.create_subscriber"].started_at
    # ... the line was never activated, and the network holds nothing of the order
    assert not TaskAttempt.objects.filter(order=order, task__key="1.activate_line").exists()
    assert held_by_network(order) == set()
