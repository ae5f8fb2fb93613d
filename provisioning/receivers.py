"""Provisioning reacts to order business events: it queues its own work (after commit) and
keeps its exception cases in line with a person's override."""

from typing import Any

from django.dispatch import receiver

from orders.models import Order, OrderEvent, OrderItem
from orders.outbox import outbox_enqueue
from orders.signals import (
    order_due_for_activation,
    order_items_amended,
    order_overridden,
    order_status_changed,
    worker_restarted,
)
from orders.states import ItemState, OrderStatus
from provisioning.amendments import plan_amend
from provisioning.compensation import plan_compensate
from provisioning.scheduler import plan_close, tasks_lost_by_restart
from provisioning.services import (
    FULFIL_TASK,
    exception_case_follow_cancellation,
    exception_case_follow_override,
)


@receiver(order_due_for_activation, dispatch_uid="provisioning.queue_fulfilment")
def queue_fulfilment(sender: type[Order], order: Order, **kwargs: Any) -> None:
    outbox_enqueue(FULFIL_TASK, order=order)


@receiver(order_items_amended, dispatch_uid="provisioning.follow_amendment")
def follow_amendment(
    sender: type[Order],
    order: Order,
    added: list[OrderItem],
    removed: list[OrderItem],
    plan_changed: bool,
    actor: Any = None,
    **kwargs: Any,
) -> None:
    plan_amend(order, added=added, removed=removed, plan_changed=plan_changed, actor=actor)


@receiver(worker_restarted, dispatch_uid="provisioning.tasks_lost_by_restart")
def follow_worker_restart(sender: Any, worker: str, booted_at: Any, **kwargs: Any) -> None:
    tasks_lost_by_restart(worker, booted_at=booted_at)


@receiver(order_overridden, dispatch_uid="provisioning.follow_override")
def follow_override(sender: type[Order], order: Order, event: OrderEvent, **kwargs: Any) -> None:
    exception_case_follow_override(order, event)


@receiver(order_status_changed, dispatch_uid="provisioning.follow_cancellation")
def follow_cancellation(
    sender: type[Order], order: Order, event: OrderEvent, **kwargs: Any
) -> None:
    if event.to_status == OrderStatus.CANCELLING:
        plan_compensate(order, actor=event.actor)  # undo what the plan did; then cancelled
        return
    if event.to_status == OrderStatus.CANCELLED:
        exception_case_follow_cancellation(order, event)
    # The plan follows a decision taken outside it: cancelled, rejected, or confirmed live by a
    # person (the manual pool's confirmation, an override). Nothing to do when it got there
    # by itself (every task done).
    outcome = PLAN_OUTCOME.get(event.to_status)
    if outcome is not None:
        plan_close(order, actor=event.actor, outcome=outcome, note=event.reason)


PLAN_OUTCOME: dict[str, str] = {
    OrderStatus.ACTIVATED: ItemState.COMPLETED,
    OrderStatus.CANCELLED: ItemState.CANCELLED,
    OrderStatus.REJECTED: ItemState.REJECTED,
}
