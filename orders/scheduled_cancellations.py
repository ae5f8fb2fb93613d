"""Cancellations asked for a later date: scheduled, withdrawn, and carried out when due.

Scheduling is refused, with the reason, when the order could not be cancelled now (closed,
being cancelled, past its point of no return, one scheduled already) and when the moment is
not in the future. When it is due, the beat task (orders.tasks.cancel_due_orders) carries it
out through ``orders.services.order_cancel``, the path every immediate cancellation takes; an
order that meanwhile passed its point of no return, or closed, is left alone and the schedule
is refused with the reason. The schedule row is the record of the work: it leaves
``scheduled`` only in the transaction that settles it, under the order's lock, so a scan run
twice, a killed worker or a lost beat message never carries it out twice nor drops it.

Every step is on the order's timeline: scheduling, withdrawal, refusal (events below), and the
cancellation itself (its status change). Each settlement sends
``scheduled_cancellation_settled`` in its transaction, for the TMF622 request that asked.
"""

from __future__ import annotations

import datetime
import logging

from django.contrib.auth.models import User
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.formats import date_format
from django_fsm import ConcurrentTransition

from orders.cancellation import cancellation_refusal
from orders.errors import CancellationRefused, OrderConflict, OrderError
from orders.groups import group_cancellation_refusal
from orders.log_context import log_context_scope
from orders.models import (
    Order,
    OrderEvent,
    ScheduledCancellation,
    ScheduledCancellationState,
)
from orders.services import order_cancel, order_lock, order_lock_in_group
from orders.signals import order_status_changed, scheduled_cancellation_settled
from orders.states import EventSource, OrderStatus

logger = logging.getLogger(__name__)

State = ScheduledCancellationState
# How many due cancellations one scan carries out; the rest wait for the next (a minute).
DUE_BATCH = 200


def when_words(moment: datetime.datetime) -> str:
    """The moment as people read it: "3 March 2027, 00:00"."""
    return date_format(timezone.localtime(moment), "j F Y, H:i")


def scheduled_cancellation_of(order: Order) -> ScheduledCancellation | None:
    """The order's cancellation still waiting for its date, if any."""
    return (
        ScheduledCancellation.objects.filter(order=order, state=State.SCHEDULED)
        .select_related("requested_by")
        .first()
    )


def _event(
    schedule: ScheduledCancellation,
    *,
    kind: OrderEvent.Kind,
    actor: User | None,
    source: EventSource,
    reason: str,
    reason_code: str = "",
) -> OrderEvent:
    return OrderEvent.objects.create(
        order_id=schedule.order_id,
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        source=source,
        reason=reason,
        reason_code=reason_code,
        data={"scheduled_cancellation": schedule.pk, "due_at": schedule.due_at.isoformat()},
    )


