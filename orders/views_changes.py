"""Staff page "Change this line": a plan change, a suspension, a resumption, a cease, an add-on
taken off, for a customer's live line (orders.changes). Each is taken as an order of its own and
the page goes to it. Taking a plan change or an add-on off needs ``orders.add_order`` (as any
order); suspending, resuming and ceasing a customer's service need ``orders.cancel_order``
(sales, support and the provisioning lead have it). The customer's own page for the same
(portal) uses ``change_submit`` too."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from orders.changes import order_submit_change
from orders.errors import DuplicateOrder, OrderError
from orders.forms_changes import (
    CHANGE_FIELD,
    CeaseForm,
    PlanChangeForm,
    RemoveAddOnForm,
    ResumeForm,
    SuspendForm,
    _ChangeForm,
)
from orders.installed_base import LiveLine
from orders.items import ItemsInvalid
from orders.models import Order
from orders.services import OrderSubmission
from orders.states import EventSource, ItemAction, ItemChange
from orders.views_add_ons import line_address, line_for_user

ADD_ORDER = "orders.add_order"
CANCEL_ORDER = "orders.cancel_order"


@dataclass(frozen=True)
class Change:
    """One change the page offers: its form, what ``order_submit_change`` is told, and the
    permission it needs."""

    form_class: type[_ChangeForm]
    change: str
    permission: str
    shown: Callable[[LiveLine], bool]


CHANGES: dict[str, Change] = {
    "plan": Change(PlanChangeForm, ItemChange.PLAN, ADD_ORDER, lambda line: line.is_active),
    "suspend": Change(SuspendForm, ItemChange.SUSPEND, CANCEL_ORDER, lambda line: line.is_active),
    "resume": Change(ResumeForm, ItemChange.RESUME, CANCEL_ORDER, lambda line: line.is_suspended),
    "cease": Change(
        CeaseForm, ItemAction.DELETE, CANCEL_ORDER, lambda line: not line.is_terminated
    ),
    "remove": Change(
        RemoveAddOnForm, "remove", ADD_ORDER, lambda line: line.is_active and bool(line.add_ons)
    ),
}


@dataclass
class Attempt:
    """A change as posted: the order taken (``submission``) or the form with its errors and,
    for a line with an order open already, that order."""

    form: _ChangeForm
    submission: OrderSubmission | None = None
    duplicate: Order | None = None


def change_submit(
    request: HttpRequest, line: LiveLine, name: str, *, channel: EventSource, key_prefix: str
) -> Attempt:
    """Validate the posted change ``name`` and take it as an order; nothing is written when
    the form or the order rules refuse it."""
    spec = CHANGES[name]
    form = spec.form_class(request.POST, line=line, prefix=name)
    if not form.is_valid():
        return Attempt(form)
    data = form.cleaned_data
    try:
        submission = order_submit_change(
            line.product_id,
            spec.change,
            offering=data.get("offering"),
            add_on_id=form.add_on_id if isinstance(form, RemoveAddOnForm) else None,
            requested_date=form.scheduled_date if isinstance(form, CeaseForm) else None,
            channel=channel,
            submitted_by=cast(User, request.user),  # login_required
            idempotency_key=f"{key_prefix}:{data['submission_token']}",
            note=f"Suspension: {data['reason']}" if name == "suspend" else "",
        )
    except DuplicateOrder as exc:
        form.add_error(None, exc.message)
        return Attempt(form, duplicate=exc.existing)
    except ItemsInvalid as exc:
        form.items_refused(exc)
        return Attempt(form)
    except OrderError as exc:
        for message in exc.field_errors.values() or [exc.message]:
            form.add_error(None, message)
        return Attempt(form)
    return Attempt(form, submission=submission)


def submitted_message(request: HttpRequest, submission: OrderSubmission) -> None:
    order = submission.order
    if submission.created:
        messages.success(request, f"Order {order.display_id} submitted.")
    else:
        messages.info(request, f"Order {order.display_id} was already submitted.")


def may_change_lines(user: object) -> bool:
    """The user may open "Change this line" (take or cancel orders)."""
    return bool(user.has_perm(ADD_ORDER) or user.has_perm(CANCEL_ORDER))  # type: ignore[attr-defined]


@login_required
@require_http_methods(["GET", "POST"])
def line_change(request: HttpRequest, product_id: uuid.UUID) -> HttpResponse:
    if not may_change_lines(request.user):
        raise PermissionDenied
    line, customer = line_for_user(request, product_id)
    forms: dict[str, _ChangeForm] = {}
    duplicate = None
    if request.method == "POST":
        name = request.POST.get(CHANGE_FIELD, "")
        if name not in CHANGES or not CHANGES[name].shown(line):
            return _page(request, line, customer, forms, status=400, unknown=True)
        if not request.user.has_perm(CHANGES[name].permission):
            raise PermissionDenied
        attempt = change_submit(
            request, line, name, channel=EventSource.SALES_PORTAL, key_prefix="sales-form"
        )
        if attempt.submission is not None:
            submitted_message(request, attempt.submission)
            return redirect("orders:detail", order_id=attempt.submission.order.pk)
        forms[name] = attempt.form
        duplicate = attempt.duplicate
    return _page(request, line, customer, forms, duplicate=duplicate, posted=request.method)


def _page(
    request: HttpRequest,
    line: LiveLine,
    customer: object,
    posted_forms: dict[str, _ChangeForm],
    *,
    status: int = 200,
    **context: object,
) -> HttpResponse:
    forms = {
        name: posted_forms.get(name) or spec.form_class(line=line, prefix=name)
        for name, spec in CHANGES.items()
        if spec.shown(line) and request.user.has_perm(spec.permission)
    }
    return render(
        request,
        "orders/line_change.html",
        {
            "line": line,
            "customer": customer,
            "address": line_address(line),
            "forms": forms,
            "may_order": request.user.has_perm(ADD_ORDER),
            "may_cancel": request.user.has_perm(CANCEL_ORDER),
            "change_field": CHANGE_FIELD,
            **context,
        },
        status=status,
    )
