"""A three-item order fulfilled by real worker processes (issue 9's "done when"): the router's
CPE registration and the line's port reservation run at the same time, a transient failure on
one task recovers by itself, a permanent failure on the static IP holds the order until it is
retried from the exception queue, which resumes at that task and redoes nothing else; completion
bills every item and puts every item in the customer's installed base."""

from __future__ import annotations

import contextlib
import json
import time
from decimal import Decimal
from pathlib import Path

import pytest

from billing.models import BillingCharge
from inventory.models import Product
from orders.models import Order, OutboxMessage
from orders.states import ItemState, OrderStatus
from provisioning.models import ExceptionCase, FulfilmentTask, ReasonCode, TaskAttempt, TaskState
from provisioning.services import exception_case_retry
from tests.factories import RouterOfferingFactory, StaticIpOfferingFactory, submit_order
from tests.plugins.celery_worker import CeleryWorker, start_or_fail, worker_environment

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SETTLE_TIMEOUT_SECONDS = 90.0
RULES = [
    # The element manager times out once on creating the subscriber: retried automatically.
    {
        "when": {"exchange": "Westminster"},
        "step": "create_subscriber",
        "error": "NETWORK_TIMEOUT",
        "transient": True,
        "fail_attempts": 1,
    },
    # The address pool is empty on the first try: a permanent failure, for a person.
    {
        "when": {"exchange": "Westminster"},
        "step": "allocate_address",
        "error": "ADDRESS_POOL_EXHAUSTED",
        "transient": False,
        "fail_attempts": 1,
    },
]


def _wait_for(condition, what: str, workers: list[CeleryWorker]) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {w.log_path.name}\n{w.log_tail(80)}" for w in workers)
            pytest.fail(f"timed out waiting for {what}\n{logs}", pytrace=False)
        time.sleep(0.2)


def _attempts(order: Order) -> dict[str, list[TaskAttempt]]:
    found: dict[str, list[TaskAttempt]] = {}
    for attempt in (
        TaskAttempt.objects.filter(order=order)
        .select_related("task")
        .order_by("task__key", "number")
    ):
        found.setdefault(attempt.task.key, []).append(attempt)
    return found


def test_a_three_item_plan_runs_in_parallel_recovers_and_resumes_at_the_failed_task(
    plan, serviceable_area, lead_user, tmp_path: Path
):
    workers: list[CeleryWorker] = []
    with contextlib.ExitStack() as stack:
        env = worker_environment(
            stack,
            NETWORK_SIMULATOR_RULES=json.dumps(RULES),
            # Slow enough that two tasks handed out together are seen overlapping.
            NETWORK_SIMULATOR_LATENCY_MS="700",
            PROVISIONING_RETRY_BACKOFF_SECONDS="1",
            OUTBOX_DISPATCH_EVERY_SECONDS="0.5",
        )
        worker = CeleryWorker(
            env=env,
            log_path=tmp_path / "worker.log",
            concurrency=3,
            beat_schedule=tmp_path / "beat-schedule",
        )
        workers.append(worker)
        stack.callback(worker.stop)
        start_or_fail(worker)

        # Given a line with a static IP and a managed router, ordered at an automated exchange
        order = submit_order(
            plan=plan,
            add_ons=(StaticIpOfferingFactory(), RouterOfferingFactory()),
            area=serviceable_area,
        ).order

        # When the workers run its plan, it stops at the static IP: the pool is empty
        def held() -> bool:
            return ExceptionCase.objects.filter(order=order).exists()

        _wait_for(held, "the static IP's failure to hold the order", workers)
        order.refresh_from_db()
        assert order.status == OrderStatus.EXCEPTION
        case = ExceptionCase.objects.get(order=order)
        assert (case.reason_code, case.task.key) == (
            ReasonCode.ADDRESS_POOL_EXHAUSTED,
            "2.allocate_address",
        )
        tasks = dict(FulfilmentTask.objects.filter(order=order).values_list("key", "state"))
        assert tasks["2.allocate_address"] == TaskState.FAILED
        assert tasks["1.activate_line"] == TaskState.WAITING  # the point of no return waits

        # Then CPE registration and port reservation ran at the same time
        attempts = _attempts(order)
        port, cpe = attempts["1.reserve_port"][0], attempts["3.register_cpe"][0]
        assert port.started_at < cpe.finished_at and cpe.started_at < port.finished_at
        # ... and the subscriber's timeout was retried by itself, after a backoff
        first, second = attempts["1.create_subscriber"]
        assert (first.outcome, first.error_code, first.transient) == (
            "failed",
            ReasonCode.NETWORK_TIMEOUT,
            True,
        )
        assert (second.trigger, second.outcome) == ("auto_retry", "succeeded")
        assert second.started_at >= first.finished_at

        # When the lead retries from the exception queue
        exception_case_retry(case, acting_user=lead_user)

        def completed() -> bool:
            return Order.objects.filter(pk=order.pk, status=OrderStatus.COMPLETED).exists() and (
                not OutboxMessage.objects.filter(order=order, completed_at__isnull=True).exists()
            )

        _wait_for(completed, "the order to complete", workers)

    # Then the plan resumed at the static IP: no other task was done twice
    attempts = _attempts(order)
    assert {key: len(runs) for key, runs in attempts.items()} == {
        "1.reserve_port": 1,
        "1.create_subscriber": 2,
        "1.apply_speed_profile": 1,
        "1.activate_line": 1,
        "2.allocate_address": 2,
        "2.bind_address": 1,
        "3.register_cpe": 1,
    }
    retried = attempts["2.allocate_address"][1]
    assert (retried.trigger, retried.requested_by, retried.outcome) == (
        "manual_retry",
        lead_user,
        "succeeded",
    )
    # ... the line went live only after its add-ons were ready
    activate = attempts["1.activate_line"][0]
    assert activate.started_at >= attempts["2.bind_address"][0].finished_at
    assert activate.started_at >= attempts["3.register_cpe"][0].finished_at
    case.refresh_from_db()
    assert case.resolution == ExceptionCase.Resolution.RETRY_SUCCEEDED
    # ... every item is billed as ordered, the router's fee on the first bill
    assert set(order.items.values_list("state", flat=True)) == {ItemState.COMPLETED}
    charges = {
        c.item.item_id: (c.recurring_price, c.one_time_price)
        for c in BillingCharge.objects.filter(account__order=order).select_related("item")
    }
    assert charges == {
        "1": (Decimal("35.00"), Decimal("0.00")),
        "2": (Decimal("5.00"), Decimal("0.00")),
        "3": (Decimal("3.00"), Decimal("49.00")),
    }
    # ... and is in the customer's installed base with what the network recorded
    products = {p.order_item.item_id: p for p in Product.objects.filter(order=order)}
    assert set(products) == {"1", "2", "3"}
    assert products["1"].network_identifiers.keys() >= {"port", "subscriber"}
    assert "ipv4Address" in products["2"].network_identifiers
    assert "cpeSerial" in products["3"].network_identifiers
