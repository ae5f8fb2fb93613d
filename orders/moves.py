"""Move home: one customer request taken as two linked orders of one group (orders.groups), a new
line at the new address and the cease of the old line, carried out together: the old line is
ceased when the new one goes live, never before.

The cease is held ('scheduled', ``Order.waits_for`` the new line's order) whatever its date;
nothing but the new line going live releases it (the scheduled-orders beat and date edits pass
it by). "Live" is the new order's activation (order_activated: the line is on the network and
billing starts from it), so the customer is never without a line and pays for both only from
that day. Cancelling either order cancels the other (order_cancel refuses the pair past the new
line's point of no return); a new line rejected or cancelled any other way takes the cease with
it.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.dispatch import receiver

from orders import events
from orders.add_ons import live_line_or_refuse
from orders.cancellation import cancellation_refusal
from orders.changes import change_items
from orders.eligibility import serviceability_check
from orders.errors import OrderConflict, OrderError
from orders.groups import group_partners
from orders.intake import CustomerDetails, order_intake
from orders.items import ItemsInvalid, items_for
from orders.models import Customer, Order, OrderEvent, OrderGroup, Plan, normalize_postcode
from orders.services import SUBMIT_ATTEMPTS, order_cancel, order_release, order_take
from orders.signals import order_status_changed
from orders.states import CANCELLABLE_STATES, EventSource, ItemAction, OrderStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewAddress:
    address_line1: str
    city: str
    postcode: str
    address_line2: str = ""


@dataclass(frozen=True)
class MoveSubmission:
    group: OrderGroup
    provide: Order  # the new line at the new address
    cease: Order  # the old line's cease, waiting for the new line
    created: bool


def waiting_reason(provide: Order) -> str:
    return f"Waits for the new line {provide.display_id} to go live."


def order_submit_move(
    product_id: uuid.UUID | str,
    address: NewAddress,
    *,
    plan: Plan | None = None,
    add_ons: Sequence[Plan] | None = None,
    requested_date: datetime.date | None = None,
    channel: EventSource,
    submitted_by: User | None,
    idempotency_key: str | None = None,
) -> MoveSubmission:
    """Take a move of the live line ``product_id`` to ``address``: in one transaction, the order
    for a new line there (``plan``, by default the line's; ``add_ons``, by default those of the
    line that suit the new address) and the order ceasing the old line with its add-ons, held
    until the new line is live. Both are checked before either is written (NotServiceable names
    the postcode or the plan, ItemsInvalid the item, DuplicateOrder the line's open order):
    nothing is written on a refusal. The same ``idempotency_key`` returns the same move."""
    if idempotency_key:
        prior = _move_for_key(idempotency_key)
        if prior is not None:
            return prior
    line = live_line_or_refuse(product_id)
    if not line.is_active:
        raise ItemsInvalid({"1": f"{line.name} is {line.status}: only an active line can move."})
    customer = Customer.objects.get(pk=line.customer_id)
    plan = plan or line.offering
    if add_ons is None:
        check = serviceability_check(address.postcode)
        add_ons = [a.offering for a in line.add_ons if check.allows(a.offering)]
    provide_intake = order_intake(
        customer=CustomerDetails(
            name=customer.name,
            email=customer.email,
            phone=customer.phone,
            address_line1=address.address_line1,
            address_line2=address.address_line2,
            city=address.city,
            postcode=address.postcode,
        ),
        items=items_for(plan, add_ons),
        requested_activation_date=requested_date,
    )
    if normalize_postcode(address.postcode) == line.postcode and (
        address.address_line1.strip().lower() == line.address_line1.strip().lower()
    ):
        message = f"{line.name} is at this address already."
        raise OrderError(message, field_errors={"address_line1": message})
    cease_intake = order_intake(
        customer=CustomerDetails(
            name=customer.name,
            email=customer.email,
            phone=customer.phone,
            address_line1=line.address_line1,
            address_line2=line.address_line2,
            city=line.city,
            postcode=line.postcode,
        ),
        items=change_items(line, ItemAction.DELETE),
        requested_activation_date=requested_date,
    )
    for _attempt in range(SUBMIT_ATTEMPTS):
        try:
            with transaction.atomic():
                group = OrderGroup.objects.create(
                    kind=OrderGroup.Kind.MOVE,
                    customer=customer,
                    created_by=submitted_by
                    if submitted_by and submitted_by.is_authenticated
                    else None,
                    reason=f"Move {line.name} from {line.address_line1}, {line.postcode} to "
                    f"{address.address_line1}, {provide_intake.customer.postcode}.",
                    idempotency_key=idempotency_key or None,
                )
                provide = order_take(
                    provide_intake, channel=channel, submitted_by=submitted_by, group=group
                ).order
                cease = order_take(
                    cease_intake,
                    channel=channel,
                    submitted_by=submitted_by,
                    group=group,
                    waits_for=provide,
                    hold=waiting_reason(provide),
                ).order
        except IntegrityError:
            # A concurrent twin (same key, or an order for the same line) committed first; this
            # attempt was rolled back whole. The next one answers from what it committed.
            if idempotency_key:
                prior = _move_for_key(idempotency_key)
                if prior is not None:
                    return prior
            logger.info("move submission lost a race (attempt %s); retrying", _attempt + 1)
            continue
        logger.info("move %s: new line %s, cease %s", group.pk, provide.pk, cease.pk)
        return MoveSubmission(group=group, provide=provide, cease=cease, created=True)
    raise OrderConflict(
        "Another order for this line was being taken at the same moment. Submit again."
    )


def _move_for_key(key: str) -> MoveSubmission | None:
    group = OrderGroup.objects.filter(idempotency_key=key).first()
    if group is None:
        return None
    orders = list(group.orders.all())
    cease = next(o for o in orders if o.waits_for_id is not None)
    provide = next(o for o in orders if o.pk == cease.waits_for_id)
    return MoveSubmission(group=group, provide=provide, cease=cease, created=False)


def move_follow(order: Order, event: OrderEvent) -> None:
    """A move's order changed status (inside its transaction): the new line live releases the
    cease waiting for it; the new line rejected or cancelled cancels the cease, and the cease
    cancelled cancels the new line, if they can still be: order_cancel refuses the pair
    otherwise, so only a privileged override (a forced cancel of one order) finds the other
    past cancelling; that one goes on, with a note on its history saying why."""
    if event.to_status == OrderStatus.ACTIVATED:
        for waiting in Order.objects.filter(waits_for=order, status=OrderStatus.SCHEDULED):
            order_release(
                waiting.pk,
                source=EventSource(event.source),
                reason=f"The new line {order.display_id} is live: the old line is ceased now.",
            )
        return
    if event.to_status not in (
        OrderStatus.REJECTED,
        OrderStatus.CANCELLING,
        OrderStatus.CANCELLED,
    ):
        return
    what = "rejected" if event.to_status == OrderStatus.REJECTED else "cancelled"
    for partner in group_partners(order):
        if partner.status not in CANCELLABLE_STATES:
            continue
        refusal = cancellation_refusal(partner)
        if refusal is not None:  # only a privileged override gets here (a forced cancel)
            events.note(
                order=partner,
                actor=event.actor,
                source=EventSource(event.source),
                text=f"Order {order.display_id} of this move was {what}; this order goes on: "
                f"{refusal.message}",
            )
            continue
        order_cancel(
            partner,
            actor=event.actor,
            source=EventSource(event.source),
            reason=f"The move is off: order {order.display_id} was {what}"
            + (f" ({event.reason})" if event.reason else "")
            + ".",
        )


@receiver(order_status_changed, dispatch_uid="orders.moves.follow")
def _follow_move(sender: type[Order], order: Order, event: OrderEvent, **kwargs: Any) -> None:
    if order.group_id is not None:
        move_follow(order, event)
