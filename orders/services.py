"""Writes to orders. Every status change goes through ``_transition``: lock the row, run the
django-fsm transition, save, write the status event, announce it; all in one transaction.
Side effects leave only through the outbox, after commit."""

from __future__ import annotations

import datetime
import enum
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django_fsm import can_proceed

from orders import events
from orders.cancellation import cancellation_refusal, plan_standing
from orders.errors import (
    CancellationRefused,
    DuplicateOrder,
    NotServiceable,  # noqa: F401  (re-exported: order_submit raises it)
    OrderConflict,
    OrderError,
)
from orders.groups import group_cancellation_refusal, group_waited_pk
from orders.intake import CustomerDetails, OrderIntake, order_intake
from orders.items import (
    ItemRequest,
    ItemsInvalid,
    items_create,
    items_for,
    items_totals,
)
from orders.log_context import log_context_bind, log_context_scope
from orders.models import (
    Customer,
    DuplicateEntry,
    DuplicateKind,
    Order,
    OrderEvent,
    OrderGroup,
    Plan,
    normalize_postcode,
)
from orders.roles import Role
from orders.signals import (
    customer_registered,
    order_activated,
    order_due_for_activation,
    order_status_changed,
)
from orders.states import OPEN_STATES, EventSource, OrderStatus

logger = logging.getLogger(__name__)


def normalize_phone(phone: str) -> str:
    """One spelling per number: national numbers of the home country as dialled at home
    ('07700900123' for '+44 7700 900123'), others in international form ('+33612345678')."""
    raw = phone.strip()
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+"):
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    else:
        return digits
    home = settings.PHONE_COUNTRY_CODE
    if international.startswith(home):
        return "0" + international[len(home) :]
    return "+" + international


def normalize_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class OrderSubmission:
    order: Order
    created: bool
    customer_created: bool


def customer_find(*, email: str) -> Customer | None:
    """The customer with this e-mail address (case and surrounding spaces aside), if any. Not
    by phone: a household shares a number (see customers_sharing_phone)."""
    if not email.strip():
        return None
    return (
        Customer.objects.annotate(email_ci=Lower("email"))
        .filter(email_ci=normalize_email(email))
        .first()
    )


# How many customers sharing one number are offered to the person taking an order.
PHONE_MATCH_LIMIT = 5


def customers_sharing_phone(phone: str) -> list[Customer]:
    """The customers (oldest first, at most PHONE_MATCH_LIMIT) whose number is ``phone``,
    however it is spelt. A household shares a number: these are suggestions, never matches."""
    return list(
        Customer.objects.filter(phone=normalize_phone(phone)).order_by("created_at", "pk")[
            :PHONE_MATCH_LIMIT
        ]
    )


class PhoneMatch(enum.Enum):
    """What ``order_submit`` does when the phone number, and not the e-mail, is a customer's."""

    ASK = "ask"  # refuse with CustomerUnconfirmed: the person taking the order decides
    NEW_CUSTOMER = "new"  # a new customer with the typed details (a channel nobody can ask)


class CustomerUnconfirmed(OrderError):
    """The e-mail is nobody's but the phone number is an existing customer's: the person
    taking the order must say whether it is for them (``same_customer``) or for a new
    customer (``PhoneMatch.NEW_CUSTOMER``). ``candidates`` are the customers with that number."""

    def __init__(self, candidates: list[Customer]) -> None:
        if len(candidates) == 1:
            message = (
                "This phone number belongs to an existing customer, the e-mail address to "
                "nobody. Choose whether the order is for that customer or for a new one."
            )
        else:
            message = (
                f"This phone number belongs to {len(candidates)} customers, the e-mail address "
                "to nobody. Choose whether the order is for one of them or for a new customer."
            )
        super().__init__(message, field_errors={"same_customer": message})
        self.candidates = candidates


