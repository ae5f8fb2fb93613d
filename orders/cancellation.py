"""Whether an order can be cancelled, and what cancelling it takes.

Before its plan's point of no return an order can be cancelled in every channel; after it has
started, the refusal says so (reason code PONR, the task and when it started). A pending,
scheduled, manual or failed order can always be cancelled. What the plan has done on the
network must be undone first: the order is then ``cancelling`` until every undo is done.

The plan lives in provisioning, above orders: it registers how to read an order's standing
(``plan_standing_register``, from its app's ready()).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format

from orders.errors import CancellationRefused
from orders.models import Order
from orders.states import CANCELLABLE_STATES, OrderStatus


@dataclass(frozen=True)
class PlanStanding:
    """Where an order's plan stands, as cancelling it needs to know."""

    # The point of no return's task, when it has started (running, done or failed).
    ponr_task: str = ""
    ponr_started_at: datetime.datetime | None = None
    # Something was done (or is being done) on the network that a cancellation must undo.
    has_work_to_undo: bool = False


NOTHING_STARTED = PlanStanding()
# (order, lock) -> its standing; ``lock``: hold the plan's tasks until the transaction ends, so
# that a task starting meanwhile waits for the decision (exactly one of the two wins).
StandingReader = Callable[[Order, bool], PlanStanding]
_standing: StandingReader | None = None


def plan_standing_register(standing: StandingReader) -> None:
    global _standing
    _standing = standing


def plan_standing(order: Order, *, lock: bool = False) -> PlanStanding:
    if _standing is None or order.status in (OrderStatus.SUBMITTED, OrderStatus.SCHEDULED):
        return NOTHING_STARTED  # no plan yet
    return _standing(order, lock)


def cancellation_refusal(
    order: Order, standing: PlanStanding | None = None
) -> CancellationRefused | None:
    """Why ``order`` cannot be cancelled now, or None when it can."""
    if order.status == OrderStatus.CANCELLING:
        return CancellationRefused(
            f"Order {order.display_id} is being cancelled already.",
            reason_code=CancellationRefused.CANCELLING,
        )
    if order.status not in CANCELLABLE_STATES:
        if order.status == OrderStatus.ACTIVATED:
            why = "its service is live: cease the service instead"
        else:
            why = f"it is {order.get_status_display().lower()}"
        return CancellationRefused(
            f"Order {order.display_id} cannot be cancelled: {why}.",
            reason_code=CancellationRefused.CLOSED,
        )
    if order.status != OrderStatus.PROVISIONING:
        return None  # pending, scheduled, manual or failed: always
    standing = standing or plan_standing(order)
    if standing.ponr_started_at is None:
        return None
    when = timezone.localtime(standing.ponr_started_at)
    return CancellationRefused(
        f"{standing.ponr_task} started at {date_format(when, 'H:i')} on "
        f"{date_format(when, 'j F')}: the order can no longer be cancelled "
        "(its point of no return).",
        reason_code=CancellationRefused.PONR,
    )
