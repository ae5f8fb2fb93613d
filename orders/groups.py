"""Orders grouped for one customer request (OrderGroup), whose actions are carried out together:
a move home is a new line at the new address and the cease of the old line, held until the new
line is live (orders.moves takes them and follows them).

What orders.services asks before it cancels an order of a group: the group is cancelled whole
or not at all. Cancelling a move is refused once its new line has passed its point of no return
(or is live): the old line is then ceased when the new one goes live, as the customer asked.
"""

from __future__ import annotations

from orders.cancellation import cancellation_refusal, plan_standing
from orders.errors import CancellationRefused
from orders.models import Order
from orders.states import OPEN_STATES


def group_waited_pk(order_pk: str) -> str | None:
    """The order ``order_pk`` waits for (the new line of its move), if any."""
    return Order.objects.filter(pk=order_pk).values_list("waits_for_id", flat=True).first()


def group_partners(order: Order) -> list[Order]:
    """The other orders of ``order``'s group, the one waited for first."""
    if order.group_id is None:
        return []
    return list(
        Order.objects.filter(group_id=order.group_id)
        .exclude(pk=order.pk)
        .order_by("waits_for_id", "submitted_at")
    )


def group_cancellation_refusal(order: Order) -> CancellationRefused | None:
    """Why ``order`` cannot be cancelled with the rest of its group: another open order of the
    group cannot be cancelled (the new line of a move past its point of no return, or live).
    Reads their plans locked, as order_cancel does its own, so the answer holds until commit."""
    for partner in group_partners(order):
        if partner.status not in OPEN_STATES:
            continue  # closed or being cancelled already: nothing of it to keep
        refusal = cancellation_refusal(partner, plan_standing(partner, lock=True))
        if refusal is not None:
            return CancellationRefused(
                f"Order {order.display_id} is part of a move home with order "
                f"{partner.display_id}, which cannot be cancelled: {refusal.message} The move "
                "can no longer be cancelled.",
                reason_code=refusal.reason_code,
            )
    return None