def _customer_for(
    details: CustomerDetails, *, phone_match: PhoneMatch, same_customer: int | None
) -> tuple[Customer, bool]:
    """The order's customer: the one with this e-mail (normalised, exact); else the one the
    person confirmed, if it still has this phone number; else a new customer, unless the
    number is a customer's and ``phone_match`` says to ask. Never merges on a phone alone."""
    existing = customer_find(email=details.email)
    if existing is not None:
        return existing, False
    phone = normalize_phone(details.phone)
    if same_customer is not None:
        confirmed = Customer.objects.filter(pk=same_customer, phone=phone).first()
        if confirmed is not None:
            return confirmed, False
    if phone_match is PhoneMatch.ASK:
        candidates = customers_sharing_phone(phone)
        if candidates:
            # A concurrent first order for this e-mail may have committed its customer between
            # the two lookups (each statement sees the latest commits): that is no phone match.
            existing = customer_find(email=details.email)
            if existing is not None:
                return existing, False
            raise CustomerUnconfirmed(candidates)
    customer = Customer.objects.create(
        name=details.name.strip(),
        email=normalize_email(details.email),
        phone=normalize_phone(details.phone),
        address_line1=details.address_line1.strip(),
        address_line2=details.address_line2.strip(),
        city=details.city.strip(),
        postcode=normalize_postcode(details.postcode),
    )
    return customer, True


def duplicate_entry_record(kind: DuplicateKind, *, order: Order, channel: str) -> None:
    """Count one entry the system kept from being made twice (orders.models.duplicates), in
    the caller's transaction."""
    DuplicateEntry.objects.create(kind=kind, order=order, channel=channel)


def _replayed(order: Order, *, channel: str) -> OrderSubmission:
    """The answer to a submission repeated under the same idempotency key: the first order."""
    duplicate_entry_record(DuplicateKind.REPLAYED, order=order, channel=channel)
    return OrderSubmission(order=order, created=False, customer_created=False)


# Attempts at taking one order when a concurrent one wins a unique constraint first.
SUBMIT_ATTEMPTS = 3


def order_submit(
    *,
    customer: CustomerDetails,
    plan: Plan | None = None,
    add_ons: Sequence[Plan] = (),
    items: Sequence[ItemRequest] | None = None,
    requested_activation_date: datetime.date | None,
    channel: EventSource,
    submitted_by: User | None,
    idempotency_key: str | None = None,
    external_id: str = "",
    phone_match: PhoneMatch = PhoneMatch.NEW_CUSTOMER,
    same_customer: int | None = None,
) -> OrderSubmission:
    """Take an order. Guarantees: the same idempotency key never yields a second order; an open
    order for the same customer, address and plan raises DuplicateOrder; an unserviceable
    address raises NotServiceable; on success the order is 'submitted' (or 'scheduled' when
    future-dated) with its history row, and activation is queued after commit.

    The customer is the one with this e-mail address (normalised); a phone number alone never
    attaches the order to someone: with ``phone_match`` ASK it raises CustomerUnconfirmed until
    the person names the customer (``same_customer``) or asks for a new one (NEW_CUSTOMER).
    Concurrent submissions are settled by the unique constraints: the one that loses sees what
    the winner committed and answers from it (its order for the same key, DuplicateOrder, or
    its own order for the customer the winner created). Nothing is half-written.

    The order holds ``items`` (ItemRequest: the line and add-ons relying on it, as TMF622
    states them) or, more simply, the line's ``plan`` and its ``add_ons``. The combination is
    checked by orders.items (ItemsInvalid names each item and its rule); prices are locked
    per item, and the order keeps their totals."""
    if items is None:
        if plan is None:
            raise TypeError("order_submit needs a plan or items")
        items = items_for(plan, add_ons)
    if idempotency_key:
        prior = Order.objects.filter(idempotency_key=idempotency_key).first()
        if prior is not None:
            return _replayed(prior, channel=channel)
    intake = order_intake(
        customer=customer, items=items, requested_activation_date=requested_activation_date
    )
    for _attempt in range(SUBMIT_ATTEMPTS):
        try:
            with transaction.atomic():
                submission = order_take(
                    intake,
                    channel=channel,
                    submitted_by=submitted_by,
                    idempotency_key=idempotency_key,
                    external_id=external_id,
                    phone_match=phone_match,
                    same_customer=same_customer,
                )
        except DuplicateOrder as exc:
            # Counted where it happens (the duplicate-entry KPI), after the attempt's rollback;
            # a caller whose own transaction rolls back on the error records it again after
            # that (tmf.productorder.services), so it is counted once either way.
            duplicate_entry_record(DuplicateKind.REFUSED, order=exc.existing, channel=channel)
            raise
        except IntegrityError:
            # A concurrent twin won a unique constraint (the key, the customer's e-mail, the
            # open order) and has committed; this attempt was rolled back whole. The next one
            # sees the winner's rows and answers from them.
            if idempotency_key:
                prior = Order.objects.filter(idempotency_key=idempotency_key).first()
                if prior is not None:
                    return _replayed(prior, channel=channel)
            logger.info("order submission lost a race (attempt %s); retrying", _attempt + 1)
            continue
        if submission.created:
            logger.info("order %s submitted via %s", submission.order.pk, channel)
        return submission
    raise OrderConflict(
        "Another order for this customer was being taken at the same moment. Submit again."
    )


