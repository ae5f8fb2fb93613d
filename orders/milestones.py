"""An order's milestones (orders.models.milestones), planned at submission and met as the order
moves, each in the transaction of the change that meets it.

- Planned when the order is submitted: accepted, provisioning started, one "item active" per
  item the order delivers, billing started, completed; each due its target's hours after the
  submission, or after the start of the requested day for a future-dated order (acceptance is
  always counted from the submission). Targets come from MilestoneTarget (the admin); a kind
  with no target there falls back to DEFAULT_HOURS, and the milestone says so.
- Met by what the order records: its status events (accepted when it leaves "submitted" for
  anything but a refusal; provisioning started when work on it starts, by machine or by hand;
  completed when it closes delivered), its items' state events (an item completed is active)
  and the billing event. A milestone is met once; meeting it again changes nothing.
- An amendment plans the "item active" milestones of added items and drops those of items
  taken off (they are no longer owed).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from orders.jeopardy import jeopardy_follow
from orders.models import Order, OrderEvent, OrderItem
from orders.models.milestones import (
    Fulfilment,
    MilestoneKind,
    MilestoneTarget,
    OrderKind,
    OrderMilestone,
)
from orders.signals import milestones_met, order_items_amended, order_status_changed
from orders.states import ItemAction, ItemState, OrderStatus

# Used when the admin holds no target for a milestone (the data migration seeds the same ones):
# the case study's one day from submission to a live line in automated areas, three days where
# a technician goes.
DEFAULT_HOURS: dict[tuple[str, str], int] = {
    (MilestoneKind.ACCEPTED, Fulfilment.AUTOMATIC): 1,
    (MilestoneKind.PROVISIONING_STARTED, Fulfilment.AUTOMATIC): 4,
    (MilestoneKind.ITEM_ACTIVE, Fulfilment.AUTOMATIC): 24,
    (MilestoneKind.BILLING_STARTED, Fulfilment.AUTOMATIC): 24,
    (MilestoneKind.COMPLETED, Fulfilment.AUTOMATIC): 24,
    (MilestoneKind.ACCEPTED, Fulfilment.TECHNICIAN): 1,
    (MilestoneKind.PROVISIONING_STARTED, Fulfilment.TECHNICIAN): 24,
    (MilestoneKind.ITEM_ACTIVE, Fulfilment.TECHNICIAN): 72,
    (MilestoneKind.BILLING_STARTED, Fulfilment.TECHNICIAN): 72,
    (MilestoneKind.COMPLETED, Fulfilment.TECHNICIAN): 72,
}

# The status an order enters that meets each milestone (when still to reach).
_MET_BY_STATUS: dict[str, tuple[str, ...]] = {
    OrderStatus.SCHEDULED: (MilestoneKind.ACCEPTED,),
    OrderStatus.AWAITING_MANUAL: (MilestoneKind.ACCEPTED, MilestoneKind.PROVISIONING_STARTED),
    OrderStatus.PROVISIONING: (MilestoneKind.ACCEPTED, MilestoneKind.PROVISIONING_STARTED),
    OrderStatus.EXCEPTION: (MilestoneKind.ACCEPTED, MilestoneKind.PROVISIONING_STARTED),
    OrderStatus.ACTIVATED: (MilestoneKind.ACCEPTED, MilestoneKind.PROVISIONING_STARTED),
    OrderStatus.COMPLETED: (
        MilestoneKind.ACCEPTED,
        MilestoneKind.PROVISIONING_STARTED,
        MilestoneKind.COMPLETED,
    ),
    OrderStatus.PARTIAL: (
        MilestoneKind.ACCEPTED,
        MilestoneKind.PROVISIONING_STARTED,
        MilestoneKind.COMPLETED,
    ),
}


def order_fulfilment(order: Order) -> str:
    area = order.service_area
    if area is not None and not area.auto_provisioning:
        return Fulfilment.TECHNICIAN
    return Fulfilment.AUTOMATIC


def order_kind(order: Order) -> str:
    return OrderKind.CHANGE if order.product_ref else OrderKind.PROVIDE


def _target_hours(
    targets: Sequence[MilestoneTarget], kind: str, fulfilment: str, order_kind_: str
) -> tuple[int, str]:
    """The most specific active target for the milestone: its hours and words for it."""

    def specificity(target: MilestoneTarget) -> int:
        return (target.fulfilment != Fulfilment.ANY) * 2 + (target.order_kind != OrderKind.ANY)

    fitting = [
        t
        for t in targets
        if t.milestone == kind
        and t.fulfilment in (Fulfilment.ANY, fulfilment)
        and t.order_kind in (OrderKind.ANY, order_kind_)
    ]
    if fitting:
        best = max(fitting, key=specificity)
        return best.hours, str(best)
    hours = DEFAULT_HOURS[(kind, fulfilment)]
    return hours, f"{MilestoneKind(kind).label}: {hours} h (default, no target set)"


def start_of_day(day: datetime.date) -> datetime.datetime:
    """The first instant of ``day`` where the ISP is (a requested day, a cancellation "on" a
    date, a KPI day)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def work_anchor(
    submitted_at: datetime.datetime, requested: datetime.date | None
) -> datetime.datetime:
    """When the work on an order is due from: its submission, or the start of a later day the
    customer asked for (waiting for that day is not the ISP's delay). The milestones count from
    it, and so does the KPI dashboard's activation time."""
    if requested is not None and start_of_day(requested) > submitted_at:
        return start_of_day(requested)
    return submitted_at


