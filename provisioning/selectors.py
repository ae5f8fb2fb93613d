"""Reads about provisioning: the end-to-end order pages, the provisioning worklist and the
provisioning lead's exception queue (the portal's and the admin's)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from orders.access import restrict_by_order, restrict_orders
from orders.models import Order, OrderItem
from orders.selectors import WORKLIST_PAGE, Worklist, with_latest_status_event, worklist
from orders.states import OrderStatus
from provisioning.models import ExceptionCase, FulfilmentTask, TaskAttempt, TaskState

ACTIVE_CASE_STATES = (ExceptionCase.State.OPEN, ExceptionCase.State.RETRYING)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
# How long ago a case opened, as the queues filter and count it (the admin's age filter and
# the lead's worklist). value: (label, at least, less than). "> 3 days" lies inside "> 1 day".
CASE_AGE_BUCKETS: dict[str, tuple[str, datetime.timedelta | None, datetime.timedelta | None]] = {
    "lt1h": ("< 1 h", None, HOUR),
    "1-4h": ("1-4 h", HOUR, 4 * HOUR),
    "4-24h": ("4-24 h", 4 * HOUR, DAY),
    "gt1d": ("> 1 day", DAY, None),
    "gt3d": ("> 3 days", 3 * DAY, None),
}


@dataclass(frozen=True)
class PlanItem:
    """One item of an order with its tasks, for the pages that show the plan."""

    item: OrderItem
    tasks: list[FulfilmentTask]


def order_plan(order: Order) -> list[PlanItem]:
    """The order's items, each with its tasks (their attempts prefetched) in plan order, and
    every task's ``waiting_on``: the tasks it still waits for. Three queries however big."""
    items = list(
        OrderItem.objects.filter(order=order)
        .select_related("offering__specification", "parent")
        .order_by("position", "pk")
    )
    tasks = list(
        FulfilmentTask.objects.filter(order=order)
        .select_related("done_by")
        .prefetch_related(
            Prefetch(
                "attempt_log",
                queryset=TaskAttempt.objects.select_related("requested_by").order_by("number"),
            )
        )
        .order_by("pk")
    )
    by_key = {task.key: task for task in tasks}
    released = {TaskState.DONE, TaskState.CANCELLED}
    for task in tasks:
        task.waiting_on = [  # type: ignore[attr-defined]
            by_key[key]
            for key in task.depends_on
            if key in by_key and by_key[key].state not in released
        ]
    return [PlanItem(item=item, tasks=[t for t in tasks if t.item_id == item.pk]) for item in items]


def order_exception_cases(order: Order) -> list[ExceptionCase]:
    """All cases for the order, the active one first."""
    cases = ExceptionCase.objects.filter(order=order).select_related("owner", "resolved_by")
    return sorted(cases, key=lambda c: (not c.is_active, -c.opened_at.timestamp()))


# --- the provisioning worklist ----------------------------------------------------------------
def manual_pool_tasks(
    user: User | AnonymousUser, *, limit: int = WORKLIST_PAGE, after: str | None = None
) -> Worklist[FulfilmentTask]:
    """Manual tasks ready for a person, on orders ``user`` may see, longest waiting first (the
    manual pool is a pool of tasks: a person does one, records it, and the plan goes on)."""
    queryset = restrict_by_order(
        FulfilmentTask.objects.filter(mode="manual", state=TaskState.READY), user
    )
    return worklist(
        queryset.select_related(
            "order", "order__customer", "order__service_area", "item__offering"
        ).order_by("ready_at", "pk"),
        limit=limit,
        after=after,
    )


def manual_pool_orders(
    user: User | AnonymousUser, *, limit: int = WORKLIST_PAGE, after: str | None = None
) -> Worklist[Order]:
    """Orders waiting in the manual provisioning pool that ``user`` may see, longest waiting
    first. ``status_since`` is when each entered the pool, ``status_reason_code`` and
    ``status_reason`` say why it was not automated."""
    queryset = with_latest_status_event(
        restrict_orders(Order.objects.filter(status=OrderStatus.AWAITING_MANUAL), user)
    )
    return worklist(
        queryset.select_related("customer", "plan", "service_area").order_by(
            "status_changed_at", "pk"
        ),
        limit=limit,
        after=after,
    )


def activations_in_progress(
    user: User | AnonymousUser, *, limit: int = WORKLIST_PAGE, after: str | None = None
) -> Worklist[Order]:
    """Orders being activated, longest running first. Each carries ``status_since`` (activation
    started) and its newest task attempt: ``attempt_task`` (the task's key), ``attempt_number``,
    ``attempt_status`` (its outcome), ``attempt_trigger`` and ``attempt_created_at``."""
    newest = TaskAttempt.objects.filter(order=OuterRef("pk")).order_by("-started_at", "-pk")
    queryset = with_latest_status_event(
        restrict_orders(Order.objects.filter(status=OrderStatus.PROVISIONING), user)
    ).annotate(
        attempt_task=Subquery(newest.values("task__key")[:1]),
        attempt_number=Subquery(newest.values("number")[:1]),
        attempt_status=Subquery(newest.values("outcome")[:1]),
        attempt_trigger=Subquery(newest.values("trigger")[:1]),
        attempt_created_at=Subquery(newest.values("started_at")[:1]),
    )
    return worklist(
        queryset.select_related("customer", "plan", "service_area").order_by(
            "status_changed_at", "pk"
        ),
        limit=limit,
        after=after,
    )


