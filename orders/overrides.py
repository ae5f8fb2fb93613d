"""Overrides: a privileged person corrects an order the normal road cannot (DESIGN invariants 7
and 9). Force a status, edit what was ordered, re-run activation; waiving the billing start is
billing's (billing.services.billing_waive_start) and uses the helpers here.

Only privileged roles (``orders.override_order``: the provisioning lead, superusers) may override;
a reason is mandatory; every override is an OrderEvent with actor and reason, written in the same
transaction as the change, and an audit-log entry naming the person, with the override and the
reason as its additional data. Each takes the order version the person saw and refuses with
OrderConflict if the order moved since: of two people acting at once, the second gets a clear
message, never a silent overwrite, and the order stays as the first left it.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from orders import events
from orders.eligibility import serviceability_check
from orders.models import FORCED_MOVES, Order, OrderEvent, Plan, normalize_postcode
from orders.services import (
    NotServiceable,
    OrderConflict,
    OrderError,
    _order_pk,
    _require_reason,
    _run_transition,
    order_follow_requested_date,
    order_lock_in_group,
)
from orders.signals import order_due_for_activation, order_overridden
from orders.states import EventSource, OrderStatus
from orders.system_actors import audit_actor

logger = logging.getLogger(__name__)

OVERRIDE_PERMISSION = "orders.override_order"
EDITABLE_STATES = (
    OrderStatus.SUBMITTED,
    OrderStatus.SCHEDULED,
    OrderStatus.AWAITING_MANUAL,
    OrderStatus.EXCEPTION,
)
EDITABLE_FIELDS = (
    "service_address_line1",
    "service_address_line2",
    "service_city",
    "service_postcode",
    "plan",
    "requested_activation_date",
)
RERUN_STATES = (OrderStatus.AWAITING_MANUAL, OrderStatus.EXCEPTION)


def order_may_override(user: Any) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.has_perm(OVERRIDE_PERMISSION)
    )


def order_require_override_permission(actor: Any) -> None:
    if not order_may_override(actor):
        raise PermissionDenied("Only a provisioning lead may override an order.")


def override_check(actor: Any, reason: str) -> str:
    """PermissionDenied unless ``actor`` may override, OrderError without a reason; returns the
    reason, trimmed."""
    order_require_override_permission(actor)
    return _require_reason(reason)


def _who(event: OrderEvent) -> str:
    if event.actor is not None:
        return event.actor.get_full_name() or event.actor.get_username()
    return event.get_source_display().lower()


def order_changed_message(order: Order) -> str:
    last = order.events.select_related("actor").order_by("-created_at", "-id").first()
    what = ""
    if last is not None:
        if last.is_status_change:
            done = f"moved to {last.get_to_status_display().lower()}"
        else:
            done = last.get_kind_display().lower()
        what = f" ({done} by {_who(last)} at {timezone.localtime(last.created_at):%H:%M:%S})"
    return (
        f"Order {order.display_id} changed while you were looking at it: it is now "
        f"{order.get_status_display().lower()}{what}. Reload and try again."
    )


def order_lock_for_override(order: Order | str, *, expected_version: int | None) -> Order:
    """The order row, locked (after the new line of its move, if it waits for one: an override
    of one order of a move may go on to change the other); OrderConflict if its version is not
    the one the person saw."""
    locked = order_lock_in_group(_order_pk(order))
    if expected_version is not None and locked.version != expected_version:
        raise OrderConflict(order_changed_message(locked))
    return locked


@contextmanager
def override_audit_note(order: Order, *, override: str, reason: str) -> Iterator[None]:
    """Saves of ``order`` inside carry the override and its reason into the audit log."""
    order._audit_note = {"override": override, "reason": reason}  # type: ignore[attr-defined]
    try:
        yield
    finally:
        del order._audit_note  # type: ignore[attr-defined]


def order_force_status(
    order: Order | str,
    *,
    to_status: str,
    actor: User,
    reason: str,
    expected_version: int | None,
    source: EventSource = EventSource.ADMIN,
) -> Order:
    """Force one of the corrections in orders.models.FORCED_MOVES. It is still a django-fsm
    transition (``Order.force``) and an ordinary status event, so every reaction follows: a
    forced activation starts billing, a forced 'submitted' runs eligibility again, a forced
    'provisioning' queues an attempt, and leaving 'exception' closes the case (provisioning
    reacts to ``order_overridden``)."""
    reason = override_check(actor, reason)
    with audit_actor(actor), transaction.atomic():
        locked = order_lock_for_override(order, expected_version=expected_version)
        allowed = FORCED_MOVES.get(locked.status, ())
        if to_status not in allowed:
            choices = ", ".join(OrderStatus(s).label.lower() for s in allowed) or "nothing"
            message = (
                f"Order {locked.display_id} is {locked.get_status_display().lower()}; it cannot "
                f"be forced to {OrderStatus(to_status).label.lower()}"
                if to_status in OrderStatus.values
                else f"Unknown status {to_status!r}"
            ) + f" (allowed from here: {choices})."
            raise OrderError(message, field_errors={"to_status": message})
        with override_audit_note(locked, override="force_status", reason=reason):
            event = _run_transition(
                locked,
                "force",
                actor=actor,
                source=source,
                reason=reason,
                reason_code=events.OVERRIDE_REASON_CODE,
                data={"override": "force_status"},
                args=(to_status,),
            )
        order_overridden.send(sender=Order, order=locked, event=event)
        if locked.status == OrderStatus.SUBMITTED:
            order_due_for_activation.send(sender=Order, order=locked)
    logger.info("order %s forced to %s by %s", locked.pk, to_status, actor)
    return locked


def order_rerun_activation(
    order: Order | str,
    *,
    actor: User,
    reason: str,
    expected_version: int | None = None,
    source: EventSource = EventSource.ADMIN,
) -> Order:
    """Run automatic activation again for an order in the manual pool or in exception (for
    example after the network was fixed, or an area was automated). The order goes to
    'provisioning' and provisioning queues a new attempt requested by ``actor``; an open
    exception case goes to 'retrying', as with the case's own retry."""
    reason = override_check(actor, reason)
    with audit_actor(actor), transaction.atomic():
        locked = order_lock_for_override(order, expected_version=expected_version)
        if locked.status not in RERUN_STATES:
            raise OrderConflict(
                f"Order {locked.display_id} is {locked.get_status_display().lower()}; "
                "activation can be re-run only from the manual pool or an exception."
            )
        with override_audit_note(locked, override="rerun_activation", reason=reason):
            event = _run_transition(
                locked,
                "start_provisioning",
                actor=actor,
                source=source,
                reason=reason,
                reason_code=events.OVERRIDE_REASON_CODE,
                data={"override": "rerun_activation"},
            )
        order_overridden.send(sender=Order, order=locked, event=event)
    return locked


