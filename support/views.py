"""Support: find an order by its ID (or the customer) and see it end to end (US-05)."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from billing.selectors import billing_account_for
from notices.selectors import order_notices
from orders import order_id as order_ids
from orders import selectors
from orders.access import order_get_for_user, orders_visible_to, restrict_by_order
from orders.live import live_fragment_response
from orders.models import Order
from orders.states import EventSource
from orders.views_cancel import (
    CANCEL_PERMISSION,
    CancelCard,
    CancelOrderForm,
    cancel_from_form,
    staff_cancel_card,
    staff_cancelled_message,
    staff_scheduled_message,
    withdraw_from_post,
)
from orders.views_changes import may_change_lines
from provisioning.selectors import order_exception_cases, order_plan
from support.forms import TicketAnswerForm
from support.models import SupportTicket
from support.selectors import (
    CUSTOMER_PRODUCTS_LIMIT,
    SEARCH_PRODUCTS_PER_CUSTOMER,
    csat_asked,
    customer_products,
    open_tickets_queue,
    order_csat,
    order_products,
    order_tickets,
    products_by_customer,
    with_change_orders,
)
from support.services import ticket_answer as ticket_answer_record
from support.services import ticket_set_status

SEARCH_LIMIT = 25


@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """An order ID goes straight to the order; a mistyped ID is caught by its check
    character; anything else searches customers by name, e-mail or phone."""
    query = request.GET.get("q", "").strip()
    context: dict = {"query": query, "results": None, "error": ""}
    unknown_id = ""
    if query:
        compact = "".join(ch for ch in query if ch not in " -")
        looks_like_id = len(compact) == order_ids.LENGTH and compact.isalnum()
        if looks_like_id:
            # About 1 ID in 42 has no digit, so letters-only text is still tried as an ID; it
            # only reports an ID error when it has a digit (ten letters may be a name).
            has_digit = any(ch.isdigit() for ch in compact)
            try:
                canonical = order_ids.normalize(query)
            except order_ids.InvalidOrderId as exc:
                if has_digit:
                    context["error"] = str(exc)
            else:
                if orders_visible_to(request.user).filter(pk=canonical).exists():
                    return redirect("support:order", order_id=canonical)
                if has_digit:
                    context["error"] = f"No order {order_ids.display(canonical)}."
                else:
                    # Ten letters that pass the check: an ID with no digit, or a name.
                    unknown_id = f"No order {order_ids.display(canonical)}."
        if not context["error"]:
            context["results"] = list(
                orders_visible_to(request.user)
                .filter(customer__in=selectors.customers_matching(query))
                .select_related("customer", "plan")
                .order_by("-submitted_at", "-pk")[:SEARCH_LIMIT]
            )
            if unknown_id and not context["results"]:
                context["error"] = unknown_id
            _with_products(context["results"])
            context["may_change_lines"] = may_change_lines(request.user)
    return render(request, "support/search.html", context)


def _with_products(orders: list[Order]) -> None:
    """Each result's customer's newest products (``customer_products``, ``more_products``)."""
    products = products_by_customer(sorted({order.customer_id for order in orders}))
    for order in orders:
        newest = products.get(order.customer_id, [])
        order.customer_products = newest[:SEARCH_PRODUCTS_PER_CUSTOMER]  # type: ignore[attr-defined]
        order.more_products = len(newest) > SEARCH_PRODUCTS_PER_CUSTOMER  # type: ignore[attr-defined]


def _order_context(order: Order) -> dict:
    return {
        "order": order,
        "customer_label": selectors.customer_status_label(order),
        **selectors.estimate_context(order),
        "events": selectors.order_recent_events(order, limit=30),
        "plan": order_plan(order),
        "products": order_products(order),
        "changed_product": selectors.order_changed_product(order),
        "cases": order_exception_cases(order),
        "billing_account": billing_account_for(order),
        "tickets": order_tickets(order),
        "notices": order_notices(order),
        "answer_form": TicketAnswerForm(),
        "csat_asked": csat_asked(order),
        "csat": order_csat(order),
    }


@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
def order_view(request: HttpRequest, order_id: str) -> HttpResponse:
    return _order_page(request, order_id)


def _order_page(
    request: HttpRequest, order_id: str, *, cancel: CancelCard | None = None
) -> HttpResponse:
    order = order_get_for_user(request.user, order_id, queryset=selectors.order_detail_queryset())
    context = _order_context(order)
    context["live_url"] = reverse("support:order_live", kwargs={"order_id": order.pk})
    context["live_version"] = selectors.order_last_event_id(order)
    context["move"] = selectors.order_move_link(order, visible=orders_visible_to(request.user))
    context["customer_products"] = customer_products(order.customer_id)
    context["customer_products_limit"] = CUSTOMER_PRODUCTS_LIMIT
    with_change_orders([*context["products"], *context["customer_products"]])
    context["may_change_lines"] = may_change_lines(request.user)
    context["cancel"] = cancel or staff_cancel_card(request.user, order)
    context["cancel_url"] = reverse("support:order_cancel", kwargs={"order_id": order.pk})
    context["withdraw_url"] = reverse(
        "support:order_cancellation_withdraw", kwargs={"order_id": order.pk}
    )
    return render(request, "support/order.html", context)


@login_required
@permission_required(CANCEL_PERMISSION, raise_exception=True)
@require_POST
def order_cancel(request: HttpRequest, order_id: str) -> HttpResponse:
    """Support cancels on the customer's behalf (a call, a ticket): back to the order view
    with a message, or the view again with the form's errors or why it was not cancelled."""
    order = order_get_for_user(request.user, order_id)
    attempt = cancel_from_form(
        request, order, form_class=CancelOrderForm, source=EventSource.SUPPORT_PORTAL
    )
    if attempt.scheduled is not None:
        messages.success(request, staff_scheduled_message(attempt.scheduled))
        return redirect("support:order", order_id=order.pk)
    if attempt.cancelled is not None:
        messages.success(request, staff_cancelled_message(attempt.cancelled))
        return redirect("support:order", order_id=order.pk)
    return _order_page(request, order.pk, cancel=attempt.card)


