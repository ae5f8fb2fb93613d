"""What the TMF622 endpoints write: each call is one transaction, its hub events published in
it (so they leave only if it commits), its order changes made by orders.services.

The views read and answer; these guarantee the writes: an idempotency key names one order
only, a cancellation is recorded with the order's own cancellation, a deletion hides a closed
order from the API once.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from orders.errors import DuplicateOrder, OrderError
from orders.models import (
    DuplicateKind,
    Order,
    ScheduledCancellation,
    ScheduledCancellationState,
)
from orders.scheduled_cancellations import order_cancellation_schedule
from orders.services import (
    duplicate_entry_record,
    order_amend,
    order_cancel,
    order_cancellation_refusal,
    order_submit,
)
from orders.states import FINAL_STATES, EventSource, OrderStatus
from orders.system_actors import audit_actor
from tmf.hub.publish import publish_event
from tmf.models import (
    ApiClient,
    CancelProductOrder,
    DeletedProductOrder,
    HubApi,
    IdempotencyRecord,
    TaskState,
)
from tmf.productorder.representation import (
    cancellation_representation,
    product_order_representation,
)
from tmf.productorder.serializers import OrderDraft

# What the API's changes are called on the wire.
WIRE_NAMES = {"external_id": "externalId", "requested_activation_date": "requestedStartDate"}


class IdempotencyKeyReused(OrderError):
    """The client's key was used before with another body."""

    def __init__(self, key: str) -> None:
        super().__init__(f"Idempotency key '{key}' was used with a different request body.")
        self.key = key


class OrderStillOpen(OrderError):
    pass


@dataclass(frozen=True)
class Placement:
    order: Order
    replayed: bool


def order_key(client: ApiClient, key: str) -> str:
    """The order's own idempotency key for a client's key: the key itself where it fits the
    order's column with its prefix, else its SHA-256 (a 200-character key must not overflow)."""
    prefix = f"tmf622:{client.pk}:"
    room = Order._meta.get_field("idempotency_key").max_length or 200
    if len(prefix) + len(key) <= room:
        return prefix + key
    return f"{prefix}sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def product_order_place(
    *, client: ApiClient, draft: OrderDraft, key: str | None, fingerprint: str
) -> Placement:
    """Take the order the draft describes, as the client. With a key: the first order placed
    under it comes back (``replayed``) for the same body, also to the loser of a race with its
    twin; another body under it raises IdempotencyKeyReused, and nothing is written. Raises
    what order_submit raises (ItemsInvalid, NotServiceable, DuplicateOrder, ...)."""
    try:
        return _place(client=client, draft=draft, key=key, fingerprint=fingerprint)
    except DuplicateOrder as exc:
        # order_submit counted the refusal in the transaction _place rolled back.
        duplicate_entry_record(DuplicateKind.REFUSED, order=exc.existing, channel=EventSource.API)
        raise


def _place(*, client: ApiClient, draft: OrderDraft, key: str | None, fingerprint: str) -> Placement:
    with audit_actor(client.user), transaction.atomic():
        submission = order_submit(
            customer=draft.customer,
            items=draft.items,
            requested_activation_date=draft.requested_start,
            channel=EventSource.API,
            submitted_by=client.user,
            idempotency_key=order_key(client, key) if key else None,
            external_id=draft.external_id,
        )
        replayed = not submission.created
        if key is not None:
            record, made = IdempotencyRecord.objects.get_or_create(
                client=client,
                key=key,
                defaults={"request_hash": fingerprint, "order": submission.order},
            )
            if not made and record.request_hash != fingerprint:
                raise IdempotencyKeyReused(key)
            replayed = replayed or not made
    return Placement(order=submission.order, replayed=replayed)


def product_order_amend(
    *, client: ApiClient, order: Order, changes: dict[str, Any]
) -> tuple[Order, list[str]]:
    """Apply a merge patch's changes (orders.services.order_amend) and tell the hub which
    attributes really changed (ProductOrderAttributeValueChangeEvent, its fieldPath naming
    them). Returns the order and those attributes' wire names."""
    with audit_actor(client.user), transaction.atomic():
        amendment = order_amend(order, actor=client.user, source=EventSource.API, **changes)
        changed = [WIRE_NAMES[name] for name in amendment.changed]
        if changed:
            publish_event(
                api=HubApi.PRODUCT_ORDERING,
                event_type="ProductOrderAttributeValueChangeEvent",
                resource_name="productOrder",
                resource=product_order_representation(amendment.order),
                order=amendment.order,
                description=f"Product order {order.pk}: {', '.join(changed)} changed.",
                field_path=",".join(changed),
            )
    return amendment.order, changed