def order_take(
    intake: OrderIntake,
    *,
    channel: EventSource,
    submitted_by: User | None,
    idempotency_key: str | None = None,
    external_id: str = "",
    phone_match: PhoneMatch = PhoneMatch.NEW_CUSTOMER,
    same_customer: int | None = None,
    group: OrderGroup | None = None,
    waits_for: Order | None = None,
    hold: str = "",
) -> OrderSubmission:
    """One attempt of order_submit, inside the caller's transaction (which retries on an
    IntegrityError). The order joins ``group``; with ``hold`` (the reason) it is held
    (scheduled) whatever its date, until something releases it: orders.moves holds the old
    line's cease until the new line, ``waits_for``, is live."""
    customer, plan, items, live = intake.customer, intake.plan, intake.items, intake.live
    area, requested_activation_date = intake.area, intake.requested_activation_date
    cust, customer_created = _customer_for(
        customer, phone_match=phone_match, same_customer=same_customer
    )
    if live is not None and live.customer_id != cust.pk:
        # The item naming the line: noChange (add-ons), modify or delete (a change to it).
        named = next((item for item in items if item.product_id == live.product_id), items[0])
        raise ItemsInvalid({named.item_id: f"{live.name} is not this customer's line."})
    postcode = normalize_postcode(customer.postcode)
    line1 = customer.address_line1.strip()
    if live is not None:  # one order in flight per live line
        open_duplicate = Order.objects.filter(
            product_ref=live.product_id, status__in=OPEN_STATES
        ).first()
    else:
        open_duplicate = Order.objects.filter(
            customer=cust,
            plan=plan,
            service_postcode=postcode,
            service_address_line1=line1,
            status__in=OPEN_STATES,
            product_ref__isnull=True,
        ).first()
    if open_duplicate is not None:
        if idempotency_key and open_duplicate.idempotency_key == idempotency_key:
            # Our own twin (same key) committed while we waited for the write lock.
            return _replayed(open_duplicate, channel=channel)
        raise DuplicateOrder(open_duplicate, line=live.name if live is not None else "")
    monthly, once = items_totals(items)
    order = Order.objects.create(
        customer=cust,
        plan=plan,
        service_address_line1=line1,
        service_address_line2=customer.address_line2.strip(),
        service_city=customer.city.strip(),
        service_postcode=postcode,
        service_area=area,
        monthly_price=monthly,
        one_time_price=once,
        currency=plan.currency,
        requested_activation_date=requested_activation_date,
        channel=channel,
        submitted_by=submitted_by if submitted_by and submitted_by.is_authenticated else None,
        idempotency_key=idempotency_key or None,
        external_id=external_id,
        product_ref=live.product_id if live is not None else None,
        group=group,
        waits_for=waits_for,
    )
    log_context_bind(order_id=order.pk)  # the rest of this request's log lines are about it
    items_create(order, items, live=live)
    if not customer_created and live is None:
        duplicate_entry_record(DuplicateKind.CUSTOMER_MATCHED, order=order, channel=channel)
    event = events.status_changed(
        order=order,
        from_status="",
        to_status=OrderStatus.SUBMITTED,
        actor=submitted_by,
        source=channel,
        reason="Order submitted." + (" New customer." if customer_created else ""),
    )
    order_status_changed.send(sender=Order, order=order, event=event)
    if customer_created:
        customer_registered.send(sender=Customer, customer=cust, order=order)
    if hold:
        order = _apply(order, "schedule", actor=submitted_by, source=channel, reason=hold)
    elif requested_activation_date and requested_activation_date > intake.today:
        order = _apply(
            order,
            "schedule",
            actor=submitted_by,
            source=channel,
            reason=f"Held until {requested_activation_date.isoformat()}.",
        )
    else:
        order_due_for_activation.send(sender=Order, order=order)
    return OrderSubmission(order=order, created=True, customer_created=customer_created)