def order_cancellation_schedule(
    order: Order | str,
    *,
    due_at: datetime.datetime,
    reason: str,
    actor: User | None,
    source: EventSource,
    now: datetime.datetime | None = None,
) -> ScheduledCancellation:
    """Schedule the order's cancellation for ``due_at``. Raises OrderError (on ``due_at`` or
    ``reason``) for a moment not in the future or a missing reason, CancellationRefused when
    the order could not be cancelled now (closed, being cancelled, past its point of no return,
    a move whose other order cannot be) or has a cancellation scheduled already."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise OrderError("A reason is required.", field_errors={"reason": "A reason is required."})
    if due_at <= now:
        message = "The cancellation date must be in the future."
        raise OrderError(message, field_errors={"due_at": message})
    with transaction.atomic():
        locked = order_lock(order if isinstance(order, str) else str(order.pk))
        refusal = cancellation_refusal(locked) or group_cancellation_refusal(locked)
        if refusal is not None:
            raise refusal
        existing = scheduled_cancellation_of(locked)
        if existing is not None:
            raise CancellationRefused(
                f"Order {locked.display_id} is already to be cancelled on "
                f"{when_words(existing.due_at)}: withdraw that first to choose another date.",
                reason_code=CancellationRefused.SCHEDULED,
            )
        schedule = ScheduledCancellation.objects.create(
            order=locked,
            due_at=due_at,
            reason=reason,
            requested_by=actor if actor is not None and actor.is_authenticated else None,
            channel=source,
            created_at=now,
        )
        _event(
            schedule,
            kind=OrderEvent.Kind.CANCELLATION_SCHEDULED,
            actor=actor,
            source=source,
            reason=f"Cancellation scheduled for {when_words(due_at)}: {reason}",
        )
    return schedule


def order_cancellation_withdraw(
    order: Order | str, *, actor: User | None, source: EventSource
) -> ScheduledCancellation:
    """Withdraw the order's scheduled cancellation: the order stays as it is. Raises
    OrderConflict when none is scheduled (never was, or it was carried out meanwhile)."""
    with transaction.atomic():
        locked = order_lock(order if isinstance(order, str) else str(order.pk))
        schedule = (
            ScheduledCancellation.objects.select_for_update()
            .filter(order=locked, state=State.SCHEDULED)
            .first()
        )
        if schedule is None:
            raise OrderConflict(f"Order {locked.display_id} has no cancellation scheduled.")
        who = f" by {actor.get_full_name() or actor.get_username()}" if actor is not None else ""
        _settle(
            schedule,
            locked,
            state=State.WITHDRAWN,
            outcome=f"Withdrawn{who}.",
            settled_by=actor,
        )
        _event(
            schedule,
            kind=OrderEvent.Kind.CANCELLATION_WITHDRAWN,
            actor=actor,
            source=source,
            reason=f"Cancellation scheduled for {when_words(schedule.due_at)} withdrawn.",
        )
    return schedule


def _settle(
    schedule: ScheduledCancellation,
    order: Order,
    *,
    state: str,
    outcome: str,
    settled_by: User | None = None,
) -> None:
    schedule.state = state
    schedule.outcome = outcome
    schedule.settled_at = timezone.now()
    schedule.settled_by = (
        settled_by if settled_by is not None and settled_by.is_authenticated else None
    )
    schedule.save(update_fields=["state", "outcome", "settled_at", "settled_by"])
    scheduled_cancellation_settled.send(
        sender=ScheduledCancellation, schedule=schedule, order=order
    )


def scheduled_cancellation_carry_out(
    schedule_pk: int, *, now: datetime.datetime | None = None
) -> str:
    """Carry out one due cancellation, or refuse it with the reason; returns the state this
    call settled it in, or "" when it did nothing: not due, no longer scheduled (carried out
    by another scan, withdrawn), or the order changed at that moment (left scheduled, for the
    next scan)."""
    now = now or timezone.now()
    order_pk = (
        ScheduledCancellation.objects.filter(pk=schedule_pk)
        .values_list("order_id", flat=True)
        .first()
    )
    if order_pk is None:
        return ""
    with transaction.atomic():
        # The order first, then the schedule: the order every other writer locks them in.
        order = order_lock_in_group(order_pk)
        schedule = ScheduledCancellation.objects.select_for_update().get(pk=schedule_pk)
        if schedule.state != State.SCHEDULED or schedule.due_at > now:
            return ""
        if order.status in (OrderStatus.CANCELLED, OrderStatus.CANCELLING):
            _settle(
                schedule,
                order,
                state=State.WITHDRAWN,
                outcome=f"Order {order.display_id} was cancelled before the date.",
            )
            return State.WITHDRAWN
        try:
            with transaction.atomic():
                # Marked first, so that the cancellation it makes does not find it still
                # waiting (``_cancelled_before_the_date``); undone with it if refused.
                schedule.state = State.CARRIED_OUT
                schedule.save(update_fields=["state"])
                cancelled = order_cancel(
                    order,
                    actor=None,
                    source=EventSource.SCHEDULER,
                    reason=_carry_out_reason(schedule),
                )
        except CancellationRefused as exc:
            schedule.state = State.SCHEDULED  # as the rolled-back savepoint left the row
            _settle(schedule, order, state=State.REFUSED, outcome=exc.message)
            _event(
                schedule,
                kind=OrderEvent.Kind.CANCELLATION_REFUSED,
                actor=None,
                source=EventSource.SCHEDULER,
                reason=f"Cancellation scheduled for {when_words(schedule.due_at)} not carried "
                f"out: {exc.message}",
                reason_code=exc.reason_code,
            )
            return State.REFUSED
        except (OrderConflict, ConcurrentTransition):
            schedule.state = State.SCHEDULED
            logger.info("order %s changed while its cancellation was due; next scan", order_pk)
            return ""
        outcome = (
            f"Carried out: order {cancelled.display_id} is being cancelled."
            if cancelled.status == OrderStatus.CANCELLING
            else f"Carried out: order {cancelled.display_id} is cancelled."
        )
        _settle(schedule, cancelled, state=State.CARRIED_OUT, outcome=outcome)
        return State.CARRIED_OUT


def _carry_out_reason(schedule: ScheduledCancellation) -> str:
    asked = schedule.requested_by
    by = f" by {asked.get_full_name() or asked.get_username()}" if asked is not None else ""
    return (
        f"Scheduled cancellation, asked{by} through "
        f"{EventSource(schedule.channel).label.lower()} on "
        f"{when_words(schedule.created_at)}: {schedule.reason}"
    )


def scheduled_cancellations_carry_out_due(*, now: datetime.datetime | None = None) -> int:
    """Carry out (or refuse) every scheduled cancellation due by ``now``, soonest first.
    Returns how many were settled."""
    now = now or timezone.now()
    due = list(
        ScheduledCancellation.objects.filter(state=State.SCHEDULED, due_at__lte=now)
        .order_by("due_at", "id")
        .values_list("pk", flat=True)[:DUE_BATCH]
    )
    settled = 0
    for pk in due:
        with log_context_scope():  # its order is bound when it is locked
            if scheduled_cancellation_carry_out(pk, now=now):
                settled += 1
    return settled


@receiver(order_status_changed, dispatch_uid="orders.scheduled_cancellations.cancelled_before")
def _cancelled_before_the_date(
    sender: object, *, order: Order, event: OrderEvent, **kw: object
) -> None:
    """An order cancelled (or being cancelled) before the date of its scheduled cancellation,
    by someone cancelling it now: that schedule has nothing left to do."""
    if event.to_status not in (OrderStatus.CANCELLING, OrderStatus.CANCELLED):
        return
    if event.from_status == OrderStatus.CANCELLING:
        return  # the end of a cancellation already under way
    waiting = ScheduledCancellation.objects.select_for_update().filter(
        order=order, state=State.SCHEDULED
    )
    for schedule in waiting:
        _settle(
            schedule,
            order,
            state=State.WITHDRAWN,
            outcome=f"Order {order.display_id} was cancelled before the date.",
        )
