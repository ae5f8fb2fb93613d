"""Cancelling an order from the pages: the staff's "Cancel order" card (the sales order page,
support's order view) and the customer's "Cancel this order" on their own order page.

The pages only ask and report: ``orders.services.order_cancel`` decides (the point of no
return, an order already closed or being cancelled) and ``order_cancellation_refusal`` says,
before anyone clicks, whether it would. A card shows the form only when the order can still be
cancelled, otherwise why not. Staff need ``orders.cancel_order`` and must see the order; a
customer cancels only an order of their own (portal.views).

Staff may give a later date ("Cancel on date"): the cancellation is then scheduled for the
start of that day (orders.scheduled_cancellations) and the card shows it, with "Withdraw"; the
customer's page says when the order will be cancelled and lets them keep it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from django import forms
from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django_fsm import ConcurrentTransition

from orders.errors import CancellationRefused, OrderConflict, OrderError
from orders.milestones import start_of_day
from orders.models import Order, ScheduledCancellation
from orders.scheduled_cancellations import (
    order_cancellation_schedule,
    order_cancellation_withdraw,
    scheduled_cancellation_of,
)
from orders.services import order_cancel, order_cancellation_refusal
from orders.states import EventSource, OrderStatus

CANCEL_PERMISSION = "orders.cancel_order"
# What a customer who gives no reason is recorded as saying.
CUSTOMER_DEFAULT_REASON = "Cancelled by the customer online."
REASON_MAX_LENGTH = 1000
CONCURRENT_CHANGE = "Someone else changed this order at the same moment. Reload and try again."
CUSTOMER_CONCURRENT_CHANGE = (
    "Your order changed while you were looking at it. Here it is as it is now: please check "
    "it and try again."
)
# Where the customer's page sends them when the order can no longer be changed online.
CUSTOMER_CANNOT_CHANGE = "This order can no longer be changed online."


class CancelOrderForm(forms.Form):
    """Staff: why the order is cancelled (mandatory, on the order's history under their name).
    ``expected_status`` is the status the page showed: if the order moved meanwhile the
    cancellation is refused as a conflict instead of cancelling something nobody looked at."""

    reason = forms.CharField(
        label="Reason",
        max_length=REASON_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "A reason is required: say why the order is cancelled."},
        help_text="Recorded in the order's history under your name.",
    )
    cancel_on = forms.DateField(
        label="Cancel on date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date such as 2027-03-31."},
        help_text="Leave empty to cancel now. A later date: the order goes on until then and is "
        "cancelled at the start of that day, unless its point of no return has passed by then; "
        "the cancellation can be withdrawn until then.",
    )
    expected_status = forms.ChoiceField(
        choices=OrderStatus.choices, required=False, widget=forms.HiddenInput
    )


class CustomerCancelForm(forms.Form):
    """The customer's own cancellation: a reason is welcome, not required."""

    reason = forms.CharField(
        label="Tell us why",
        max_length=REASON_MAX_LENGTH,
        strip=True,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    expected_status = forms.ChoiceField(
        choices=OrderStatus.choices, required=False, widget=forms.HiddenInput
    )


@dataclass(frozen=True)
class CancelCard:
    """What an order page shows about cancelling: the form, or why the order can no longer be
    cancelled (``refusal``), plus the error of an attempt that was just refused."""

    form: forms.Form | None
    refusal: CancellationRefused | None
    error: str = ""
    # The cancellation waiting for its date, if one is scheduled.
    scheduled: ScheduledCancellation | None = None

    @property
    def shown(self) -> bool:
        """Worth a card: a closed order's status already says it all, unless an attempt
        was just refused."""
        closed = self.refusal is not None and self.refusal.reason_code == CancellationRefused.CLOSED
        return bool(self.error) or not closed or self.scheduled is not None

    @property
    def scheduled_day(self) -> str:
        """The scheduled cancellation's day, as people read it ("31 March 2027")."""
        if self.scheduled is None:
            return ""
        return date_format(timezone.localtime(self.scheduled.due_at), "j F Y")

    @property
    def refusal_message(self) -> str:
        """The refusal's message, unless the error of the attempt already says it."""
        if self.refusal is None or self.refusal.message == self.error:
            return ""
        return self.refusal.message


def _fresh_form(form_class: type[forms.Form], order: Order, *, reason: str = "") -> forms.Form:
    return form_class(initial={"reason": reason, "expected_status": order.status})


def cancel_card(
    order: Order,
    *,
    form_class: type[forms.Form] = CancelOrderForm,
    form: forms.Form | None = None,
    error: str = "",
) -> CancelCard:
    """The card for ``order`` as it is now (the caller checked the user may cancel)."""
    refusal = order_cancellation_refusal(order)
    scheduled = scheduled_cancellation_of(order)
    if refusal is not None:
        return CancelCard(form=None, refusal=refusal, error=error, scheduled=scheduled)
    return CancelCard(
        form=form or _fresh_form(form_class, order),
        refusal=None,
        error=error,
        scheduled=scheduled,
    )


def staff_cancel_card(user: User | AnonymousUser, order: Order) -> CancelCard | None:
    """The staff card, for those who may cancel; None (no card) for the others."""
    if not user.has_perm(CANCEL_PERMISSION):
        return None
    return cancel_card(order)


@dataclass(frozen=True)
class CancelAttempt:
    """The outcome of a posted cancel form: ``cancelled`` (the order as the service left it)
    on success, else the card to show again with the errors."""

    cancelled: Order | None
    card: CancelCard | None = None
    scheduled: ScheduledCancellation | None = None


# The scheduling service names the moment; the form calls it "Cancel on date".
FORM_FIELDS = {"due_at": "cancel_on"}


def cancel_from_form(
    request: HttpRequest,
    order: Order,
    *,
    form_class: type[forms.Form],
    source: EventSource,
    default_reason: str = "",
    for_customer: bool = False,
) -> CancelAttempt:
    """Validate the posted form and ask ``order_cancel``. Field errors stay next to their
    field; a refusal (the point of no return passed, a concurrent change) is shown on the
    card, with the order as it is now and nothing changed. ``for_customer``: the refusal is
    told in customer words, never the internal message."""
    form = form_class(request.POST)
    if not form.is_valid():
        return CancelAttempt(None, cancel_card(order, form_class=form_class, form=form))
    reason = form.cleaned_data["reason"] or default_reason
    day = form.cleaned_data.get("cancel_on")
    try:
        if day is not None:
            scheduled = order_cancellation_schedule(
                order,
                due_at=start_of_day(day),
                reason=reason,
                actor=cast(User, request.user),
                source=source,
            )
            return CancelAttempt(None, scheduled=scheduled)
        cancelled = order_cancel(
            order,
            actor=cast(User, request.user),  # every cancel view requires a signed-in user
            reason=reason,
            source=source,
            expected_status=form.cleaned_data["expected_status"] or None,
        )
    except CancellationRefused as exc:
        error = customer_refusal_text(exc, cannot=True) if for_customer else exc.message
    except OrderError as exc:
        if exc.field_errors and not for_customer:
            for field, message in exc.field_errors.items():
                field = FORM_FIELDS.get(field, field)
                form.add_error(field if field in form.fields else None, message)
            return CancelAttempt(None, cancel_card(order, form_class=form_class, form=form))
        error = CUSTOMER_CONCURRENT_CHANGE if for_customer else exc.message
    except ConcurrentTransition:
        error = CUSTOMER_CONCURRENT_CHANGE if for_customer else CONCURRENT_CHANGE
    else:
        return CancelAttempt(cancelled)
    order.refresh_from_db()
    card = cancel_card(
        order,
        form_class=form_class,
        form=_fresh_form(form_class, order, reason=form.cleaned_data["reason"]),
        error=error,
    )
    return CancelAttempt(None, card)


def staff_cancelled_message(order: Order) -> str:
    if order.status == OrderStatus.CANCELLING:
        return (
            f"Order {order.display_id} is being cancelled: what was done on the network is "
            "being undone."
        )
    return f"Order {order.display_id} cancelled."


def staff_scheduled_message(scheduled: ScheduledCancellation) -> str:
    day = date_format(timezone.localtime(scheduled.due_at), "j F Y")
    return (
        f"Order {scheduled.order.display_id} will be cancelled on {day}. It goes on as it is "
        "until then; the cancellation can be withdrawn from this page."
    )


def withdraw_from_post(
    request: HttpRequest, order: Order, *, source: EventSource, for_customer: bool = False
) -> tuple[bool, str]:
    """Withdraw the order's scheduled cancellation (the caller checked the user may): whether
    it was withdrawn, and the message to show either way."""
    try:
        order_cancellation_withdraw(order, actor=cast(User, request.user), source=source)
    except OrderConflict as exc:
        if for_customer:
            return False, "This order has no cancellation waiting any more."
        return False, exc.message
    if for_customer:
        return True, f"We will not cancel your order {order.display_id}: it goes on as planned."
    return True, f"The scheduled cancellation of order {order.display_id} is withdrawn."


def customer_cancelled_message(order: Order) -> str:
    if order.status == OrderStatus.CANCELLING:
        return (
            f"Your order {order.display_id} is being cancelled: we are undoing what was "
            "already set up."
        )
    return f"Your order {order.display_id} is cancelled."


# Why the customer can no longer cancel online, in their words (never the internal message,
# which names the task and its time). The point of no return of today's plans is the line's
# activation: the add-ons' plans have none of their own.
CUSTOMER_REFUSAL_TEXT = {
    CancellationRefused.PONR: "Your line is being switched on.",
    CancellationRefused.CANCELLING: "Your order is already being cancelled.",
    CancellationRefused.CLOSED: "This order is closed.",
}


def customer_refusal_text(refusal: CancellationRefused, *, cannot: bool = False) -> str:
    """Why a customer can no longer cancel, in their words: the reason code picks the
    sentence. ``cannot``: led by "This order can no longer be changed online."."""
    why = CUSTOMER_REFUSAL_TEXT.get(refusal.reason_code, "")
    return f"{CUSTOMER_CANNOT_CHANGE} {why}".strip() if cannot else why