def _json_ready(value: Any) -> Any:
    if isinstance(value, Plan):
        return value.code
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def _edited_values(order: Order, changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` in the form the order stores them, keeping only real differences."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise OrderError(f"These order fields cannot be edited: {', '.join(unknown)}.")
    new: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "plan":
            plan = value if isinstance(value, Plan) else Plan.objects.filter(pk=value).first()
            if plan is None:
                raise OrderError("No such plan.", field_errors={"plan": "No such plan."})
            if plan.pk != order.plan_id:
                new["plan"] = plan
        elif name == "requested_activation_date":
            if value != order.requested_activation_date:
                new[name] = value
        else:
            text = (value or "").strip()
            if name == "service_postcode":
                text = normalize_postcode(text)
            if text != getattr(order, name):
                new[name] = text
    return new


def order_edit_payload(
    order: Order | str,
    *,
    actor: User,
    reason: str,
    changes: dict[str, Any],
    expected_version: int | None,
    source: EventSource = EventSource.ADMIN,
) -> Order:
    """Correct what was ordered (service address, plan, requested date) before activation
    starts: in 'submitted', 'scheduled', 'awaiting manual' or 'exception'.

    Guarantees: a new address or plan is checked for serviceability again (NotServiceable
    otherwise) and the order's service area follows the address. The price stays locked as
    ordered unless the plan changes; then it is the new plan's current price (the customer agreed
    to a different product). A requested date must not be in the past; it decides when a
    scheduled order is released (a date that has come releases it now, a future date on a
    submitted order holds it); for the other states it is recorded for the team. The event
    records every field before and after. The order keeps its status: an edited order in the
    manual pool or in exception is re-run (or forced to 'submitted' to re-check eligibility) as a
    separate decision."""
    reason = override_check(actor, reason)
    with audit_actor(actor), transaction.atomic():
        locked = order_lock_for_override(order, expected_version=expected_version)
        if locked.status not in EDITABLE_STATES:
            raise OrderConflict(
                f"Order {locked.display_id} is {locked.get_status_display().lower()}; it can be "
                "edited only until activation starts."
            )
        new = _edited_values(locked, changes)
        if not new:
            raise OrderError("Nothing to change: the values are the order's current ones.")
        plan: Plan = new.get("plan", locked.plan)
        if "plan" in new or "service_postcode" in new:
            check = serviceability_check(new.get("service_postcode", locked.service_postcode))
            if not check.allows(plan):
                field = "service_postcode" if not check.serviceable else "plan"
                message = (
                    check.message
                    if not check.serviceable
                    else f"{plan.name} ({plan.speed_tier}) is not available at this address."
                )
                raise NotServiceable(message, field_errors={field: message})
            if check.area is not None and check.area.pk != locked.service_area_id:
                new["service_area"] = check.area
        if "plan" in new:
            new["monthly_price"] = plan.monthly_price
            new["currency"] = plan.currency
        requested = new.get("requested_activation_date")
        today = timezone.localdate()
        if requested is not None and requested < today:
            message = "The requested activation date is in the past."
            raise OrderError(message, field_errors={"requested_activation_date": message})

        diff = {
            name: {
                "before": _json_ready(getattr(locked, name)),
                "after": _json_ready(value),
            }
            for name, value in new.items()
        }
        for name, value in new.items():
            setattr(locked, name, value)
        locked.version += 1
        with override_audit_note(locked, override="edit_payload", reason=reason):
            try:
                with transaction.atomic():
                    locked.save(update_fields=[*new, "version", "updated_at"])
            except IntegrityError:
                raise OrderError(
                    "Another open order of this customer already has this address and plan."
                ) from None
            events.order_edited(
                order=locked, actor=actor, source=source, reason=reason, changes=diff
            )
            if "requested_activation_date" in new:
                order_follow_requested_date(locked, actor=actor, source=source, today=today)
    return locked