@login_required
@permission_required(CANCEL_PERMISSION, raise_exception=True)
@require_POST
def order_cancellation_withdraw(request: HttpRequest, order_id: str) -> HttpResponse:
    """Support withdraws a cancellation scheduled for a later date (the customer changed
    their mind on the phone)."""
    order = order_get_for_user(request.user, order_id)
    withdrawn, message = withdraw_from_post(request, order, source=EventSource.SUPPORT_PORTAL)
    (messages.success if withdrawn else messages.error)(request, message)
    return redirect("support:order", order_id=order.pk)


@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
def order_live(request: HttpRequest, order_id: str) -> HttpResponseBase:
    order = order_get_for_user(request.user, order_id, queryset=selectors.order_detail_queryset())
    return live_fragment_response(
        request,
        order,
        template="support/_order_panels.html",
        context=lambda: _order_context(order),
    )


@login_required
@permission_required("support.change_supportticket", raise_exception=True)
@require_POST
def ticket_status(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Mark a customer contact answered or closed (or open it again)."""
    visible = orders_visible_to(request.user).values("pk")
    ticket = get_object_or_404(SupportTicket, pk=ticket_id, order__in=visible)
    status = request.POST.get("status", "")
    if status not in SupportTicket.Status.values:
        messages.error(request, "Choose answered, closed or open.")
    else:
        ticket_set_status(ticket, status=status, actor=cast(User, request.user))
        messages.success(
            request, f"Contact {ticket.pk} is now {SupportTicket.Status(status).label.lower()}."
        )
    return redirect("support:order", order_id=ticket.order_id)


@login_required
@permission_required("support.change_supportticket", raise_exception=True)
@require_GET
def ticket_queue(request: HttpRequest) -> HttpResponse:
    """Support's worklist: open tickets, oldest first, to answer from the order view."""
    page = open_tickets_queue(request.user, after=request.GET.get("after"))
    return render(
        request,
        "support/queue.html",
        {"tickets": page.tickets, "next_key": page.next_key, "paged": "after" in request.GET},
    )


@login_required
@permission_required("support.change_supportticket", raise_exception=True)
@require_POST
def ticket_answer(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Answer a customer's ticket: they see it on their order page and get it by e-mail."""
    visible = restrict_by_order(SupportTicket.objects.all(), request.user)
    ticket = get_object_or_404(visible, pk=ticket_id)
    form = TicketAnswerForm(request.POST)
    if form.is_valid():
        ticket_answer_record(
            ticket=ticket, actor=cast(User, request.user), message=form.cleaned_data["message"]
        )
        messages.success(request, f"Answer sent to the customer for contact {ticket.pk}.")
    else:
        errors = "; ".join(str(error) for error in form.errors.get("message", []))
        messages.error(request, f"The answer was not sent: {errors}")
    return redirect("support:order", order_id=ticket.order_id)
