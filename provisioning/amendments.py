"""Re-planning an amended order (orders.amendments), in the amendment's transaction: tasks that
still apply keep their results; an add-on taken off has its tasks not started cancelled and its
done tasks undone (provisioning.compensation); an add-on added gets its tasks in the graph,
linked to the line's (a step that must come before the line's activation makes it wait); a new
plan for the line has its speed profile applied again. A task of what changes that is running
on the network refuses the amendment: try again once it has finished."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.utils import timezone

from orders.fulfilment import TaskMode, TaskType, decompose_into
from orders.models import Order, OrderItem
from orders.states import OrderStatus
from provisioning import scheduler
from provisioning.compensation import NOT_STARTED, undo_tasks_create
from provisioning.models import FulfilmentTask, TaskState
from provisioning.scheduler import TaskError

logger = logging.getLogger(__name__)


def plan_amend(
    order: Order,
    *,
    added: Sequence[OrderItem],
    removed: Sequence[OrderItem],
    plan_changed: bool,
    actor: User | None,
) -> list[FulfilmentTask]:
    """Bring the order's plan in line with its amended items; returns the tasks it added
    (undos included). Nothing to do before the order is planned."""
    tasks = scheduler.plan_tasks(order, lock=True)
    if not tasks:
        return []
    items = scheduler.plan_items(order)
    by_pk = {item.pk: item for item in items}
    line = next(item for item in items if item.parent_id is None)
    gone = {item.pk for item in removed}
    originals = [task for task in tasks if task.undoes_id is None]
    speed = [
        task
        for task in originals
        if plan_changed
        and task.item_id == line.pk
        and task.task_type == TaskType.APPLY_SPEED_PROFILE
    ]
    busy = [
        task
        for task in [*speed, *(t for t in originals if t.item_id in gone)]
        if task.state == TaskState.RUNNING
    ]
    if busy:
        raise TaskError(
            f"{busy[0].label} ({busy[0].key}) is running on the network: the order can be "
            "changed once it has finished. Try again in a moment."
        )
    now = timezone.now()
    # An add-on taken off: what has not started is cancelled, what was done is undone.
    mine = [task for task in originals if task.item_id in gone]
    stopped = [task for task in mine if task.state in NOT_STARTED]
    FulfilmentTask.objects.filter(pk__in=[t.pk for t in stopped]).update(
        state=TaskState.CANCELLED, finished_at=now, state_changed_at=now
    )
    for task in stopped:
        task.state = TaskState.CANCELLED
    undos = undo_tasks_create(order, [task for task in mine if task.state == TaskState.DONE])
    # A new plan: its speed profile is applied again (the line is not active yet).
    for task in speed:
        if task.state == TaskState.DONE:
            task.state, task.ready_at, task.state_changed_at = TaskState.READY, now, now
            task.save(update_fields=["state", "ready_at", "state_changed_at"])
            scheduler.send(order, [task])
    # An add-on added: its tasks join the graph.
    existing = {(by_pk[t.item_id].item_id, t.task_type): t.key for t in originals}
    manual = order.status == OrderStatus.AWAITING_MANUAL
    drafts, gained = decompose_into(
        [scheduler.planned_item(item, by_pk) for item in added], existing=existing, manual=manual
    )
    by_item_id = {item.item_id: item for item in added}
    new = FulfilmentTask.objects.bulk_create(
        [
            FulfilmentTask(
                order=order,
                item=by_item_id[draft.item_id],
                key=draft.key,
                task_type=draft.task_type,
                mode=draft.mode if not manual else TaskMode.MANUAL,
                is_ponr=draft.is_ponr,
                undo=draft.undo,
                depends_on=draft.depends_on,
                created_at=now,
                state_changed_at=now,
            )
            for draft in drafts
        ]
    )
    for task in originals:
        if task.key in gained:
            task.depends_on = [*task.depends_on, *gained[task.key]]
            task.save(update_fields=["depends_on"])
    logger.info(
        "order %s re-planned: %d task(s) added, %d stopped, %d to undo, speed again: %s",
        order.pk,
        len(new),
        len(stopped),
        len(undos),
        bool(speed),
    )
    scheduler.advance(order, [*tasks, *undos, *new], actor=actor)
    return [*undos, *new]
