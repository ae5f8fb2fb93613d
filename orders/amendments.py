"""Amending an order's items before its point of no return: another plan for the line, add-ons
added or taken off.

The rules are the cancellation's (orders.cancellation): an order can be amended until its
plan's point of no return starts, and a pending, scheduled, manual or failed one always; the
refusal says why. The combination is checked by orders.items as for a new order. The order is
re-priced (the timeline shows the old and the new price) and, when it has a plan already,
re-planned by provisioning in the same transaction (``order_items_amended``): tasks that still
apply keep their results, done tasks of an add-on taken off are undone, an add-on added gets
its tasks in the graph, and a new plan's speed is applied again. Deciding holds the plan's
tasks, so an amendment and a task starting cannot both win: the loser gets a clear conflict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from orders import events
from orders.cancellation import cancellation_refusal, plan_standing
from orders.errors import DuplicateOrder, OrderConflict, OrderError
from orders.items import ItemRequest, items_check
from orders.models import Order, OrderItem, Plan
from orders.services import order_lock
from orders.signals import order_items_amended
from orders.states import EventSource, ItemAction, ItemState

GONE = (ItemState.CANCELLED, ItemState.REJECTED, ItemState.REMOVED)


class AmendmentRefused(OrderConflict):
    """The order cannot be amended now; ``reason_code`` as CancellationRefused's."""

    def __init__(self, message: str, *, reason_code: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code


@dataclass(frozen=True)
class ItemsAmendment:
    order: Order
    added: tuple[OrderItem, ...] = ()
    removed: tuple[OrderItem, ...] = ()
    plan_changed: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.plan_changed)


def order_amend_items(
    order: Order | str,
    *,
    plan: Plan | None = None,
    add_ons: Sequence[Plan] | None = None,
    actor: User | None,
    source: EventSource,
    expected_version: int | None = None,
) -> ItemsAmendment:
    """Give the order's line ``plan`` and make its add-ons exactly ``add_ons`` (None keeps
    each as it is). Raises AmendmentRefused past the point of no return or once closed,
    OrderConflict when the order moved on from ``expected_version``, ItemsInvalid for a
    combination the rules refuse, DuplicateOrder when the new plan is open at the address on
    another order. Nothing is written on a refusal."""
    pk = order if isinstance(order, str) else str(order.pk)
    try:
        with transaction.atomic():
            return _amend(pk, plan, add_ons, actor, source, expected_version)
    except IntegrityError as exc:  # a concurrent order took the new plan at the address
        raise OrderConflict(
            "Another open order for this customer and address has that plan already."
        ) from exc


