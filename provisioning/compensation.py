"""Cancelling an order in flight: what its plan did on the network is undone, in reverse order.

``plan_standing`` tells orders where a plan stands (has its point of no return started? is
there anything to undo?); orders.cancellation registers it and decides. When an order goes
``cancelling``, ``plan_compensate`` turns the plan around: tasks not started are cancelled, and
each task done (or still running) gets an undo task that waits for the undos of the tasks that
depended on it (release the port only once the subscriber is removed). Undo tasks are tasks
like any other: run by workers through the outbox, with attempts, retries and an exception
case when one fails for good. When every undo is done the scheduler finishes the cancellation
(``scheduler._cancellation_follow``); until then the order is not reported cancelled.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import User
from django.utils import timezone

from orders.cancellation import PlanStanding
from orders.fulfilment import UNDO_SUFFIX
from orders.models import Order
from provisioning import scheduler
from provisioning.models import FulfilmentTask, TaskState

logger = logging.getLogger(__name__)

# What a task in these states did on the network, or is doing now, must be undone.
TO_UNDO = (TaskState.DONE, TaskState.RUNNING)
NOT_STARTED = (TaskState.WAITING, TaskState.READY, TaskState.FAILED)


def plan_standing(order: Order, lock: bool) -> PlanStanding:
    """Where the order's plan stands: one query over its tasks (held, with ``lock``, until the
    transaction ends: a task about to start waits for the decision)."""
    query = FulfilmentTask.objects.filter(order=order, undoes__isnull=True).only(
        "key", "task_type", "is_ponr", "state", "started_at", "finished_at", "undoes"
    )
    if lock:
        query = query.select_for_update(no_key=True)
    tasks = list(query)
    ponr = next(
        (
            t
            for t in tasks
            if t.is_ponr and (t.started_at is not None or t.state in (*TO_UNDO, TaskState.FAILED))
        ),
        None,
    )
    return PlanStanding(
        ponr_task=ponr.label if ponr else "",
        ponr_started_at=(ponr.started_at or ponr.finished_at or timezone.now()) if ponr else None,
        has_work_to_undo=any(t.state in TO_UNDO for t in tasks),
    )


def undo_tasks_create(order: Order, to_undo: list[FulfilmentTask]) -> list[FulfilmentTask]:
    """An undo task for each of ``to_undo`` (done or running), each after the undos of those of
    them that relied on it; a running task's undo waits for it to finish."""
    keys = {task.key for task in to_undo}
    now = timezone.now()
    return FulfilmentTask.objects.bulk_create(
        [
            FulfilmentTask(
                order=order,
                item_id=task.item_id,
                key=task.key + UNDO_SUFFIX,
                task_type=task.task_type,
                mode=task.mode,
                undoes=task,
                undo=not task.undo,  # undoing a cease's step puts it back
                depends_on=[
                    other.key + UNDO_SUFFIX
                    for other in to_undo
                    if other.key in keys and task.key in other.depends_on
                ]
                + ([task.key] if task.state == TaskState.RUNNING else []),
                created_at=now,
                state_changed_at=now,
            )
            for task in to_undo
        ]
    )


def plan_compensate(order: Order, *, actor: User | None) -> list[FulfilmentTask]:
    """Turn the plan of a ``cancelling`` order around (in the transaction that cancelled it,
    the order locked): cancel what has not started, add an undo for each task done or running,
    and release the undos that wait for nothing. Returns the undo tasks."""
    tasks = scheduler.plan_tasks(order, lock=True)
    originals = [t for t in tasks if t.undoes_id is None]
    undone = {t.key for t in originals if t.state in TO_UNDO}
    now = timezone.now()
    stopped = [t for t in originals if t.state in NOT_STARTED]
    FulfilmentTask.objects.filter(pk__in=[t.pk for t in stopped]).update(
        state=TaskState.CANCELLED, finished_at=now, state_changed_at=now
    )
    for task in stopped:
        task.state = TaskState.CANCELLED
    undos = undo_tasks_create(order, [t for t in originals if t.key in undone])
    logger.info(
        "order %s cancelled in flight: %d task(s) to undo, %d stopped",
        order.pk,
        len(undos),
        len(stopped),
    )
    scheduler.advance(order, [*tasks, *undos], actor=actor)
    return undos