def milestones_plan(order: Order, items: Iterable[OrderItem] | None = None) -> list[OrderMilestone]:
    """Write the order's milestones (or, with ``items``, only those items' "item active"
    ones), due from the targets that apply to it."""
    targets = list(MilestoneTarget.objects.filter(active=True))
    fulfilment, kind_of_order = order_fulfilment(order), order_kind(order)
    submitted = order.submitted_at
    anchor_of_work = work_anchor(submitted, order.requested_activation_date)

    def milestone(kind: str, item: OrderItem | None = None) -> OrderMilestone:
        hours, words = _target_hours(targets, kind, fulfilment, kind_of_order)
        anchor = submitted if kind == MilestoneKind.ACCEPTED else anchor_of_work
        return OrderMilestone(
            order=order,
            item=item,
            kind=kind,
            anchor_at=anchor,
            due_at=anchor + datetime.timedelta(hours=hours),
            target=words[:200],
        )

    if items is None:
        items = order.items.all()
        planned = [
            milestone(MilestoneKind.ACCEPTED),
            milestone(MilestoneKind.PROVISIONING_STARTED),
            milestone(MilestoneKind.BILLING_STARTED),
            milestone(MilestoneKind.COMPLETED),
        ]
    else:
        planned = []
    planned += [
        milestone(MilestoneKind.ITEM_ACTIVE, item)
        for item in items
        if item.action != ItemAction.NO_CHANGE and item.state != ItemState.COMPLETED
    ]
    return OrderMilestone.objects.bulk_create(planned)


def milestones_meet(
    order: Order | str,
    kinds: Sequence[str],
    *,
    at: datetime.datetime | None = None,
    items: Sequence[int] | None = None,
) -> int:
    """Meet the order's milestones of ``kinds`` still to reach (of the items with these
    primary keys, for "item active"), at ``at`` (now); tell ``milestones_met``. Returns how
    many."""
    pk = order.pk if isinstance(order, Order) else order
    still = OrderMilestone.objects.filter(
        order_id=pk, kind__in=kinds, met_at__isnull=True, dropped_at__isnull=True
    )
    if items is not None:
        still = still.filter(item_id__in=items)
    moment = at or timezone.now()
    met = list(still.select_for_update(no_key=True, of=("self",)).select_related("item__offering"))
    if not met:
        return 0
    OrderMilestone.objects.filter(pk__in=[m.pk for m in met]).update(met_at=moment)
    for milestone in met:
        milestone.met_at = moment
    owner = order if isinstance(order, Order) else Order.objects.get(pk=pk)
    milestones_met.send(sender=OrderMilestone, order=owner, milestones=met)
    return len(met)


def milestones_follow_items(order: Order, changes: Sequence[tuple[OrderItem, str]]) -> None:
    """Items whose state moved (orders.events.item_states_changed): those now completed are
    active."""
    completed = [item.pk for item, _ in changes if item.state == ItemState.COMPLETED]
    if completed and milestones_meet(order, (MilestoneKind.ITEM_ACTIVE,), items=completed):
        jeopardy_follow(order)


def milestones_follow_billing(order: Order, at: datetime.datetime | None = None) -> None:
    if milestones_meet(order, (MilestoneKind.BILLING_STARTED,), at=at):
        jeopardy_follow(order)


@receiver(order_status_changed, dispatch_uid="orders.milestones.follow_status")
def _follow_status(sender: Any, order: Order, event: OrderEvent, **kwargs: Any) -> None:
    if event.from_status == "" and event.to_status == OrderStatus.SUBMITTED:
        milestones_plan(order)
        return
    kinds = _MET_BY_STATUS.get(event.to_status)
    if kinds:
        milestones_meet(order, kinds, at=event.created_at)
    # Every event that moves the order: clear what it met, raise what is now due.
    jeopardy_follow(order)


@receiver(order_items_amended, dispatch_uid="orders.milestones.follow_amendment")
def _follow_amendment(
    sender: Any,
    order: Order,
    added: Sequence[OrderItem] = (),
    removed: Sequence[OrderItem] = (),
    **kwargs: Any,
) -> None:
    if removed:
        OrderMilestone.objects.filter(
            order=order, kind=MilestoneKind.ITEM_ACTIVE, item__in=[item.pk for item in removed]
        ).delete()
    if added:
        milestones_plan(order, items=added)
