"""A cancellation scheduled for a later date, carried out by a real worker and its beat: a
worker killed before the date, and the beat messages nobody took meanwhile, only delay it; the
next worker carries it out once."""

from __future__ import annotations

import contextlib
import datetime
import time
from pathlib import Path

import pytest
from django.utils import timezone

from orders.models import Order, OrderEvent, ScheduledCancellation, ScheduledCancellationState
from orders.scheduled_cancellations import order_cancellation_schedule
from orders.states import EventSource, OrderStatus
from tests.factories import submit_order
from tests.plugins.celery_worker import CeleryWorker, start_or_fail, worker_environment

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_for(condition, what: str, worker: CeleryWorker, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{worker.log_tail(80)}", pytrace=False)
        time.sleep(0.2)


def test_a_scheduled_cancellation_survives_a_killed_worker_and_is_carried_out_once(
    plan, manual_area, support_user, tmp_path: Path
):
    order = submit_order(plan=plan, area=manual_area).order
    with contextlib.ExitStack() as stack:
        env = worker_environment(stack, CANCEL_DUE_EVERY_SECONDS="0.5")
        # Given a worker (with its beat) that is killed before the date
        first = CeleryWorker(
            env=env,
            log_path=tmp_path / "first.log",
            concurrency=2,
            beat_schedule=tmp_path / "beat-schedule-1",
        )
        stack.callback(first.stop)
        start_or_fail(first)
        due = timezone.now() + datetime.timedelta(seconds=3)
        scheduled = order_cancellation_schedule(
            order,
            due_at=due,
            reason="Moving abroad.",
            actor=support_user,
            source=EventSource.SUPPORT_PORTAL,
        )
        first.kill()
        assert Order.objects.get(pk=order.pk).status != OrderStatus.CANCELLED

        # When the date passes with no worker running, and a new one starts
        while timezone.now() < due:
            time.sleep(0.2)
        second = CeleryWorker(
            env=env,
            log_path=tmp_path / "second.log",
            concurrency=2,
            beat_schedule=tmp_path / "beat-schedule-2",
        )
        stack.callback(second.stop)
        start_or_fail(second)

        def carried_out() -> bool:
            return ScheduledCancellation.objects.filter(
                pk=scheduled.pk, state=ScheduledCancellationState.CARRIED_OUT
            ).exists()

        _wait_for(carried_out, "the scheduled cancellation to be carried out", second)
        time.sleep(1.5)  # a few more scans: none may cancel it again

    # Then the order is cancelled, once, by the scheduler
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    (event,) = OrderEvent.objects.filter(order=order, to_status=OrderStatus.CANCELLED)
    assert event.source == EventSource.SCHEDULER and "Moving abroad." in event.reason
