"""An order's milestones as TMF622 v5 ``productOrderMilestone`` (ProductOrderMilestone) and its
open jeopardies as ``productOrderJeopardyAlert`` (ProductOrderJeopardyAlert), also carried on
the v4 API as documented extensions (tmf.productorder.serializers).

- One per milestone the order is watched against (orders.models.milestones): its status
  (Yet-To-Reach, Completed, Violated), ``milestoneDate`` the date it was met or, while still to
  reach, the date it is due; the item's reference for an "item active" milestone.
- ``pointOfNoReturn``: where the order's plan has one (activating the line), Completed from the
  moment that task started (the date it started; from then on the order can no longer be
  cancelled or amended), else Yet-To-Reach with no date.

A jeopardy alert: ``jeopardyType`` its level (At risk, Late, Critical), ``exception`` the
milestone it is about, ``alertDate`` when it reached its level, ``message`` the share of time
used and the new expected date once late. Cleared jeopardies are history on the order's pages,
not alerts.

A list reads them with the orders' page (``milestones_prefetch``): no query per order.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from orders.fulfilment import TaskType, plan_steps
from orders.models import Order, OrderItem
from orders.models.jeopardy import Jeopardy
from orders.models.milestones import MilestoneStatus, OrderMilestone
from orders.states import OrderStatus
from provisioning.models import FulfilmentTask, TaskState
from tmf.common import drop_empty, iso

PONR_ID = "pointOfNoReturn"
_PONR_STARTED = (TaskState.RUNNING, TaskState.DONE, TaskState.FAILED)
# An order in these states has no plan yet but will have one.
_PLANNED_LATER = (OrderStatus.SUBMITTED, OrderStatus.SCHEDULED)


def _milestones() -> QuerySet[OrderMilestone]:
    return OrderMilestone.objects.select_related("item__offering").order_by("due_at", "id")


def _ponr_tasks() -> QuerySet[FulfilmentTask]:
    return (
        FulfilmentTask.objects.filter(is_ponr=True, undoes__isnull=True)
        .select_related("item")
        .order_by("id")
    )


def _open_jeopardies() -> QuerySet[Jeopardy]:
    return (
        Jeopardy.objects.filter(cleared_at__isnull=True)
        .select_related("milestone__item__offering")
        .order_by("-rank", "-level_at", "-id")
    )


def milestones_prefetch() -> list[Prefetch]:
    return [
        Prefetch("milestones", queryset=_milestones(), to_attr="tmf_milestones"),
        Prefetch("tasks", queryset=_ponr_tasks(), to_attr="tmf_ponr_tasks"),
        Prefetch("jeopardies", queryset=_open_jeopardies(), to_attr="tmf_jeopardies"),
    ]


def with_milestones(queryset: QuerySet[Order]) -> QuerySet[Order]:
    return queryset.prefetch_related(*milestones_prefetch())


def _item_ref(order: Order, item_id: str) -> dict[str, Any]:
    return {
        "productOrderId": order.pk,
        "productOrderItemId": item_id,
        "@referredType": "ProductOrderItem",
        "@type": "ProductOrderItemRef",
    }


def milestone_representation(
    order: Order, milestone: OrderMilestone, now: datetime.datetime
) -> dict[str, Any]:
    status = milestone.status(now)
    if status == MilestoneStatus.COMPLETED:
        late = " (late)" if milestone.met_late else ""
        message = f"Met {iso(milestone.met_at)}{late}; due {iso(milestone.due_at)}."
    elif status == MilestoneStatus.VIOLATED:
        message = f"Not met; was due {iso(milestone.due_at)}."
    else:
        message = f"Due {iso(milestone.due_at)}."
    item = milestone.item
    return drop_empty(
        {
            "id": str(milestone.pk),
            "name": milestone.name,
            "description": milestone.target,
            "status": status.value,
            "milestoneDate": iso(milestone.met_at or milestone.due_at),
            "message": message,
            "productOrderItem": [_item_ref(order, item.item_id)] if item is not None else None,
            "@type": "ProductOrderMilestone",
        }
    )


def _planned_ponr(items: list[OrderItem]) -> tuple[str, str] | None:
    """Before the order is planned: the item and task its plan will make the point of no
    return, from the items' plans (the first step marked ``ponr``)."""
    for item in items:
        step = next((step for step in plan_steps(item.plan) if step.ponr), None)
        if step is not None:
            return item.item_id, TaskType(step.task).label
    return None


def ponr_representation(
    order: Order, tasks: list[FulfilmentTask], items: list[OrderItem]
) -> dict[str, Any] | None:
    """The point of no return of the order's plan (or of the plan it will have), or None when
    there is none (or the order closed before it was planned)."""
    started = next((t for t in tasks if t.started_at is not None or t.state in _PONR_STARTED), None)
    if tasks:
        task = started or tasks[0]
        item_id, label = task.item.item_id, task.label
    else:
        planned = _planned_ponr(items) if order.status in _PLANNED_LATER else None
        if planned is None:
            return None
        item_id, label = planned
    ponr = {
        "id": PONR_ID,
        "name": "Point of no return",
        "description": label,
        "productOrderItem": [_item_ref(order, item_id)],
        "@type": "ProductOrderMilestone",
    }
    if started is not None:
        when = started.started_at or started.finished_at
        return {
            **ponr,
            "status": MilestoneStatus.COMPLETED.value,
            "milestoneDate": iso(when),
            "message": f"{label} started {iso(when)}: the order can no longer be cancelled "
            "or amended.",
        }
    return {
        **ponr,
        "status": MilestoneStatus.YET_TO_REACH.value,
        "message": f"Until {label} starts, the order can be cancelled or amended.",
    }


def order_milestones(
    order: Order, items: list[OrderItem], now: datetime.datetime | None = None
) -> list[dict[str, Any]]:
    """The order's ``productOrderMilestone`` list (empty for an order with none); ``items``:
    its items, with their offerings' specifications."""
    now = now or timezone.now()
    milestones = getattr(order, "tmf_milestones", None)
    if milestones is None:
        milestones = list(_milestones().filter(order=order))
    tasks = getattr(order, "tmf_ponr_tasks", None)
    if tasks is None:
        tasks = list(_ponr_tasks().filter(order=order))
    listed = [milestone_representation(order, m, now) for m in milestones]
    ponr = ponr_representation(order, tasks, items)
    return listed + ([ponr] if ponr else [])


def jeopardy_representation(order: Order, jeopardy: Jeopardy) -> dict[str, Any]:
    milestone = jeopardy.milestone
    message = f"{jeopardy.share} % of the time allowed for it used; due {iso(milestone.due_at)}."
    if jeopardy.expected_at is not None:
        message += f" Now expected by {iso(jeopardy.expected_at)}."
    item = milestone.item
    return drop_empty(
        {
            "id": str(jeopardy.pk),
            "name": f"{jeopardy.get_level_display()}: {milestone.name}",
            "jeopardyType": jeopardy.get_level_display(),
            "exception": milestone.name,
            "alertDate": iso(jeopardy.level_at),
            "message": message,
            "productOrderItem": [_item_ref(order, item.item_id)] if item is not None else None,
            "@type": "ProductOrderJeopardyAlert",
        }
    )


def order_jeopardy_alerts(order: Order) -> list[dict[str, Any]]:
    """The order's open jeopardies, worst first, as ``productOrderJeopardyAlert``."""
    jeopardies = getattr(order, "tmf_jeopardies", None)
    if jeopardies is None:
        jeopardies = list(_open_jeopardies().filter(order=order))
    return [jeopardy_representation(order, j) for j in jeopardies]