def product_order_cancel(
    *,
    client: ApiClient,
    order: Order,
    reason: str,
    requested_at: datetime.datetime | None,
) -> CancelProductOrder:
    """Cancel the order now (orders.services.order_cancel, in the state the client saw), or on
    a later day when ``requested_at`` falls after today, and keep the request as a
    cancelProductOrder, with its CancelProductOrderCreateEvent; all or nothing. The request is
    ``done`` when the order is cancelled at once, ``inProgress`` while what its plan did on the
    network is undone (the order ``pendingCancellation``), and done then
    (``cancellation_follow``). A request for a later day is ``acknowledged`` until then
    (orders.scheduled_cancellations; ``schedule_follow`` moves it on). Raises OrderConflict
    (CancellationRefused, with its reason code) when the order is past its point of no return,
    closed, being cancelled or to be cancelled already, or changed meanwhile."""
    refusal = order_cancellation_refusal(order)
    if refusal is not None:
        raise refusal
    reason = reason.strip() or f"Cancelled through the API by {client.name}."
    later = requested_at is not None and timezone.localdate(requested_at) > timezone.localdate()
    with audit_actor(client.user), transaction.atomic():
        if later:
            assert requested_at is not None
            schedule = order_cancellation_schedule(
                order, due_at=requested_at, reason=reason, actor=client.user, source=EventSource.API
            )
            cancel = CancelProductOrder.objects.create(
                order=order,
                client=client,
                cancellation_reason=reason,
                requested_cancellation_date=requested_at,
                state=TaskState.ACKNOWLEDGED,
                schedule=schedule,
            )
            cancelled = order
        else:
            cancelled = order_cancel(
                order,
                actor=client.user,
                reason=reason,
                source=EventSource.API,
                expected_status=order.status,
            )
            cancel = CancelProductOrder.objects.create(
                order=cancelled,
                client=client,
                cancellation_reason=reason,
                requested_cancellation_date=requested_at,
                effective_cancellation_date=cancelled.closed_at,
                state=TaskState.DONE
                if cancelled.status == OrderStatus.CANCELLED
                else TaskState.IN_PROGRESS,
            )
        publish_event(
            api=HubApi.PRODUCT_ORDERING,
            event_type="CancelProductOrderCreateEvent",
            resource_name="cancelProductOrder",
            resource=cancellation_representation(cancel),
            order=cancelled,
            description=f"Cancellation of product order {cancelled.pk}"
            + (f", for {requested_at.isoformat()}." if later and requested_at else "."),
        )
    return cancel


def _publish_state(cancel: CancelProductOrder, order: Order, description: str) -> None:
    publish_event(
        api=HubApi.PRODUCT_ORDERING,
        event_type="CancelProductOrderStateChangeEvent",
        resource_name="cancelProductOrder",
        resource=cancellation_representation(cancel),
        order=order,
        description=description,
        field_path="state",
    )


def schedule_follow(schedule: ScheduledCancellation, order: Order) -> None:
    """The scheduled cancellation a request asked for is settled: carried out, the request is
    ``inProgress`` (and ``done`` at once when the order is cancelled, else with the order's
    cancellation, ``cancellation_follow``); refused on its date or withdrawn, it is
    ``terminatedWithError``, the event's description saying why. Each move is a
    CancelProductOrderStateChangeEvent, in the settlement's transaction."""
    cancel = CancelProductOrder.objects.filter(schedule=schedule).first()
    if cancel is None or cancel.state != TaskState.ACKNOWLEDGED:
        return
    if schedule.state == ScheduledCancellationState.CARRIED_OUT:
        cancel.state = TaskState.IN_PROGRESS
        cancel.save(update_fields=["state"])
        _publish_state(cancel, order, f"Cancellation of product order {order.pk} in progress.")
        if order.status == OrderStatus.CANCELLED:
            cancel.state = TaskState.DONE
            cancel.effective_cancellation_date = order.closed_at or timezone.now()
            cancel.save(update_fields=["state", "effective_cancellation_date"])
            _publish_state(cancel, order, f"Cancellation of product order {order.pk} done.")
        return
    cancel.state = TaskState.TERMINATED_WITH_ERROR
    cancel.save(update_fields=["state"])
    _publish_state(
        cancel,
        order,
        f"Cancellation of product order {order.pk} not carried out: {schedule.outcome}",
    )


def cancellation_follow(order: Order) -> None:
    """The order's cancellation is finished (every undo done): its requests still in progress
    are done, each with a CancelProductOrderStateChangeEvent. In that change's transaction."""
    for cancel in CancelProductOrder.objects.filter(order=order, state=TaskState.IN_PROGRESS):
        cancel.state = TaskState.DONE
        cancel.effective_cancellation_date = order.closed_at or timezone.now()
        cancel.save(update_fields=["state", "effective_cancellation_date"])
        _publish_state(cancel, order, f"Cancellation of product order {order.pk} done.")


def product_order_delete(*, client: ApiClient, order: Order) -> bool:
    """Hide a closed order (completed, partly completed, cancelled, rejected) from the API for
    every client, with a ProductOrderDeleteEvent the first time. Returns whether it was visible
    until now. Raises OrderStillOpen for an open order."""
    if order.status not in FINAL_STATES:
        raise OrderStillOpen(f"Order {order.pk} is still open.")
    with audit_actor(client.user), transaction.atomic():
        _, made = DeletedProductOrder.objects.get_or_create(
            order=order, defaults={"client": client}
        )
        if made:
            publish_event(
                api=HubApi.PRODUCT_ORDERING,
                event_type="ProductOrderDeleteEvent",
                resource_name="productOrder",
                resource=product_order_representation(order),
                order=order,
                description=f"Product order {order.pk} deleted by {client.name}.",
            )
    return made
