"""Typed builders for OrderEvent rows: the order's status history and timeline."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from orders.live_push import event_topics, order_changed
from orders.milestones import milestones_follow_billing, milestones_follow_items
from orders.models import Order, OrderEvent, OrderItem
from orders.states import EventSource, ItemState, OrderStatus

# Marks the events a person's override wrote (internal, like every reason code).
OVERRIDE_REASON_CODE = "MANUAL_OVERRIDE"


def _actor(user: User | None) -> Any:
    return user if user is not None and user.is_authenticated else None


def status_changed(
    *,
    order: Order,
    from_status: str,
    to_status: str,
    actor: User | None,
    source: EventSource,
    reason: str = "",
    reason_code: str = "",
    data: dict[str, Any] | None = None,
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.STATUS_CHANGED,
        from_status=from_status,
        to_status=to_status,
        actor=_actor(actor),
        source=source,
        reason=reason,
        reason_code=reason_code,
        data=data or {},
    )


def order_imported(
    *,
    order: Order,
    from_status: str,
    to_status: str,
    actor: User | None,
    at: datetime.datetime,
    reason: str,
    data: dict[str, Any] | None = None,
) -> OrderEvent:
    """A status event of an order brought in from the legacy system (imports): dated when it
    happened there (``at``), its source the migration."""
    return OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.STATUS_CHANGED,
        from_status=from_status,
        to_status=to_status,
        actor=_actor(actor),
        source=EventSource.MIGRATION,
        reason=reason,
        data=data or {},
        created_at=at,
    )


def activation_attempt(
    *,
    order: Order,
    attempt: int,
    succeeded: bool,
    error_code: str = "",
    error_message: str = "",
    will_retry: bool = False,
) -> OrderEvent:
    if succeeded:
        reason = f"Activation attempt {attempt} succeeded."
    elif will_retry:
        reason = f"Activation attempt {attempt} failed ({error_message}); retrying automatically."
    else:
        reason = f"Activation attempt {attempt} failed: {error_message}"
    return OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.ACTIVATION_ATTEMPT,
        source=EventSource.PROVISIONING,
        reason=reason,
        reason_code=error_code,
        data={"attempt": attempt, "succeeded": succeeded, "will_retry": will_retry},
    )


def item_states_changed(
    *, order: Order, changes: list[tuple[OrderItem, str]], actor: User | None = None
) -> list[OrderEvent]:
    """One event per item whose state moved (``changes``: the item, now in its new state, and
    the state it left), written in one statement however many items moved."""
    now = timezone.now()
    milestones_follow_items(order, changes)
    events = OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order=order,
                kind=OrderEvent.Kind.ITEM_STATE_CHANGED,
                actor=_actor(actor),
                source=EventSource.PROVISIONING,
                reason=f"Item {item.item_id} ({item.offering.name}): "
                f"{ItemState(previous).label.lower()} -> {item.get_state_display().lower()}.",
                data={"item": item.item_id, "from": previous, "to": item.state},
                created_at=now,
            )
            for item, previous in changes
        ]
    )
    # bulk_create sends no post_save: the open pages are told here (orders.live_push).
    versions = [event.pk for event in events if event.pk is not None]
    if versions:
        order_changed(
            order_id=order.pk,
            version=max(versions),
            topics=event_topics(OrderEvent.Kind.ITEM_STATE_CHANGED),
        )
    return events


def task_done(
    *, order: Order, task_key: str, task_label: str, attempt: int, reference: str
) -> OrderEvent:
    """A task of the plan was done on the network: the order's history says so, and every
    open page of the order sees the plan move."""
    return OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.TASK_DONE,
        source=EventSource.PROVISIONING,
        reason=f"{task_label} ({task_key}) done"
        + (f" at attempt {attempt}" if attempt > 1 else "")
        + (f": {reference}." if reference else "."),
        data={"task": task_key, "attempt": attempt, "reference": reference},
    )


def task_failed(
    *,
    order: Order,
    task_key: str,
    task_label: str,
    attempt: int,
    error_code: str,
    error_message: str,
    will_retry: bool,
) -> OrderEvent:
    if will_retry:
        reason = (
            f"{task_label} ({task_key}), attempt {attempt}, failed ({error_message}); retrying."
        )
    else:
        reason = f"{task_label} ({task_key}), attempt {attempt}, failed: {error_message}"
    return OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.TASK_FAILED,
        source=EventSource.PROVISIONING,
        reason=reason,
        reason_code=error_code,
        data={"task": task_key, "attempt": attempt, "will_retry": will_retry},
    )


def task_done_by_hand(
    *,
    order: Order,
    task_key: str,
    task_label: str,
    actor: User | None,
    source: EventSource,
    note: str,
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.TASK_DONE_BY_HAND,
        actor=_actor(actor),
        source=source,
        reason=f"{task_label} ({task_key}) done by hand: {note}",
        data={"task": task_key},
    )


def exception_case_event(
    *,
    order: Order,
    kind: OrderEvent.Kind,
    actor: User | None,
    source: EventSource,
    reason: str,
    reason_code: str = "",
    data: dict[str, Any] | None = None,
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        actor=_actor(actor),
        source=source,
        reason=reason,
        reason_code=reason_code,
        data=data or {},
    )


def billing_started(
    *, order: Order, account_id: int, start_date: str, reason: str = ""
) -> OrderEvent:
    """The order's bill starts (or, for a change to a live line, changes) on ``start_date``;
    ``reason`` says how when it is not a new account."""
    milestones_follow_billing(order)
    return OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.BILLING_STARTED,
        source=EventSource.BILLING,
        reason=reason or f"Billing account {account_id} started on {start_date}.",
        data={"billing_account": account_id, "start_date": start_date},
    )


def order_edited(
    *,
    order: Order,
    actor: User | None,
    source: EventSource,
    reason: str,
    changes: dict[str, dict[str, Any]],
) -> OrderEvent:
    """``changes``: field -> {"before": ..., "after": ...}, JSON-ready."""
    return OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.ORDER_EDITED,
        actor=_actor(actor),
        source=source,
        reason=reason,
        reason_code=OVERRIDE_REASON_CODE,
        data={"override": "edit_payload", "changes": changes, "version": order.version},
    )


def order_amended(
    *,
    order: Order,
    actor: User | None,
    source: EventSource,
    changes: dict[str, dict[str, Any]],
) -> OrderEvent:
    """The ordering party changed what it may change itself (orders.services.order_amend);
    ``changes``: field -> {"before": ..., "after": ...}, JSON-ready. Not an override."""
    return OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.ORDER_EDITED,
        actor=_actor(actor),
        source=source,
        reason="Changed by the ordering party.",
        data={"changes": changes, "version": order.version},
    )


def note(*, order: Order, actor: User | None, source: EventSource, text: str) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order, kind=OrderEvent.Kind.NOTE, actor=_actor(actor), source=source, reason=text
    )


def billing_waived(
    *, order: Order, actor: User | None, source: EventSource, reason: str
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.BILLING_WAIVED,
        actor=_actor(actor),
        source=source,
        reason=reason,
        reason_code=OVERRIDE_REASON_CODE,
        data={"override": "waive_billing", "version": order.version},
    )


def customer_contact(
    *,
    order: Order,
    actor: User | None,
    subject_label: str,
    data: dict[str, Any] | None = None,
) -> OrderEvent:
    """The customer wrote to us about ``order``: for the staff timeline only. The message text
    never goes here (the customer timeline shows status changes only, and the text stays with
    whatever recorded the contact)."""
    return OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.CUSTOMER_CONTACT,
        actor=_actor(actor),
        source=EventSource.CUSTOMER_PORTAL,
        reason=f"Customer contact: {subject_label}.",
        data=data or {},
    )


# Customer-facing wording for the timeline: status changes only, never reason codes.
CUSTOMER_EVENT_TEXT = {
    OrderStatus.SUBMITTED: "We received your order.",
    OrderStatus.SCHEDULED: "Your order is scheduled for the date you asked for.",
    OrderStatus.AWAITING_MANUAL: "Our provisioning team is setting up your line.",
    OrderStatus.PROVISIONING: "We are activating your service.",
    OrderStatus.EXCEPTION: "Activation is taking longer than planned. Our team is on it.",
    OrderStatus.ACTIVATED: "Your internet service is live.",
    OrderStatus.COMPLETED: "All done: your account is active and billing has started.",
    OrderStatus.PARTIAL: "Your service is active and billing has started for what we could "
    "deliver; we could not deliver part of your order.",
    OrderStatus.REJECTED: "We can't serve this address yet.",
    OrderStatus.CANCELLING: "We are cancelling your order and undoing what was already set up.",
    OrderStatus.CANCELLED: "Your order was cancelled.",
}


# The order's ``status_changed_at`` follows its newest status event whichever code wrote the
# event (the builders above, a fixture, a data fix), as ownership grants follow Customer.user.
@receiver(post_save, sender=OrderEvent, dispatch_uid="orders.events.status_changed_at")
def _status_event_saved(
    sender: type[OrderEvent], instance: OrderEvent, created: bool, **kwargs: Any
) -> None:
    if not created or kwargs.get("raw") or instance.kind != OrderEvent.Kind.STATUS_CHANGED:
        return
    Order.objects.filter(pk=instance.order_id).update(status_changed_at=instance.created_at)
    order_field = OrderEvent._meta.get_field("order")
    if order_field.is_cached(instance):  # the caller's order object says the same
        instance.order.status_changed_at = instance.created_at
