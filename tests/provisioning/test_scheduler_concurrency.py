"""Workers of one order at the same moment (provisioning.scheduler): starting a task never waits
for a worker that holds the order to record another task's outcome. It used to: the new
attempt's row refers to the order, and under a plain FOR UPDATE on the order that insert
waited for the holder while the holder waited for the starting task's row, a deadlock that
left a task marked running with no worker on it until its lease ran out."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import transaction

from orders.outbox import dispatch
from orders.services import order_lock
from provisioning.models import FulfilmentTask, TaskAttempt, TaskState
from provisioning.scheduler import task_run
from provisioning.services import fulfilment_start
from tests.factories import submit_order


@pytest.mark.postgresql  # about PostgreSQL's row locks; SQLite has one writer at a time
@pytest.mark.django_db(transaction=True)
def test_a_task_starts_while_another_worker_records_an_outcome_on_its_order(
    monkeypatch, run_in_threads, plan, serviceable_area
):
    # Given an order on the network whose first task is ready (its message kept back)
    monkeypatch.setattr(dispatch, "outbox_dispatch", lambda message_id: False)
    monkeypatch.setattr(dispatch, "outbox_dispatch_many", lambda message_ids: 0)
    order = submit_order(plan=plan, area=serviceable_area).order
    fulfilment_start(order.pk)
    task = FulfilmentTask.objects.get(order=order, key="1.reserve_port")
    assert task.state == TaskState.READY
    holding = threading.Event()

    def recording_another_outcome() -> bool:
        # a worker recording an outcome holds the order and every other task of it
        with transaction.atomic():
            order_lock(order.pk)
            others = FulfilmentTask.objects.filter(order=order).exclude(pk=task.pk)
            list(others.select_for_update(no_key=True))
            holding.set()
            deadline = time.monotonic() + 10
            while not TaskAttempt.objects.filter(task_id=task.pk).exists():
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.05)
            return True

    def starting() -> str:
        assert holding.wait(timeout=30)
        return task_run(task.pk).state

    # When another worker starts the ready task meanwhile
    started_meanwhile, state = run_in_threads(recording_another_outcome, starting)

    # Then its attempt went on record while the order was held, and the task is done
    assert started_meanwhile is True
    assert state == TaskState.DONE
    assert TaskAttempt.objects.get(task_id=task.pk).outcome == TaskAttempt.Outcome.SUCCEEDED


@pytest.mark.django_db
def test_a_worker_restarted_under_its_name_settles_the_attempts_its_last_run_left_running(
    monkeypatch, plan, serviceable_area
):
    # Given two tasks marked running: one by the worker that was killed, one by another worker
    import datetime

    from django.utils import timezone

    from provisioning.models import ReasonCode
    from provisioning.scheduler import tasks_lost_by_restart

    monkeypatch.setattr(dispatch, "outbox_dispatch", lambda message_id: False)
    monkeypatch.setattr(dispatch, "outbox_dispatch_many", lambda message_ids: 0)
    order = submit_order(plan=plan, area=serviceable_area).order
    fulfilment_start(order.pk)
    before = timezone.now() - datetime.timedelta(seconds=5)
    tasks = list(FulfilmentTask.objects.filter(order=order).order_by("pk")[:2])
    for task, worker in zip(tasks, ("celery@killed", "celery@alive"), strict=True):
        FulfilmentTask.objects.filter(pk=task.pk).update(
            state=TaskState.RUNNING, started_at=before, attempts=1
        )
        TaskAttempt.objects.create(
            task=task, order=order, number=1, trigger="initial", worker=worker, started_at=before
        )

    # When the killed worker's name starts again
    assert tasks_lost_by_restart("celery@killed", booted_at=timezone.now()) == 1

    # Then its attempt is lost at once and the task is ready for its retry; the other stands
    lost = TaskAttempt.objects.get(task=tasks[0])
    assert (lost.outcome, lost.error_code) == (TaskAttempt.Outcome.FAILED, ReasonCode.WORKER_LOST)
    assert FulfilmentTask.objects.get(pk=tasks[0].pk).state == TaskState.READY
    assert TaskAttempt.objects.get(task=tasks[1]).outcome == TaskAttempt.Outcome.RUNNING