def _run_transition(
    order: Order,
    transition_name: str,
    *,
    actor: User | None,
    source: EventSource,
    reason: str = "",
    reason_code: str = "",
    data: dict[str, Any] | None = None,
    args: tuple[Any, ...] = (),
) -> OrderEvent:
    """Run one transition on an order already locked by the caller's transaction; returns the
    status event it wrote."""
    method = getattr(order, transition_name)
    if not can_proceed(method):
        raise OrderConflict(
            f"Order {order.display_id} is {order.get_status_display().lower()}; "
            f"it cannot {transition_name.replace('_', ' ')} now."
        )
    from_status = order.status
    method(*args)
    order.version += 1
    order.save(
        update_fields=[
            "status",
            "activated_at",
            "completed_at",
            "closed_at",
            "updated_at",
            "version",
        ]
    )
    event = events.status_changed(
        order=order,
        from_status=from_status,
        to_status=order.status,
        actor=actor,
        source=source,
        reason=reason,
        reason_code=reason_code,
        data=data,
    )
    order_status_changed.send(sender=Order, order=order, event=event)
    if order.status == OrderStatus.ACTIVATED:
        order_activated.send(sender=Order, order=order, event=event)
    return event


def _apply(
    order: Order,
    transition_name: str,
    *,
    actor: User | None,
    source: EventSource,
    reason: str = "",
    reason_code: str = "",
    data: dict[str, Any] | None = None,
    args: tuple[Any, ...] = (),
) -> Order:
    _run_transition(
        order,
        transition_name,
        actor=actor,
        source=source,
        reason=reason,
        reason_code=reason_code,
        data=data,
        args=args,
    )
    return order


def _order_pk(order: Order | str) -> str:
    return order if isinstance(order, str) else str(order.pk)


def order_lock(order_pk: str) -> Order:
    """The order row, locked for the rest of the current transaction. Only the order's own row
    (OF self): its plan and customer are read with it, not locked, so that orders of one plan or
    one customer never wait for each other. FOR NO KEY UPDATE, because the order's key never
    changes: rows that refer to the order (its events, tasks, attempts, messages) can still be
    written by others meanwhile. A plain FOR UPDATE would make each such insert wait for the
    holder, and a holder that then waits for the inserting worker's task row deadlocks."""
    log_context_bind(order_id=order_pk)
    return (
        Order.objects.select_for_update(of=("self",), no_key=True)
        .select_related("plan", "customer")
        .get(pk=order_pk)
    )


def order_lock_in_group(order_pk: str) -> Order:
    """The order row locked as order_lock does, after the order it waits for (a move's new line,
    orders.moves), if any: the new line's activation locks the pair in that order, so anything
    that may go on to change both (a cancel, an override) must take them in the same one."""
    waited = group_waited_pk(order_pk)
    if waited is not None:
        order_lock(waited)
    return order_lock(order_pk)


def _transition(
    order: Order | str,
    transition_name: str,
    *,
    actor: User | None,
    source: EventSource,
    reason: str = "",
    reason_code: str = "",
    expected_status: str | None = None,
    data: dict[str, Any] | None = None,
    args: tuple[Any, ...] = (),
) -> Order:
    with transaction.atomic():
        locked = order_lock(_order_pk(order))
        if expected_status is not None and locked.status != expected_status:
            raise OrderConflict(
                f"Order {locked.display_id} changed while you were looking at it: it is now "
                f"{locked.get_status_display().lower()}. Reload and try again."
            )
        return _apply(
            locked,
            transition_name,
            actor=actor,
            source=source,
            reason=reason,
            reason_code=reason_code,
            data=data,
            args=args,
        )


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise OrderError("A reason is required.", field_errors={"reason": "A reason is required."})
    return reason


def order_release(
    order: Order | str,
    *,
    source: EventSource = EventSource.SCHEDULER,
    reason: str = "Requested activation date reached.",
) -> Order:
    """A scheduled order's date has come (or what it waits for is done): back to 'submitted',
    activation queued."""
    with transaction.atomic():
        locked = order_lock(_order_pk(order))
        released = _apply(
            locked,
            "release",
            actor=None,
            source=source,
            reason=reason,
        )
        order_due_for_activation.send(sender=Order, order=released)
        return released


