"""Amending an order from the pages: the staff's "Change this order" (from the sales order page
and support's order view) and the customer's "Change my order" on their own order page.

The pages only ask and report: ``orders.amendments.order_amend_items`` decides about the plan
and the add-ons (until the point of no return), ``orders.services.order_amend`` about the
requested date (until activation starts), and ``amendment_refusal`` says beforehand why an
order can no longer be changed, shown instead of the form. Staff need ``orders.add_order``
(sales) or ``orders.cancel_order`` (support) and must see the order; a customer changes only
an order of their own (404 otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from orders.access import VIEW_ORDER, order_get_for_user, own_orders
from orders.amendments import AmendmentRefused, amendment_refusal, order_amend_items
from orders.errors import CancellationRefused, OrderConflict, OrderError
from orders.forms_amend import AmendOrderForm
from orders.items import ItemsInvalid
from orders.models import Order
from orders.services import order_amend, order_lock
from orders.states import EventSource
from orders.views_cancel import CUSTOMER_CANNOT_CHANGE, CUSTOMER_CONCURRENT_CHANGE

AMEND_PERMISSIONS = ("orders.add_order", "orders.cancel_order")
NOTHING_CHANGED = "Nothing to change: the order already has this plan, these add-ons and date."
CUSTOMER_NOTHING_CHANGED = "Your order already has this plan, these add-ons and this date."
# Why a customer can no longer change the order online, in their words (never the internal
# message, which names the task and its time).
CUSTOMER_AMEND_REFUSAL = {
    CancellationRefused.PONR: "We have started switching your line on.",
    CancellationRefused.CANCELLING: "Your order is being cancelled.",
    CancellationRefused.CLOSED: "This order is closed.",
    "LIVE": "It is about your live line: call us to change it.",
}
CUSTOMER_BUSY = "We are working on your order at this moment: please try again in a minute."


def may_amend(user: User | AnonymousUser) -> bool:
    return any(user.has_perm(permission) for permission in AMEND_PERMISSIONS)


def customer_amend_refusal_text(refusal: OrderError) -> str:
    """ "This order can no longer be changed online." and the plain reason."""
    code = getattr(refusal, "reason_code", "")
    return f"{CUSTOMER_CANNOT_CHANGE} {CUSTOMER_AMEND_REFUSAL.get(code, '')}".strip()


@dataclass(frozen=True)
class AmendAttempt:
    """A posted form's outcome: ``amended`` (the order now) or the form with its errors and
    the refusal of the whole change (``error``)."""

    amended: Order | None
    form: AmendOrderForm | None = None
    error: str = ""


def amend_from_form(
    request: HttpRequest, order: Order, *, source: EventSource, for_customer: bool = False
) -> AmendAttempt:
    """Validate the posted form, then change the items (order_amend_items) and the date
    (order_amend) in one transaction, both against the version the page showed. A refusal
    of an item is next to it, of the date next to the date, of the whole order above the
    form; nothing is written on any refusal."""
    form = AmendOrderForm(request.POST, order=order)
    if not form.is_valid():
        return AmendAttempt(None, form)
    if not (form.items_changed() or form.date_changed()):
        form.add_error(None, CUSTOMER_NOTHING_CHANGED if for_customer else NOTHING_CHANGED)
        return AmendAttempt(None, form)
    actor = cast(User, request.user)  # login_required
    version = form.cleaned_data["expected_version"]
    step = "items"
    try:
        with transaction.atomic():
            if form.items_changed():
                order_amend_items(
                    order,
                    plan=form.chosen_plan(),
                    add_ons=form.chosen_add_ons(),
                    actor=actor,
                    source=source,
                    expected_version=version,
                )
            elif order_lock(order.pk).version != version:
                raise OrderConflict(
                    f"Order {order.display_id} changed while you were looking at it. Reload "
                    "and try again."
                )
            if form.date_changed():
                step = "date"
                order_amend(
                    order,
                    actor=actor,
                    source=source,
                    requested_activation_date=form.cleaned_data["requested_activation_date"],
                )
    except ItemsInvalid as exc:
        form.items_refused(exc)
        return AmendAttempt(None, form)
    except AmendmentRefused as exc:
        error = customer_amend_refusal_text(exc) if for_customer else exc.message
    except OrderError as exc:
        if step == "date" or exc.field_errors:
            message = next(iter(exc.field_errors.values()), exc.message)
            form.add_error("requested_activation_date", message)
            return AmendAttempt(None, form)
        if for_customer:
            error = CUSTOMER_CONCURRENT_CHANGE if isinstance(exc, OrderConflict) else CUSTOMER_BUSY
        else:
            error = exc.message
    else:
        order.refresh_from_db()
        return AmendAttempt(order)
    order.refresh_from_db()
    return AmendAttempt(None, AmendOrderForm(order=order), error=error)


def _staff_back(request: HttpRequest, order: Order) -> str:
    """The page the rep or agent came from: support's order view or the sales order page."""
    if request.GET.get("from") == "support" and request.user.has_perm("orders.cancel_order"):
        return reverse("support:order", kwargs={"order_id": order.pk})
    return reverse("orders:detail", kwargs={"order_id": order.pk})