RETRY_TRIGGERS = (TaskAttempt.Trigger.AUTO_RETRY, TaskAttempt.Trigger.MANUAL_RETRY)


def retry_log(user: User | AnonymousUser, *, limit: int = WORKLIST_PAGE) -> list[TaskAttempt]:
    """The newest ``limit`` task retries (automatic or asked for by a person), newest first, on
    orders ``user`` may see."""
    return list(
        restrict_by_order(TaskAttempt.objects.filter(trigger__in=RETRY_TRIGGERS), user)
        .select_related("task", "order", "order__customer", "requested_by")
        .order_by("-started_at", "-pk")[:limit]
    )


# --- the exception queue --------------------------------------------------------------------
def case_age_q(bucket: str, *, now: datetime.datetime) -> Q:
    """Cases whose age falls in ``bucket`` (a key of CASE_AGE_BUCKETS) at ``now``."""
    _, at_least, less_than = CASE_AGE_BUCKETS[bucket]
    condition = Q()
    if at_least is not None:
        condition &= Q(opened_at__lte=now - at_least)
    if less_than is not None:
        condition &= Q(opened_at__gt=now - less_than)
    return condition


def _active_cases(user: User | AnonymousUser) -> QuerySet[ExceptionCase]:
    return restrict_by_order(ExceptionCase.objects.filter(state__in=ACTIVE_CASE_STATES), user)


def exception_cases_active(
    user: User | AnonymousUser,
    *,
    owner: str = "",
    age: str = "",
    now: datetime.datetime | None = None,
    limit: int = 2 * WORKLIST_PAGE,
    after: str | None = None,
) -> Worklist[ExceptionCase]:
    """Open and retrying cases on orders ``user`` may see, oldest first.

    ``owner``: "" (anyone), "mine", "none" (unassigned) or a user's pk; ``age``: "" or a key of
    CASE_AGE_BUCKETS. Unknown values filter nothing out.
    """
    queryset = _active_cases(user)
    if owner == "mine":
        queryset = queryset.filter(owner_id=user.pk)
    elif owner == "none":
        queryset = queryset.filter(owner__isnull=True)
    elif owner.isdigit():
        queryset = queryset.filter(owner_id=int(owner))
    if age in CASE_AGE_BUCKETS:
        queryset = queryset.filter(case_age_q(age, now=now or timezone.now()))
    return worklist(
        queryset.select_related("order", "order__customer", "owner", "task").order_by(
            "opened_at", "pk"
        ),
        limit=limit,
        after=after,
    )


@dataclass(frozen=True)
class OwnerLoad:
    """One owner's active cases: all of them, and how many fall in each age bucket as
    (bucket key, label, count), in the order of CASE_AGE_BUCKETS."""

    owner: User | None
    total: int
    by_age: list[tuple[str, str, int]]

    @property
    def owner_key(self) -> str:
        """The ``owner`` filter value that lists exactly these cases."""
        return str(self.owner.pk) if self.owner is not None else "none"


def exception_case_load_by_owner(
    user: User | AnonymousUser, *, now: datetime.datetime | None = None
) -> list[OwnerLoad]:
    """Active cases per owner (unassigned as owner None), busiest first. Two queries."""
    now = now or timezone.now()
    # Any: the stubs cannot type annotations whose names are built in a loop.
    by_owner: Any = (
        _active_cases(user)
        .order_by()
        .values("owner_id")
        .annotate(
            total=Count("pk"),
            **{
                f"age_{i}": Count("pk", filter=case_age_q(key, now=now))
                for i, key in enumerate(CASE_AGE_BUCKETS)
            },
        )
    )
    rows: list[dict[str, Any]] = list(by_owner)
    owners = get_user_model().objects.in_bulk([r["owner_id"] for r in rows if r["owner_id"]])
    loads = [
        OwnerLoad(
            owner=owners.get(row["owner_id"]) if row["owner_id"] else None,
            total=row["total"],
            by_age=[
                (key, label, row[f"age_{i}"])
                for i, (key, (label, _, _)) in enumerate(CASE_AGE_BUCKETS.items())
            ],
        )
        for row in rows
    ]
    return sorted(
        loads,
        key=lambda load: (
            -load.total,
            load.owner is None,
            load.owner.get_username() if load.owner is not None else "",
        ),
    )


def exception_cases_by_id(
    user: User | AnonymousUser, ids: Iterable[int]
) -> dict[int, ExceptionCase]:
    """The cases with these ids, in any state, on orders ``user`` may see. Ids of cases that
    do not exist or are not visible are simply absent."""
    return {
        case.pk: case
        for case in restrict_by_order(
            ExceptionCase.objects.filter(pk__in=list(ids)), user
        ).select_related("order", "order__customer", "owner")
    }