def _amend(
    pk: str,
    plan: Plan | None,
    add_ons: Sequence[Plan] | None,
    actor: User | None,
    source: EventSource,
    expected_version: int | None,
) -> ItemsAmendment:
    locked = order_lock(pk)
    if expected_version is not None and locked.version != expected_version:
        raise OrderConflict(
            f"Order {locked.display_id} changed while you were looking at it. Reload and try again."
        )
    if locked.product_ref is not None:
        raise AmendmentRefused(
            f"Order {locked.display_id} is about a live line: cancel it and order again.",
            reason_code="LIVE",
        )
    refusal = cancellation_refusal(locked, plan_standing(locked, lock=True))
    if refusal is not None:
        raise AmendmentRefused(
            refusal.message.replace("cancelled", "changed"), reason_code=refusal.reason_code
        )
    items = list(locked.items.select_related("offering__specification").order_by("position"))
    line = next(item for item in items if item.parent_id is None)
    current = [item for item in items if item.parent_id is not None and item.state not in GONE]
    new_plan = plan or line.offering
    wanted = list(add_ons) if add_ons is not None else [item.offering for item in current]
    kept = [item for item in current if item.offering in wanted]
    removed = [item for item in current if item.offering not in wanted]
    adding = [offering for offering in wanted if offering not in [i.offering for i in kept]]
    plan_changed = new_plan != line.offering
    if not (adding or removed or plan_changed):
        return ItemsAmendment(order=locked)

    next_id = max(int(item.item_id) for item in items if item.item_id.isdigit()) + 1
    requests = [
        ItemRequest(line.item_id, new_plan),
        *(ItemRequest(item.item_id, item.offering, relies_on=line.item_id) for item in kept),
        *(
            ItemRequest(str(n), offering, relies_on=line.item_id)
            for n, offering in enumerate(adding, next_id)
        ),
    ]
    items_check(requests, locked.service_area)
    before = (locked.monthly_price, locked.one_time_price)
    old_plan = line.offering
    now = timezone.now()

    if plan_changed:
        line.offering = new_plan
        line.recurring_price = new_plan.monthly_price * line.quantity
        line.one_time_price = new_plan.one_time_price * line.quantity
        line.save(update_fields=["offering", "recurring_price", "one_time_price"])
        locked.plan = new_plan
    for item in removed:
        item.state, item.state_changed_at = ItemState.REMOVED, now
        item.save(update_fields=["state", "state_changed_at"])
    position = max(item.position for item in items) + 1
    added = OrderItem.objects.bulk_create(
        [
            OrderItem(
                order=locked,
                item_id=request.item_id,
                position=position + n,
                offering=request.offering,
                action=ItemAction.ADD,
                parent=line,
                recurring_price=request.offering.monthly_price,
                one_time_price=request.offering.one_time_price,
                currency=request.offering.currency,
                state_changed_at=now,
            )
            for n, request in enumerate(requests[1 + len(kept) :])
        ]
    )
    billed = [line, *kept, *added]
    locked.monthly_price = sum((i.recurring_price for i in billed), Decimal("0.00"))
    locked.one_time_price = sum((i.one_time_price for i in billed), Decimal("0.00"))
    locked.version += 1
    try:
        with transaction.atomic():
            locked.save(
                update_fields=["plan", "monthly_price", "one_time_price", "version", "updated_at"]
            )
    except IntegrityError:
        duplicate = (
            Order.objects.filter(
                customer_id=locked.customer_id,
                plan=new_plan,
                service_postcode=locked.service_postcode,
                service_address_line1=locked.service_address_line1,
                product_ref__isnull=True,
            )
            .exclude(pk=locked.pk)
            .first()
        )
        if duplicate is None:
            raise
        raise DuplicateOrder(duplicate) from None
    changes = _changes(before, locked, old_plan if plan_changed else None, removed, added)
    events.order_amended(order=locked, actor=actor, source=source, changes=changes)
    order_items_amended.send(
        sender=Order,
        order=locked,
        added=added,
        removed=removed,
        plan_changed=plan_changed,
        actor=actor,
    )
    return ItemsAmendment(
        order=locked, added=tuple(added), removed=tuple(removed), plan_changed=plan_changed
    )


def _changes(
    before: tuple[Decimal, Decimal],
    order: Order,
    old_plan: Plan | None,
    removed: Sequence[OrderItem],
    added: Sequence[OrderItem],
) -> dict[str, dict[str, object]]:
    """What the timeline shows: the old and new price, and what changed in the items."""
    changes: dict[str, dict[str, object]] = {
        "monthly_price": {"before": str(before[0]), "after": str(order.monthly_price)},
        "one_time_price": {"before": str(before[1]), "after": str(order.one_time_price)},
    }
    if old_plan is not None:
        changes["plan"] = {"before": old_plan.name, "after": order.plan.name}
    if removed:
        changes["add_ons_removed"] = {"before": [i.offering.name for i in removed], "after": None}
    if added:
        changes["add_ons_added"] = {"before": None, "after": [i.offering.name for i in added]}
    return changes


def amendment_refusal(order: Order) -> OrderError | None:
    """Why the order's items cannot be amended now (for pages), or None."""
    if order.product_ref is not None:
        return AmendmentRefused("This order is about a live line.", reason_code="LIVE")
    refusal = cancellation_refusal(order)
    if refusal is None:
        return None
    return AmendmentRefused(
        refusal.message.replace("cancelled", "changed"), reason_code=refusal.reason_code
    )