@login_required
@require_http_methods(["GET", "POST"])
def order_amend_page(request: HttpRequest, order_id: str) -> HttpResponse:
    """Staff "Change this order": plan, add-ons and requested date, with the current and the
    new totals; why not, instead of the form, once the order can no longer be changed."""
    if not may_amend(request.user):
        raise PermissionDenied
    order = order_get_for_user(request.user, order_id)
    back = _staff_back(request, order)
    refusal = amendment_refusal(order)
    form: AmendOrderForm | None = None
    error = ""
    if refusal is None:
        if request.method == "POST":
            attempt = amend_from_form(request, order, source=EventSource.SALES_PORTAL)
            if attempt.amended is not None:
                messages.success(request, f"Order {order.display_id} changed.")
                return redirect(back)
            form, error = attempt.form, attempt.error
            refusal = amendment_refusal(order) if error else None
        else:
            form = AmendOrderForm(order=order)
    return _page(
        request,
        "orders/amend_order.html",
        order,
        form=None if refusal is not None else form,
        refusal=refusal.message if refusal is not None else "",
        error="" if refusal is not None and error == refusal.message else error,
        back=back,
    )


@login_required
@require_http_methods(["GET", "POST"])
def customer_amend_page(request: HttpRequest, order_id: str) -> HttpResponse:
    """The customer's "Change my order": their own order only (anyone else's is not found),
    plan, add-ons and date with the same rules, refusals in their words."""
    order = order_get_for_user(request.user, order_id, queryset=own_orders(request.user))
    if not request.user.has_perm(VIEW_ORDER, order):
        raise Http404("No such order.")
    back = reverse("portal:order_detail", kwargs={"order_id": order.pk})
    refusal = amendment_refusal(order)
    form: AmendOrderForm | None = None
    error = ""
    if refusal is None:
        if request.method == "POST":
            attempt = amend_from_form(
                request, order, source=EventSource.CUSTOMER_PORTAL, for_customer=True
            )
            if attempt.amended is not None:
                messages.success(request, f"Your order {order.display_id} is changed.")
                return redirect(back)
            form, error = attempt.form, attempt.error
            refusal = amendment_refusal(order) if error else None
        else:
            form = AmendOrderForm(order=order)
    refusal_text = customer_amend_refusal_text(refusal) if refusal is not None else ""
    return _page(
        request,
        "orders/amend_customer.html",
        order,
        form=None if refusal is not None else form,
        refusal=refusal_text,
        error="" if error == refusal_text else error,  # said once
        back=back,
    )


def _page(
    request: HttpRequest,
    template: str,
    order: Order,
    *,
    form: AmendOrderForm | None,
    refusal: str,
    error: str,
    back: str,
) -> HttpResponse:
    return render(
        request,
        template,
        {
            "order": order,
            "form": form,
            "prices": form.price_summary() if form is not None else None,
            "current": form.current_prices() if form is not None else None,
            "refusal": refusal,
            "error": error,
            "back": back,
        },
    )