def orders_release_due(*, today: datetime.date | None = None) -> int:
    """Release every scheduled order whose requested date has come, but for one that waits
    for another order's line to go live (orders.moves releases it then). Returns how many."""
    today = today or timezone.localdate()
    due = (
        Order.objects.filter(status=OrderStatus.SCHEDULED, requested_activation_date__lte=today)
        .filter(waits_for__isnull=True)
        .values_list("pk", flat=True)
    )
    released = 0
    for pk in list(due):
        with log_context_scope(order_id=pk):
            try:
                order_release(pk)
                released += 1
            except OrderConflict:
                logger.info("order %s changed before release; skipped", pk)
    return released


def order_reject(
    order: Order | str,
    *,
    reason_code: str,
    reason: str,
    source: EventSource,
    actor: User | None = None,
) -> Order:
    return _transition(
        order, "reject", actor=actor, source=source, reason=reason, reason_code=reason_code
    )


def order_route_to_manual(
    order: Order | str, *, reason_code: str, reason: str, source: EventSource
) -> Order:
    return _transition(
        order, "route_to_manual", actor=None, source=source, reason=reason, reason_code=reason_code
    )


def order_start_provisioning(
    order: Order | str,
    *,
    source: EventSource,
    actor: User | None = None,
    reason: str = "",
    expected_status: str | None = None,
) -> Order:
    return _transition(
        order,
        "start_provisioning",
        actor=actor,
        source=source,
        reason=reason or "Activation started.",
        expected_status=expected_status,
    )


def order_hold(order: Order | str, *, reason_code: str, reason: str) -> Order:
    return _transition(
        order,
        "hold",
        actor=None,
        source=EventSource.PROVISIONING,
        reason=reason,
        reason_code=reason_code,
    )


def order_activate(order: Order | str, *, reason: str = "Line activated on the network.") -> Order:
    return _transition(
        order, "activate", actor=None, source=EventSource.PROVISIONING, reason=reason
    )


def order_confirm_manual_activation(
    order: Order | str,
    *,
    actor: User,
    reason: str,
    source: EventSource,
    expected_status: str | None = None,
) -> Order:
    """A person vouches that the line is live (manual pool, or an override of a failure)."""
    return _transition(
        order,
        "confirm_manual_activation",
        actor=actor,
        source=source,
        reason=_require_reason(reason),
        reason_code="MANUAL_OVERRIDE",
        expected_status=expected_status,
    )


def order_complete(
    order: Order | str,
    *,
    reason: str,
    actor: User | None = None,
    source: EventSource = EventSource.BILLING,
    partial: bool = False,
) -> Order:
    """Close an activated order: ``partial`` when some of its items were not delivered."""
    return _transition(
        order, "complete", actor=actor, source=source, reason=reason, args=(partial,)
    )


def order_cancel(
    order: Order | str,
    *,
    actor: User | None,
    reason: str,
    source: EventSource,
    expected_status: str | None = None,
) -> Order:
    """Cancel the order for ``reason``: ``cancelled`` at once when nothing was done on the
    network, else ``cancelling`` while its plan undoes what it did (provisioning compensates,
    then finishes the cancellation). Raises CancellationRefused past the point of no return
    or when the order is live or closed (orders.cancellation), OrderConflict when it is no
    longer in ``expected_status``. The plan's tasks are held while deciding, so a task that
    would pass the point of no return meanwhile waits, and then finds it cancelled. An order
    of a move is cancelled with the other one (orders.moves), or not at all (orders.groups)."""
    reason = _require_reason(reason)
    with transaction.atomic():
        locked = order_lock_in_group(_order_pk(order))
        if expected_status is not None and locked.status != expected_status:
            raise OrderConflict(
                f"Order {locked.display_id} changed while you were looking at it: it is now "
                f"{locked.get_status_display().lower()}. Reload and try again."
            )
        standing = plan_standing(locked, lock=True)
        refusal = cancellation_refusal(locked, standing) or group_cancellation_refusal(locked)
        if refusal is not None:
            raise refusal
        name = "cancel_start" if standing.has_work_to_undo else "cancel"
        return _apply(locked, name, actor=actor, source=source, reason=reason)


def order_cancellation_refusal(order: Order) -> CancellationRefused | None:
    """Why the order cannot be cancelled now (for pages to say before anyone asks), or None."""
    return cancellation_refusal(order)


