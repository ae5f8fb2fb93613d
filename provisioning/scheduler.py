"""The fulfilment scheduler: a small scheduler over the task table.

The task table is the record (provisioning.models.FulfilmentTask). The scheduler:

- **plans** an order when it is eligible: its items' plans decompose into one task graph
  (orders.fulfilment.decompose), written in one insert;
- **releases** tasks: a waiting task whose every dependency is done (or cancelled with its item)
  becomes ready in the same transaction as the change that released it. Automatic ready tasks
  go to workers through the outbox (one message each, so independent tasks run in parallel and
  more workers run more of them); manual ones wait in the manual pool for a person;
- **runs** one automatic task per message (``task_run``): mark it running and log the attempt,
  call the network outside any transaction, then record the outcome under the order's lock, so
  that two tasks of one order finishing at once are settled one after the other;
- **routes failures**: a transient failure is retried with exponential backoff up to
  PROVISIONING_MAX_AUTO_ATTEMPTS (the task's own attempts); a permanent one, or the limit,
  fails the task, holds its item and the order and opens the order's one exception case
  naming the task (provisioning.services). Retrying resumes at the failed tasks; done tasks are
  never redone;
- **follows items**: each item's state moves with its tasks, and when every item is completed
  or cancelled the order is activated (billing and the installed base follow it).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from orders import events as order_events
from orders import services as order_services
from orders.fulfilment import TaskMode, TaskType, decompose, ready_keys
from orders.log_context import log_context_bind
from orders.models import Order, OrderItem
from orders.outages import atomic_retrying_conflicts
from orders.outbox import RetryLater, outbox_enqueue_many
from orders.outbox.work import outbox_work_done
from orders.states import ITEM_CLOSED_STATES, EventSource, ItemAction, ItemState, OrderStatus
from provisioning.adapters import TaskRequest, TaskResult, get_adapter
from provisioning.models import FulfilmentTask, ReasonCode, TaskAttempt, TaskState

logger = logging.getLogger(__name__)

RUN_TASK = "provisioning.run_task"
OPEN_TASK_STATES = (TaskState.WAITING, TaskState.READY, TaskState.RUNNING, TaskState.FAILED)


class TaskError(order_services.OrderError):
    """The task cannot take this action now; ``message`` says why."""


@dataclass(frozen=True)
class _Planned:
    item_id: str
    parent_item_id: str | None
    parent_in_service: bool
    plan: Sequence[Mapping[str, Any]]

    @classmethod
    def of(cls, item: OrderItem, by_pk: dict[int, OrderItem]) -> _Planned:
        parent = by_pk.get(item.parent_id) if item.parent_id else None
        return cls(
            item_id=item.item_id,
            parent_item_id=parent.item_id if parent is not None else None,
            parent_in_service=parent is not None and not parent.delivers,
            plan=item.plan,  # its fulfilment plan, or the plan of its change to a live product
        )


def planned_item(item: OrderItem, by_pk: dict[int, OrderItem]) -> _Planned:
    """What decomposition needs of ``item`` (``by_pk``: the order's items)."""
    return _Planned.of(item, by_pk)


def plan_items(order: Order) -> list[OrderItem]:
    return _items(order)


def _items(order: Order) -> list[OrderItem]:
    return list(
        OrderItem.objects.filter(order=order)
        .select_related("offering__specification")
        .order_by("position", "pk")
    )


def _tasks(order: Order, *, lock: bool = False) -> list[FulfilmentTask]:
    query = FulfilmentTask.objects.filter(order=order).order_by("pk")
    if lock:
        query = query.select_for_update(no_key=True)  # see orders.services.order_lock
    return list(query)


def plan_tasks(order: Order, *, lock: bool = False) -> list[FulfilmentTask]:
    """The order's tasks (undo tasks included), oldest first; ``lock``: held until commit."""
    return _tasks(order, lock=lock)


def advance(order: Order, tasks: Sequence[FulfilmentTask], *, actor: User | None) -> None:
    """Release and follow after a change to the plan made elsewhere (provisioning.compensation)."""
    _advance(order, tasks, _items(order), actor=actor)


# --- planning -----------------------------------------------------------------------------------
def plan_create(order: Order, *, manual: bool = False) -> list[FulfilmentTask]:
    """Decompose the order's items into its task graph and release the first tasks. Call in
    the transaction that moves the order into provisioning (or the manual pool), with the
    order locked. ``manual``: the network here is not automated; people do every task."""
    if FulfilmentTask.objects.filter(order=order).exists():
        # Planned before (a person sent the order back to be checked again): carry on.
        return plan_resume(order, requested_by=None, manual=manual)
    items = _items(order)
    by_pk = {item.pk: item for item in items}
    live = [item for item in items if item.state not in ITEM_CLOSED_STATES]
    drafts = decompose([_Planned.of(item, by_pk) for item in live], manual=manual)
    by_item_id = {item.item_id: item for item in live}
    now = timezone.now()
    tasks = FulfilmentTask.objects.bulk_create(
        [
            FulfilmentTask(
                order=order,
                item=by_item_id[draft.item_id],
                key=draft.key,
                task_type=draft.task_type,
                mode=draft.mode,
                is_ponr=draft.is_ponr,
                undo=draft.undo,
                depends_on=draft.depends_on,
                created_at=now,
                state_changed_at=now,
            )
            for draft in drafts
        ]
    )
    _advance(order, tasks, items)
    return tasks


def _advance(
    order: Order,
    tasks: Sequence[FulfilmentTask],
    items: Sequence[OrderItem],
    *,
    actor: User | None = None,
) -> None:
    """Release what the tasks' states now allow, bring the items in line, and activate the
    order when everything is delivered. ``tasks`` and ``items`` are the whole order's, with
    its row locked."""
    states = {task.key: task.state for task in tasks}
    released = set(ready_keys(states, {task.key: task.depends_on for task in tasks}))
    ready = [task for task in tasks if task.key in released]
    if ready:
        now = timezone.now()
        FulfilmentTask.objects.filter(pk__in=[task.pk for task in ready]).update(
            state=TaskState.READY, ready_at=now, state_changed_at=now
        )
        for task in ready:
            task.state, task.ready_at, task.state_changed_at = TaskState.READY, now, now
        _send(order, [task for task in ready if task.mode == TaskMode.AUTOMATIC])
    if order.status == OrderStatus.CANCELLING:
        _cancellation_follow(order, tasks)
        return
    _items_follow(order, tasks, items, actor=actor)


def _cancellation_follow(order: Order, tasks: Sequence[FulfilmentTask]) -> None:
    """A cancelled order is reported cancelled once every undo of its plan is done."""
    undos = [task for task in tasks if task.undoes_id is not None]
    if all(task.state in (TaskState.DONE, TaskState.CANCELLED) for task in undos):
        done = sum(1 for task in undos if task.state == TaskState.DONE)
        order_services.order_cancel_finish(
            order,
            reason=f"Cancelled: every change made on the network undone ({done})."
            if done
            else "Cancelled: nothing was left to undo on the network.",
        )


def send(order: Order, tasks: Sequence[FulfilmentTask]) -> None:
    """Hand ready automatic tasks to the workers (after commit, through the outbox)."""
    _send(order, [task for task in tasks if task.mode == TaskMode.AUTOMATIC])


def _send(
    order: Order,
    tasks: Sequence[FulfilmentTask],
    *,
    trigger: str = TaskAttempt.Trigger.INITIAL,
    requested_by: User | None = None,
    countdown: float = 0,
) -> None:
    who = requested_by.pk if requested_by is not None and requested_by.is_authenticated else None
    outbox_enqueue_many(
        RUN_TASK,
        [{"task_id": task.pk, "trigger": trigger, "requested_by": who} for task in tasks],
        order=order,
        countdown=countdown,
    )


def _item_state(item: OrderItem, tasks: list[FulfilmentTask], parent: OrderItem | None) -> str:
    if item.state in ITEM_CLOSED_STATES:
        return item.state
    if any(task.state == TaskState.FAILED for task in tasks):
        return ItemState.HELD
    if all(task.state == TaskState.DONE for task in tasks) and (
        parent is None or parent.state == ItemState.COMPLETED
    ):
        return ItemState.COMPLETED
    if any(task.state != TaskState.WAITING for task in tasks):
        return ItemState.IN_PROGRESS
    return ItemState.PENDING


def _items_follow(
    order: Order,
    tasks: Sequence[FulfilmentTask],
    items: Sequence[OrderItem],
    *,
    actor: User | None = None,
) -> None:
    by_item: dict[int, list[FulfilmentTask]] = {item.pk: [] for item in items}
    for task in tasks:
        by_item.setdefault(task.item_id, []).append(task)
    by_pk = {item.pk: item for item in items}
    now = timezone.now()
    changes: list[tuple[OrderItem, str]] = []
    # Parents first: an add-on completes only once its line has.
    for item in sorted(items, key=lambda i: (i.parent_id is not None, i.position)):
        parent = by_pk.get(item.parent_id) if item.parent_id else None
        state = _item_state(item, by_item.get(item.pk, []), parent)
        if state != item.state:
            changes.append((item, item.state))
            item.state, item.state_changed_at = state, now
            if state == ItemState.COMPLETED:
                item.completed_at = now
                item.network_identifiers = _identifiers(by_item.get(item.pk, []))
    if changes:
        OrderItem.objects.bulk_update(
            [item for item, _ in changes],
            ["state", "state_changed_at", "completed_at", "network_identifiers"],
        )
        order_events.item_states_changed(order=order, changes=changes, actor=actor)
    _order_follow(order, items, tasks, actor=actor)


def _identifiers(tasks: Iterable[FulfilmentTask]) -> dict[str, str]:
    found: dict[str, str] = {}
    for task in sorted(tasks, key=lambda t: t.pk):
        found.update(task.result or {})
    return found


def _order_follow(
    order: Order,
    items: Sequence[OrderItem],
    tasks: Sequence[FulfilmentTask],
    *,
    actor: User | None,
) -> None:
    """Every item delivered or cancelled (and at least one delivered), and nothing left to
    undo (an add-on an amendment took off): the order is live."""
    if not all(item.state in ITEM_CLOSED_STATES for item in items):
        return
    if any(task.undoes_id is not None and task.state in OPEN_TASK_STATES for task in tasks):
        return
    if not any(item.state == ItemState.COMPLETED and item.delivers for item in items):
        return
    if order.status == OrderStatus.PROVISIONING:
        order_services.order_activate(order, reason="Every item delivered on the network.")
    elif order.status in (OrderStatus.AWAITING_MANUAL, OrderStatus.EXCEPTION) and actor:
        order_services.order_confirm_manual_activation(
            order,
            actor=actor,
            source=EventSource.STAFF_PORTAL,
            reason="The last fulfilment task was done by hand; every item is delivered.",
        )


# --- running a task -----------------------------------------------------------------------------
def _request_for(task: FulfilmentTask, attempt: int) -> TaskRequest:
    order = task.order
    item = task.item
    offering = item.offering
    # What the network knows the order's live products by, then what its done tasks recorded.
    identifiers = {
        key: value
        for identifiers in order.items.filter(product_ref__isnull=False).values_list(
            "network_identifiers", flat=True
        )
        for key, value in (identifiers or {}).items()
    }
    identifiers.update(
        _identifiers(
            FulfilmentTask.objects.filter(order=order, state=TaskState.DONE).only("pk", "result")
        )
    )
    return TaskRequest(
        order_id=order.pk,
        item_id=item.item_id,
        task_type=task.task_type,
        attempt=attempt,
        undo=task.undo,
        product_id=str(item.product_ref or ""),
        postcode=order.service_postcode,
        address=order.service_address,
        exchange=order.service_area.exchange,
        technology=order.service_area.technology,
        offering_code=offering.code,
        plan_code=order.plan.code,
        download_mbps=order.plan.download_mbps,
        upload_mbps=order.plan.upload_mbps,
        # The offering's values, then the item's own (a router's serial number).
        characteristics={
            **(offering.characteristic_values or {}),
            **(item.characteristic_values or {}),
        },
        identifiers=identifiers,
    )


def task_run(
    task_id: int,
    *,
    trigger: str = TaskAttempt.Trigger.INITIAL,
    requested_by: int | None = None,
    worker: str = "",
) -> FulfilmentTask:
    """Carry out one ready automatic task and record the outcome. A task that is no longer
    ready (done, cancelled, or its order held or cancelled meanwhile) is left alone; one left
    running by a worker that died fails as WORKER_LOST (see ``_attempt_lost``)."""
    with transaction.atomic():
        task = (
            FulfilmentTask.objects.select_for_update(of=("self",), no_key=True)
            .select_related("order__service_area", "order__plan", "item__offering")
            .get(pk=task_id)
        )
        lost = task.state == TaskState.RUNNING and _attempt_lost(task)
        if lost:
            attempt = task.attempt_log.order_by("-number").first()
            assert attempt is not None
        elif task.state != TaskState.READY or task.mode != TaskMode.AUTOMATIC:
            return task
        else:
            now = timezone.now()
            task.state, task.started_at, task.state_changed_at = TaskState.RUNNING, now, now
            task.attempts += 1
            task.save(update_fields=["state", "started_at", "state_changed_at", "attempts"])
            attempt = TaskAttempt.objects.create(
                task=task,
                order_id=task.order_id,
                number=task.attempts,
                trigger=trigger,
                requested_by_id=requested_by,
                worker=worker[:200],
                started_at=now,
            )
    log_context_bind(order_id=task.order_id, step=task.key, attempt=attempt.number)
    if lost:
        outcome = TaskResult.failure(
            ReasonCode.WORKER_LOST,
            "The attempt did not finish; its worker stopped.",
            transient=True,
        )
    else:
        outcome = _execute(task, attempt.number)
    return _task_finish(task.pk, attempt.pk, outcome)


def tasks_lost_by_restart(worker: str, *, booted_at: datetime.datetime) -> int:
    """A worker restarted under ``worker``'s name: the attempts its previous run had started
    and not finished are lost now (a transient WORKER_LOST, retried as usual), without waiting
    for the lease. Node names are unique among running workers. Returns how many."""
    lost = list(
        TaskAttempt.objects.filter(
            worker=worker[:200],
            outcome=TaskAttempt.Outcome.RUNNING,
            started_at__lt=booted_at,
            task__state=TaskState.RUNNING,
        ).values_list("task_id", "pk")
    )
    for task_id, attempt_id in lost:
        _task_finish(
            task_id,
            attempt_id,
            TaskResult.failure(
                ReasonCode.WORKER_LOST,
                f"The attempt did not finish: its worker {worker} was restarted.",
                transient=True,
            ),
        )
    if lost:
        logger.warning("%d task attempt(s) left running by %s's last run: lost", len(lost), worker)
    return len(lost)


def _execute(task: FulfilmentTask, attempt: int) -> TaskResult:
    try:
        return get_adapter().execute(_request_for(task, attempt))
    except Exception as exc:  # a defect in the adapter must still end somewhere
        logger.exception("network adapter raised on order %s task %s", task.order_id, task.key)
        return TaskResult.failure(
            ReasonCode.ADAPTER_ERROR, f"{type(exc).__name__}: {exc}", transient=False
        )


def _attempt_lost(task: FulfilmentTask) -> bool:
    """The task's message came again while it is marked running. Within the lease a worker may
    still be on it: come back when the lease is over (raises ``RetryLater``). After it, its
    worker died (Celery's time limit would have stopped it by then): True."""
    assert task.started_at is not None
    over = task.started_at + datetime.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    now = timezone.now()
    if now < over:
        raise RetryLater((over - now).total_seconds(), f"task {task.key} is running")
    return True


def _task_finish(task_id: int, attempt_id: int, outcome: TaskResult) -> FulfilmentTask:
    """Record the outcome of an attempt. The network has acted on it and it cannot be had
    again: a transaction the database rolls back over a conflict with another worker's is run
    again rather than leave the task marked running until its lease is over."""
    return atomic_retrying_conflicts(lambda: _task_record(task_id, attempt_id, outcome))


def _task_record(task_id: int, attempt_id: int, outcome: TaskResult) -> FulfilmentTask:
    from provisioning import services  # the exception queue; it imports this module

    order = order_services.order_lock(
        FulfilmentTask.objects.values_list("order_id", flat=True).get(pk=task_id)
    )
    tasks = _tasks(order, lock=True)
    task = next(t for t in tasks if t.pk == task_id)
    attempt = TaskAttempt.objects.select_for_update().get(pk=attempt_id)
    outbox_work_done()  # the outcome and the message's completion commit together
    if task.state != TaskState.RUNNING or attempt.outcome != TaskAttempt.Outcome.RUNNING:
        return task  # someone decided meanwhile (cancelled, recorded lost); it stands
    now = timezone.now()
    attempt.finished_at = now
    attempt.network_reference = outcome.network_reference[:120]
    attempt.error_code, attempt.error_message = outcome.error_code, outcome.error_message
    attempt.transient = outcome.transient
    task.finished_at = task.state_changed_at = now
    items = _items(order)
    if outcome.ok:
        attempt.outcome = TaskAttempt.Outcome.SUCCEEDED
        attempt.save()
        task.state = TaskState.DONE
        task.network_reference = outcome.network_reference[:120]
        task.result = dict(outcome.identifiers)
        task.error_code, task.error_message = "", ""
        task.save()
        order_events.task_done(
            order=order,
            task_key=task.key,
            task_label=task.label,
            attempt=attempt.number,
            reference=task.network_reference,
        )
        _advance(order, tasks, items)
        services.exception_case_follow_task_done(order, tasks, actor=attempt.requested_by)
        return task
    attempt.outcome = TaskAttempt.Outcome.FAILED
    attempt.save()
    task.error_code, task.error_message = outcome.error_code, outcome.error_message
    if order.status == OrderStatus.CANCELLING and task.undoes_id is None:
        # It was running when the order was cancelled and did not go through: there is
        # nothing of it to undo, and it is not tried again.
        task.state = TaskState.FAILED
        task.save()
        for undo in tasks:
            if undo.undoes_id == task.pk:
                undo.state, undo.finished_at, undo.state_changed_at = (
                    TaskState.CANCELLED,
                    now,
                    now,
                )
                undo.save(update_fields=["state", "finished_at", "state_changed_at"])
        _advance(order, tasks, items)
        return task
    in_series = _auto_attempts_in_series(task)
    will_retry = (
        outcome.transient
        and in_series < settings.PROVISIONING_MAX_AUTO_ATTEMPTS
        and order.status in (OrderStatus.PROVISIONING, OrderStatus.CANCELLING)
    )
    order_events.task_failed(
        order=order,
        task_key=task.key,
        task_label=task.label,
        attempt=attempt.number,
        error_code=outcome.error_code,
        error_message=outcome.error_message,
        will_retry=will_retry,
    )
    if will_retry:
        task.state = TaskState.READY
        task.save()
        backoff = settings.PROVISIONING_RETRY_BACKOFF_SECONDS * 2 ** (in_series - 1)
        _send(order, [task], trigger=TaskAttempt.Trigger.AUTO_RETRY, countdown=backoff)
        return task
    task.state = TaskState.FAILED
    task.save()
    if order.status != OrderStatus.CANCELLING:
        _items_follow(order, tasks, items)
    services.exception_case_for_task(order, task)
    return task


def _auto_attempts_in_series(task: FulfilmentTask) -> int:
    """The task's attempts since the last one a person (or the plan itself) started."""
    count = 0
    for trigger in task.attempt_log.order_by("-number").values_list("trigger", flat=True):
        count += 1
        if trigger != TaskAttempt.Trigger.AUTO_RETRY:
            break
    return count


# --- what people do -----------------------------------------------------------------------------
def plan_resume(
    order: Order, *, requested_by: User | None, manual: bool | None = None
) -> list[FulfilmentTask]:
    """Carry on with the order's plan after a person's decision: its failed tasks are ready
    again and go to the network (a retry from the exception queue, an override); done tasks
    stay done. ``manual`` switches the open tasks to people (True) or to the network (False).
    Call with the order locked. Returns the tasks sent or handed to people again."""
    tasks = _tasks(order, lock=True)
    now = timezone.now()
    resumed: list[FulfilmentTask] = []
    for task in tasks:
        if task.state not in (TaskState.WAITING, TaskState.READY, TaskState.FAILED):
            continue
        if order.status == OrderStatus.CANCELLING and task.undoes_id is None:
            continue  # a cancelled order's plan goes on with its undos only
        mode = task.mode if manual is None else (TaskMode.MANUAL if manual else TaskMode.AUTOMATIC)
        if task.state != TaskState.FAILED and mode == task.mode:
            continue
        if task.state == TaskState.FAILED:
            task.state, task.ready_at, task.error_code, task.error_message = (
                TaskState.READY,
                now,
                "",
                "",
            )
        task.mode, task.state_changed_at = mode, now
        resumed.append(task)
    FulfilmentTask.objects.bulk_update(
        resumed, ["state", "ready_at", "error_code", "error_message", "mode", "state_changed_at"]
    )
    _send(
        order,
        [t for t in resumed if t.state == TaskState.READY and t.mode == TaskMode.AUTOMATIC],
        trigger=TaskAttempt.Trigger.MANUAL_RETRY,
        requested_by=requested_by,
    )
    _advance(order, tasks, _items(order), actor=requested_by)
    return resumed


def task_complete_by_hand(
    task: FulfilmentTask | int,
    *,
    actor: User,
    note: str,
    network_reference: str = "",
    source: EventSource = EventSource.STAFF_PORTAL,
) -> FulfilmentTask:
    """A person did a ready task (a manual task from the pool) and records it: the plan goes
    on from there. The note is mandatory."""
    note = (note or "").strip()
    if not note:
        raise TaskError("Say what you did.", field_errors={"note": "A note is required."})
    pk = task.pk if isinstance(task, FulfilmentTask) else task
    with transaction.atomic():
        order = order_services.order_lock(
            FulfilmentTask.objects.values_list("order_id", flat=True).get(pk=pk)
        )
        tasks = _tasks(order, lock=True)
        locked = next(t for t in tasks if t.pk == pk)
        if locked.state != TaskState.READY:
            raise TaskError(
                f"Task {locked.get_task_type_display().lower()} of order {order.display_id} is "
                f"{locked.get_state_display().lower()} now; someone acted on it first."
            )
        now = timezone.now()
        locked.state, locked.finished_at, locked.state_changed_at = TaskState.DONE, now, now
        locked.started_at = locked.started_at or now
        locked.done_by, locked.note = actor, note
        locked.network_reference = network_reference.strip()[:120]
        locked.result = _manual_identifiers(locked)
        locked.save()
        order_events.task_done_by_hand(
            order=order,
            task_key=locked.key,
            task_label=locked.label,
            actor=actor,
            source=source,
            note=note,
        )
        _advance(order, tasks, _items(order), actor=actor)
        return locked


def _manual_identifiers(task: FulfilmentTask) -> dict[str, str]:
    field = {
        TaskType.RESERVE_PORT: "port",
        TaskType.CREATE_SUBSCRIBER: "subscriber",
        TaskType.ALLOCATE_ADDRESS: "ipv4Address",
        TaskType.REGISTER_CPE: "cpeSerial",
    }.get(TaskType(task.task_type))
    return {field: task.network_reference} if field and task.network_reference else {}


def item_cancel(
    order: Order, item: OrderItem, *, actor: User | None, reason: str
) -> list[FulfilmentTask]:
    """Cancel one add-on item that cannot be delivered: its open tasks are cancelled, which
    releases whatever waited on them, and the order goes on without it (and completes as
    partial). Call with the order locked."""
    if item.parent_id is None:
        raise TaskError(
            f"Item {item.item_id} is the order's line: cancel the order instead.",
            field_errors={"item": "The line cannot be cancelled on its own."},
        )
    if item.state in ITEM_CLOSED_STATES:
        raise TaskError(f"Item {item.item_id} is {item.get_state_display().lower()} already.")
    others = order.items.exclude(pk=item.pk).filter(action=ItemAction.ADD)
    if not others.exclude(
        state__in=[ItemState.CANCELLED, ItemState.REJECTED, ItemState.REMOVED]
    ).exists():
        raise TaskError(
            f"Item {item.item_id} is all the order delivers: cancel the order instead.",
            field_errors={"item": "The order would deliver nothing."},
        )
    tasks = _tasks(order, lock=True)
    mine = [t for t in tasks if t.item_id == item.pk and t.state in OPEN_TASK_STATES]
    if any(t.state == TaskState.RUNNING for t in mine):
        raise TaskError(f"A task of item {item.item_id} is running; wait for it to finish.")
    now = timezone.now()
    FulfilmentTask.objects.filter(pk__in=[t.pk for t in mine]).update(
        state=TaskState.CANCELLED, finished_at=now, state_changed_at=now
    )
    for t in mine:
        t.state = TaskState.CANCELLED
    items = _items(order)
    target = next(i for i in items if i.pk == item.pk)
    previous = target.state
    target.state, target.state_changed_at = ItemState.CANCELLED, now
    target.save(update_fields=["state", "state_changed_at"])
    order_events.item_states_changed(order=order, changes=[(target, previous)], actor=actor)
    logger.info("order %s item %s cancelled: %s", order.pk, item.item_id, reason)
    _advance(order, tasks, items, actor=actor)
    return mine


def plan_close(order: Order, *, actor: User | None, outcome: str, note: str) -> None:
    """The order left the plan's road: confirmed live by a person (``outcome`` completed: every
    open task is recorded as done by that person), cancelled (every open task and item is
    cancelled) or rejected (its items are). Call in the transaction of that change."""
    done_by_hand = outcome == ItemState.COMPLETED
    tasks = [t for t in _tasks(order, lock=True) if t.state in OPEN_TASK_STATES]
    now = timezone.now()
    if done_by_hand:
        FulfilmentTask.objects.filter(pk__in=[t.pk for t in tasks]).update(
            state=TaskState.DONE,
            finished_at=now,
            state_changed_at=now,
            done_by=actor if actor and actor.is_authenticated else None,
            note=note[:2000],
        )
    else:
        FulfilmentTask.objects.filter(pk__in=[t.pk for t in tasks]).update(
            state=TaskState.CANCELLED, finished_at=now, state_changed_at=now
        )
    items = [i for i in _items(order) if i.state not in ITEM_CLOSED_STATES]
    target = outcome
    changes = []
    for item in items:
        changes.append((item, item.state))
        item.state, item.state_changed_at = target, now
        if done_by_hand:
            item.completed_at = now
    if changes:
        OrderItem.objects.bulk_update(items, ["state", "state_changed_at", "completed_at"])
        order_events.item_states_changed(order=order, changes=changes, actor=actor)
