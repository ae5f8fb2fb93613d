"""Contact-the-customer tasks (support.contact_models.ContactTask): opened when an order needs
something from its customer or the ISP changed it, taken by a support agent, and done when the
agent records the contact and how it went (a CUSTOMER_CONTACT event on the order's timeline).

Opened in the transaction of what caused them, once per order and reason while one is open:
- delayed: a jeopardy reached "late" (orders.signals.order_delayed), with the new date;
- needs_details: the order went to manual activation because details are missing;
- add_on_cancelled: the lead cancelled an add-on that could not be delivered.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from orders.eligibility import EligibilityReason
from orders.errors import OrderError
from orders.models import Jeopardy, Order, OrderEvent
from orders.signals import order_delayed, order_status_changed
from orders.states import EventSource, OrderStatus
from support.contact_models import ContactTask

NEEDS_DETAILS_CODES = frozenset({EligibilityReason.INCOMPLETE_PAYLOAD.value})
ITEM_CANCELLED = "item_cancelled"  # provisioning's ExceptionCase.Resolution value


class ContactTaskRefused(OrderError):
    """Taken by someone else, or done already."""


def contact_task_open(order: Order, reason: str, detail: str = "") -> ContactTask:
    """The open task for the order and reason: the one there, or a new one. Safe to call twice,
    and from two transactions at once (the partial unique constraint decides)."""
    existing = ContactTask.objects.filter(order=order, reason=reason, done_at__isnull=True).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return ContactTask.objects.create(order=order, reason=reason, detail=detail[:300])
    except IntegrityError:
        return ContactTask.objects.get(order=order, reason=reason, done_at__isnull=True)


def _locked(task: ContactTask) -> ContactTask:
    return ContactTask.objects.select_for_update().select_related("order").get(pk=task.pk)


def contact_task_take(task: ContactTask, *, by: Any) -> ContactTask:
    with transaction.atomic():
        locked = _locked(task)
        if locked.done_at is not None:
            raise ContactTaskRefused("This customer has been contacted already.")
        holder = locked.taken_by
        if holder is not None and holder.pk != by.pk:
            raise ContactTaskRefused(
                f"{holder.get_full_name() or holder.get_username()} has taken this contact."
            )
        locked.taken_by, locked.taken_at = by, timezone.now()
        locked.save(update_fields=["taken_by", "taken_at"])
        return locked


def contact_task_record(task: ContactTask, *, by: Any, outcome: str, note: str) -> ContactTask:
    """The agent contacted the customer (or tried): the task is done, with its outcome on the
    order's timeline. A task nobody took is taken by whoever records it."""
    with transaction.atomic():
        locked = _locked(task)
        if locked.done_at is not None:
            raise ContactTaskRefused("This customer has been contacted already.")
        if locked.taken_by_id not in (None, by.pk):
            raise ContactTaskRefused("Someone else has taken this contact.")
        now = timezone.now()
        locked.taken_by = by
        locked.taken_at = locked.taken_at or now
        locked.outcome, locked.note, locked.done_at = outcome, note.strip(), now
        locked.save()
        OrderEvent.objects.create(
            order=locked.order,
            kind=OrderEvent.Kind.CUSTOMER_CONTACT,
            actor=by,
            source=EventSource.SUPPORT_PORTAL,
            reason=f"Contacted the customer ({locked.get_reason_display().lower()}): "
            f"{locked.get_outcome_display().lower()}. {locked.note}".strip(),
            data={"contact_task": locked.pk, "outcome": outcome},
        )
        return locked


# --- what opens them --------------------------------------------------------------------------
@receiver(order_delayed, dispatch_uid="support.contact_when_delayed")
def _delayed(sender: Any, order: Order, jeopardy: Jeopardy, **kwargs: Any) -> None:
    expected = jeopardy.expected_at
    when = f" now expected by {timezone.localtime(expected):%-d %B %Y}" if expected else ""
    contact_task_open(
        order,
        ContactTask.Reason.DELAYED,
        f"{jeopardy.milestone.name} is late{when}: apologise, give the new date.",
    )


@receiver(order_status_changed, dispatch_uid="support.contact_when_details_missing")
def _details_missing(sender: Any, order: Order, event: OrderEvent, **kwargs: Any) -> None:
    if event.to_status == OrderStatus.AWAITING_MANUAL and event.reason_code in NEEDS_DETAILS_CODES:
        contact_task_open(order, ContactTask.Reason.NEEDS_DETAILS, event.reason)


@receiver(post_save, sender=OrderEvent, dispatch_uid="support.contact_when_add_on_cancelled")
def _add_on_cancelled(sender: Any, instance: OrderEvent, created: bool, **kwargs: Any) -> None:
    if (
        created
        and instance.kind == OrderEvent.Kind.EXCEPTION_RESOLVED
        and (instance.data or {}).get("resolution") == ITEM_CANCELLED
    ):
        contact_task_open(instance.order, ContactTask.Reason.ADD_ON_CANCELLED, instance.reason)