def order_cancel_finish(order: Order, *, reason: str) -> Order:
    """Every undo of a cancelled order's plan is done: it is cancelled. The order locked."""
    return _apply(
        order, "cancel_finish", actor=None, source=EventSource.PROVISIONING, reason=reason
    )


def order_follow_requested_date(
    order: Order, *, actor: User | None, source: EventSource, today: datetime.date
) -> None:
    """After the requested date of a locked order changed: a scheduled order whose date has
    come (or was cleared) is released for activation now; a submitted order given a later
    date is held until then. Other states only record the date."""
    requested = order.requested_activation_date
    if order.waits_for_id is not None:
        return  # held for another order's line, not for a date (orders.moves)
    if order.status == OrderStatus.SCHEDULED and (requested is None or requested <= today):
        _apply(order, "release", actor=actor, source=source, reason="Requested date edited.")
        order_due_for_activation.send(sender=Order, order=order)
    elif order.status == OrderStatus.SUBMITTED and requested is not None and requested > today:
        _apply(
            order,
            "schedule",
            actor=actor,
            source=source,
            reason=f"Held until {requested.isoformat()} (requested date edited).",
        )


_UNCHANGED: Any = object()


@dataclass(frozen=True)
class OrderAmendment:
    order: Order
    changed: tuple[str, ...]


def order_amend(
    order: Order | str,
    *,
    actor: User | None,
    source: EventSource,
    external_id: str | None = None,
    requested_activation_date: datetime.date | None = _UNCHANGED,
    notes: tuple[str, ...] = (),
) -> OrderAmendment:
    """What the ordering party may still change itself, without an override: its own
    reference, notes for the team, and the requested date while the order has not started
    (received or scheduled; a date that has come releases it, a later one holds it). Every change
    is on the timeline. Returns the order and the fields that really changed (compared under
    the row lock, so a concurrent change is not reported as this one)."""
    today = timezone.localdate()
    with transaction.atomic():
        locked = order_lock(_order_pk(order))
        changes: dict[str, dict[str, Any]] = {}
        if external_id is not None and external_id != locked.external_id:
            changes["external_id"] = {"before": locked.external_id, "after": external_id}
            locked.external_id = external_id
        if (
            requested_activation_date is not _UNCHANGED
            and requested_activation_date != locked.requested_activation_date
        ):
            if locked.status not in (OrderStatus.SUBMITTED, OrderStatus.SCHEDULED):
                raise OrderConflict(
                    f"Order {locked.display_id} is {locked.get_status_display().lower()}; the "
                    "requested date can change only before activation starts."
                )
            if requested_activation_date is not None and requested_activation_date < today:
                message = "The requested activation date is in the past."
                raise OrderError(message, field_errors={"requested_activation_date": message})
            changes["requested_activation_date"] = {
                "before": locked.requested_activation_date.isoformat()
                if locked.requested_activation_date
                else None,
                "after": requested_activation_date.isoformat()
                if requested_activation_date
                else None,
            }
            locked.requested_activation_date = requested_activation_date
        if changes:
            locked.version += 1
            locked.save(update_fields=[*changes, "version", "updated_at"])
            events.order_amended(order=locked, actor=actor, source=source, changes=changes)
            if "requested_activation_date" in changes:
                order_follow_requested_date(locked, actor=actor, source=source, today=today)
        for text in notes:
            events.note(order=locked, actor=actor, source=source, text=text)
    return OrderAmendment(order=locked, changed=tuple(changes))


# --- customers and their sign-in -----------------------------------------------------------------
def customer_link_user(customer: Customer | int, user: User) -> Customer:
    """Make ``user`` the customer's sign-in: they join the customer group and may see the
    customer and all its orders, existing and future (orders.access grants the object
    permissions on save). A user linked before is unlinked and loses those grants. Refuses a
    user who already belongs to another customer."""
    with transaction.atomic():
        pk = customer.pk if isinstance(customer, Customer) else customer
        locked = Customer.objects.select_for_update().get(pk=pk)
        other = Customer.objects.filter(user=user).exclude(pk=locked.pk).first()
        if other is not None:
            raise OrderError(f"The account {user.get_username()} already belongs to {other}.")
        locked.user = user
        locked.save(update_fields=["user"])  # orders.access syncs the grants on this save
        user.groups.add(Group.objects.get(name=Role.CUSTOMER.value))
        return locked
