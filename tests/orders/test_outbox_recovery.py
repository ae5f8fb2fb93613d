"""The outbox's one generic recovery (orders.outbox.recovery): work the broker lost, or whose
worker died, is handed over again; work that is only waiting in a queue is left alone."""

from __future__ import annotations

import datetime

import pytest
from celery import current_app
from django.utils import timezone

from billing.models import BillingAccount
from orders.models import Order, OutboxMessage
from orders.outbox import recovery
from orders.states import OrderStatus
from provisioning.models import TaskAttempt
from tests.factories import submit_order

pytestmark = pytest.mark.django_db

FULFIL_TASK = "provisioning.fulfil_order"


@pytest.fixture
def lossy_broker(monkeypatch):
    """A broker that accepts the named tasks and then loses them."""

    def lose(*names: str) -> list[str]:
        lost: list[str] = []
        for name in names:
            task = current_app.tasks[name]
            monkeypatch.setattr(
                task, "apply_async", lambda *a, _n=name, **k: lost.append(_n), raising=True
            )
        return lost

    return lose


@pytest.fixture
def broker_holds(monkeypatch):
    """Set how many messages the broker says wait in each queue."""
    waiting: dict[str, int] = {}
    monkeypatch.setattr(
        recovery, "broker_waiting", lambda queues: {q: waiting.get(q, 0) for q in queues}
    )
    return waiting


def later(seconds: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "task",
    [FULFIL_TASK, "provisioning.run_task", "billing.start_billing"],
)
def test_work_the_broker_lost_is_handed_over_again_and_done_once(
    task,
    plan,
    serviceable_area,
    lossy_broker,
    broker_holds,
    monkeypatch,
    settings,
    django_capture_on_commit_callbacks,
):
    # Given the broker lost one step of an order's work after accepting it
    lost = lossy_broker(task)
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area).order
    assert lost == [task]
    assert Order.objects.get(pk=order.pk).status != OrderStatus.COMPLETED
    message = OutboxMessage.objects.get(order=order, task_name=task)
    assert message.state == "queued"
    # When recovery runs before the message could count as lost, it leaves it alone
    assert recovery.outbox_recover()["lost"] == 0
    # When it runs later, with the broker healthy again and its queue empty
    monkeypatch.undo()
    broker_holds.clear()
    with django_capture_on_commit_callbacks(execute=True):
        counts = recovery.outbox_recover(now=later(settings.OUTBOX_LOST_AFTER_SECONDS + 1))
    # Then the same message is handed over again and the order goes through, billed once
    assert counts == {"lost": 1, "dispatched": 1}
    message.refresh_from_db()
    assert (message.state, message.send_attempts) == ("completed", 2)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert BillingAccount.objects.filter(order=order).count() == 1
    # and no task of its plan ran twice
    assert TaskAttempt.objects.filter(order=order).count() == 4


def test_work_waiting_in_a_backlog_is_left_alone_and_only_the_missing_is_resent(
    plan, serviceable_area, lossy_broker, broker_holds, settings, django_capture_on_commit_callbacks
):
    # Given five orders whose fulfilment was handed over long ago and not started yet
    lost = lossy_broker(FULFIL_TASK)
    with django_capture_on_commit_callbacks(execute=True):
        orders = [submit_order(plan=plan, area=serviceable_area).order for _ in range(5)]
    assert len(lost) == 5
    long_after = later(settings.OUTBOX_LOST_AFTER_SECONDS * 30)
    # When the broker still holds all five in its queue (a backlog, not a loss)
    broker_holds["celery"] = 5
    # Then recovery re-sends none of them
    assert recovery.outbox_find_lost(now=long_after) == []
    # When it holds only the two handed over last (it forgot the others)
    broker_holds["celery"] = 2
    # Then exactly the three oldest are lost
    lost_ids = recovery.outbox_find_lost(now=long_after)
    expected = OutboxMessage.objects.filter(
        task_name=FULFIL_TASK, order__in=orders[:3]
    ).values_list("pk", flat=True)
    assert sorted(lost_ids) == sorted(expected)


def test_work_whose_worker_died_is_handed_over_again_after_its_lease(
    plan,
    serviceable_area,
    lossy_broker,
    broker_holds,
    monkeypatch,
    settings,
    django_capture_on_commit_callbacks,
):
    # Given a worker took an order's fulfilment and died before finishing it
    lossy_broker(FULFIL_TASK)
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area).order
    message = OutboxMessage.objects.get(order=order, task_name=FULFIL_TASK)
    OutboxMessage.objects.filter(pk=message.pk).update(started_at=timezone.now(), attempts=1)
    broker_holds["celery"] = 0
    # Then within the lease it counts as running, not lost
    assert recovery.outbox_find_lost(now=later(settings.OUTBOX_LEASE_SECONDS - 5)) == []
    # When the lease is over
    monkeypatch.undo()
    broker_holds.clear()
    with django_capture_on_commit_callbacks(execute=True):
        counts = recovery.outbox_recover(now=later(settings.OUTBOX_LEASE_SECONDS + 1))
    # Then it is handed over again and the order goes through
    assert counts["lost"] == 1
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("completed", 2)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED


def test_recovery_leaves_work_that_is_moving_or_done_alone(
    plan, serviceable_area, manual_area, broker_holds, django_capture_on_commit_callbacks, settings
):
    # Given an order that went through and one waiting for people, not for a worker
    with django_capture_on_commit_callbacks(execute=True):
        submit_order(plan=plan, area=serviceable_area)
        submit_order(plan=plan, area=manual_area)
    # Then, however much later, recovery finds nothing lost and sends nothing
    assert recovery.outbox_recover(now=later(3600 * 24)) == {"lost": 0, "dispatched": 0}


def test_recovery_asks_the_real_broker_what_waits_in_its_queue(settings):
    # The filesystem broker of the embedded default answers how many messages wait (the
    # same call answers from Redis in CI's PostgreSQL + Redis run).
    counts = recovery.broker_waiting({"celery", "housekeeping"})
    assert set(counts) == {"celery", "housekeeping"}
    assert all(isinstance(n, int) and n >= 0 for n in counts.values())


def test_completed_messages_are_purged_after_the_keep_period(
    plan, serviceable_area, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit_order(plan=plan, area=serviceable_area)
    done = OutboxMessage.objects.filter(completed_at__isnull=False).count()
    assert done >= 3
    assert recovery.outbox_purge_completed() == 0
    purged = recovery.outbox_purge_completed(
        now=later(86400 * (settings.OUTBOX_KEEP_COMPLETED_DAYS + 1))
    )
    assert purged == done


def test_a_worker_that_restarts_sends_again_at_once_what_its_last_run_left_unfinished(
    plan, serviceable_area, lossy_broker, monkeypatch, django_capture_on_commit_callbacks
):
    # Given a worker named worker@host took an order's fulfilment and was killed
    lossy_broker(FULFIL_TASK)
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area).order
    message = OutboxMessage.objects.get(order=order, task_name=FULFIL_TASK)
    OutboxMessage.objects.filter(pk=message.pk).update(
        started_at=timezone.now(), attempts=1, started_by="worker@host"
    )
    monkeypatch.undo()
    # When another worker starts, nothing of worker@host's is touched
    assert recovery.outbox_recover_from_restart("other@host", booted_at=later(1)) == 0
    # When worker@host itself starts again, well within the lease
    assert recovery.outbox_recover_from_restart("worker@host", booted_at=later(1)) == 1
    # Then the message is sent again at once and the order goes through
    with django_capture_on_commit_callbacks(execute=True):
        assert recovery.outbox_dispatch_due() == 1
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("completed", 2)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED
