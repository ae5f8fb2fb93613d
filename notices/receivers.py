"""The business events the customer is told about. Each receiver runs in the transaction that
caused the event and only records the notice and its outbox message (orders.signals).

``settings.CUSTOMER_NOTICES_ON_EVENTS`` turns these triggers off (tests of other areas that
count the e-mails they send); ``notice_send`` itself always works."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from notices.customer_words import CustomerWords, customer_words, order_situation
from notices.models import NoticeKind
from notices.services import notice_send
from orders.eligibility import EligibilityReason
from orders.jeopardy import jeopardy_reason_code
from orders.models import Jeopardy, Order, OrderEvent, OrderItem
from orders.signals import order_delayed, order_items_amended, order_status_changed
from orders.states import OrderStatus

# The line is live: one "active" notice whichever of these the order reaches first.
ACTIVE_STATES = frozenset({OrderStatus.ACTIVATED, OrderStatus.COMPLETED, OrderStatus.PARTIAL})
# Reason codes of a status change that waits for the customer (the details for activation are
# missing: the sales rep or the customer completes them).
NEEDS_CUSTOMER_REASONS = frozenset({EligibilityReason.INCOMPLETE_PAYLOAD.value})


def _on() -> bool:
    return bool(getattr(settings, "CUSTOMER_NOTICES_ON_EVENTS", True))


@receiver(order_status_changed, dispatch_uid="notices.status_changed")
def _status_changed(sender: Any, order: Order, event: OrderEvent, **kwargs: Any) -> None:
    if not _on():
        return
    to_status = event.to_status
    if to_status == OrderStatus.SUBMITTED and not event.from_status:
        notice_send(order, NoticeKind.TAKEN, key="taken")
    elif to_status == OrderStatus.SCHEDULED:
        notice_send(order, NoticeKind.SCHEDULED, key=f"event:{event.pk}")
    elif to_status in ACTIVE_STATES:
        notice_send(order, NoticeKind.ACTIVE, key="active")
    elif to_status == OrderStatus.CANCELLED:
        notice_send(order, NoticeKind.CANCELLED, key="cancelled", context=_why(event))
    elif to_status == OrderStatus.REJECTED:
        # Closed for good (the address or the plan cannot be served): told once.
        notice_send(order, NoticeKind.REJECTED, key="rejected", context=_why(event))
    elif event.reason_code in NEEDS_CUSTOMER_REASONS:
        notice_send(
            order,
            NoticeKind.NEEDS_ACTION,
            key=f"event:{event.pk}",
            context={"needed": _details_missing(order), **_why(event)},
        )


def _why(event: OrderEvent) -> dict[str, CustomerWords | None]:
    """The template's ``situation``: the causing event's reason in the customer's words (what
    happened, what happens next). None for no reason code or one without words: the e-mail
    then leaves it out, and never shows the code."""
    return {"situation": customer_words(event.reason_code)}


def _details_missing(order: Order) -> str:
    """What the customer is asked for, in their words (the checks' own list is internal)."""
    asked = [
        ("the first line of your address", order.service_address_line1),
        ("your town or city", order.service_city),
        ("a phone number we can reach you on", order.customer.phone),
    ]
    return ", ".join(words for words, value in asked if not value.strip())


@receiver(order_items_amended, dispatch_uid="notices.items_amended")
def _items_amended(
    sender: Any,
    order: Order,
    added: list[OrderItem],
    removed: list[OrderItem],
    plan_changed: bool,
    **kwargs: Any,
) -> None:
    if not _on():
        return
    changes = []
    if plan_changed:
        changes.append(f"Your plan is now {order.plan.name} ({order.plan.speed_tier}).")
    changes += [f"Added: {item.offering.name}." for item in added]
    changes += [f"Taken off: {item.offering.name}." for item in removed]
    # Each amendment moves the order's version: one notice per amendment.
    notice_send(
        order, NoticeKind.CHANGED, key=f"changed:v{order.version}", context={"changes": changes}
    )


@receiver(post_save, sender=OrderEvent, dispatch_uid="notices.requested_date_changed")
def _requested_date_changed(
    sender: type[OrderEvent], instance: OrderEvent, created: bool, **kwargs: Any
) -> None:
    """The ordering party moved the requested date (orders.services.order_amend writes the
    change as an 'order edited' event; an override's edit is not this)."""
    if not created or kwargs.get("raw") or not _on():
        return
    if instance.kind != OrderEvent.Kind.ORDER_EDITED or "override" in instance.data:
        return
    change = instance.data.get("changes", {}).get("requested_activation_date")
    if change is None:
        return
    order = Order.objects.select_related("customer", "plan").get(pk=instance.order_id)
    after = change.get("after")
    text = (
        f"The date you asked for your service to start is now {_as_date(after)}."
        if after
        else "Your order no longer waits for a date: we will set it up as soon as we can."
    )
    version = instance.data.get("version", order.version)
    notice_send(order, NoticeKind.CHANGED, key=f"changed:v{version}", context={"changes": [text]})


def _as_date(iso: str) -> str:
    day = datetime.date.fromisoformat(iso)
    return f"{day.day} {day:%B %Y}"


@receiver(order_delayed, dispatch_uid="notices.order_delayed")
def _order_delayed(sender: Any, order: Order, jeopardy: Jeopardy, **kwargs: Any) -> None:
    """A milestone went late: the customer hears of it before they have to ask, with the new
    date, once per order and date (milestones due together go late together), and why: what
    holds the order up if its status has words for it (a failed activation, the manual pool),
    else the lateness itself in the jeopardy's words."""
    expected = jeopardy.expected_at
    if expected is None or not _on():
        return
    day = timezone.localdate(expected)
    situation = order_situation(order) or customer_words(jeopardy_reason_code(jeopardy.level))
    notice_send(
        order,
        NoticeKind.DELAYED,
        key=f"delayed:{day.isoformat()}",
        context={"expected": day, "situation": situation},
    )
