"""Sign-in landing and the customer's self-service pages (US-02)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from notices.selectors import order_notices
from orders import selectors
from orders.access import VIEW_ORDER, order_get_for_user, own_orders
from orders.live import live_fragment_response
from orders.models import Order, OrderItem
from orders.roles import Role, primary_role
from orders.states import EventSource, ItemAction, change_title
from orders.views_cancel import (
    CUSTOMER_DEFAULT_REASON,
    CancelCard,
    CustomerCancelForm,
    cancel_card,
    cancel_from_form,
    customer_cancelled_message,
    customer_refusal_text,
    withdraw_from_post,
)
from orders.views_live import list_stream_response
from portal.accounts import tracking_context
from portal.changes import order_line
from portal.lines import customer_line, line_states
from support import selectors as support_selectors
from support.csat_models import CsatChannel
from support.forms import ContactForm, CsatForm
from support.services import (
    CSAT_ALREADY_ANSWERED,
    CSAT_NOT_ASKED,
    CsatRefused,
    TicketRefused,
    csat_answer,
    ticket_open,
)

LANDING = {
    Role.SALES: "portal:sales_home",
    Role.SUPPORT: "support:search",
    Role.CUSTOMER: "portal:my_orders",
    Role.PROVISIONING_LEAD: "portal:lead_home",
    Role.PROVISIONING: "portal:provisioning_home",
    Role.BILLING: "portal:billing_home",
    Role.OPERATIONS_MANAGER: "portal:operations_home",
}


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on its own page right after sign-in; the superuser (who may use every
    page) on the back office, where everything is."""
    if request.user.is_superuser:
        return redirect("admin:index")
    role = primary_role(request.user)
    if role is not None:
        return redirect(LANDING[role])
    if request.user.is_staff:
        return redirect("admin:index")
    return render(request, "portal/no_role.html", status=403)


def _customer_orders(request: HttpRequest):  # type: ignore[no-untyped-def]
    # The orders the user owns (orders.access: the one restriction path), whatever staff roles
    # they also hold: these pages speak to the customer.
    # ... with what their expected activation date needs (no query per order in the list).
    return selectors.with_activation_estimate(
        own_orders(request.user).select_related("plan", "service_area")
    )


@login_required
@require_GET
def my_orders(request: HttpRequest) -> HttpResponse:
    line_item = OrderItem.objects.filter(order=OuterRef("pk"), parent__isnull=True).order_by(
        "position"
    )
    removed = OrderItem.objects.filter(
        order=OuterRef("pk"), parent__isnull=False, action=ItemAction.DELETE
    ).order_by("position")
    orders = list(
        _customer_orders(request).annotate(
            # A change to a live line reads as the change ("Speed change to Fibre 900").
            line_action=Subquery(line_item.values("action")[:1]),
            line_change=Subquery(line_item.values("change")[:1]),
            # Add-ons for a live line read as such, not as the line ordered again...
            for_live_line=Exists(
                OrderItem.objects.filter(order=OuterRef("pk"), action=ItemAction.NO_CHANGE)
            ),
            # ... and one taken off it as that.
            removed_add_on=Subquery(removed.values("offering__name")[:1]),
        )
    )
    # The state of each line these orders delivered, after the changes made to it since.
    lines = line_states([order.pk for order in orders])
    rows = [
        {
            "order": order,
            "label": selectors.customer_status_label(order),
            **selectors.estimate_context(order),
            "change_title": change_title(
                order.line_action or "", order.line_change or "", order.plan.name
            )
            or (
                f"{order.removed_add_on} taken off your {order.plan.name} line"
                if order.for_live_line and order.removed_add_on
                else ""
            ),
            "line_state": lines.get(order.pk),
        }
        for order in orders
    ]
    return render(request, "portal/my_orders.html", {"orders": rows})


def _own_order(request: HttpRequest, order_id: str) -> Order:
    # Only the customer's own orders, whatever other roles the user holds: this page speaks
    # to the customer, in customer words.
    return order_get_for_user(request.user, order_id, queryset=_customer_orders(request))


def _order_page(
    request: HttpRequest,
    order: Order,
    *,
    form: ContactForm,
    cancel: CancelCard | None = None,
    csat_form: CsatForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = tracking_context(order)
    context["live_url"] = reverse("portal:order_live", kwargs={"order_id": order.pk})
    context["live_version"] = selectors.order_last_event_id(order)
    context["contact_form"] = form
    context["tickets"] = support_selectors.order_tickets(order)
    context["notices"] = order_notices(order)
    card = cancel or cancel_card(order, form_class=CustomerCancelForm)
    context["cancel"] = card
    context["cancel_refusal_text"] = (
        customer_refusal_text(card.refusal, cannot=True) if card.refusal is not None else ""
    )
    context["line_changes"] = order_line(order) is not None
    context["move"] = selectors.order_move_link(order, visible=own_orders(request.user))
    context["line"] = customer_line(order, own=own_orders(request.user))
    # The CSAT question once the new line is live, until answered; then the answer.
    context["csat_asked"] = support_selectors.csat_asked(order)
    context["csat_answer"] = support_selectors.order_csat(order)
    context["csat_form"] = csat_form or CsatForm()
    return render(request, "portal/order_detail.html", context, status=status)


@login_required
@require_GET
def order_detail(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _own_order(request, order_id)
    return _order_page(request, order, form=ContactForm())


@login_required
@require_POST
def order_cancel(request: HttpRequest, order_id: str) -> HttpResponse:
    """The customer cancels their own order while it can still be cancelled (self-service,
    no permission beyond owning it); a reason is welcome, not required."""
    order = _own_order(request, order_id)
    if not request.user.has_perm(VIEW_ORDER, order):
        # The ownership grant follows the customer link (orders.access); both must agree.
        raise Http404("No such order.")
    attempt = cancel_from_form(
        request,
        order,
        form_class=CustomerCancelForm,
        source=EventSource.CUSTOMER_PORTAL,
        default_reason=CUSTOMER_DEFAULT_REASON,
        for_customer=True,
    )
    if attempt.cancelled is not None:
        messages.success(request, customer_cancelled_message(attempt.cancelled))
        return redirect("portal:order_detail", order_id=order.pk)
    return _order_page(request, order, form=ContactForm(), cancel=attempt.card)


@login_required
@require_POST
def order_cancellation_withdraw(request: HttpRequest, order_id: str) -> HttpResponse:
    """The customer keeps their own order after all: the cancellation scheduled for a later
    date (taken by our staff or through the API) is withdrawn."""
    order = _own_order(request, order_id)
    if not request.user.has_perm(VIEW_ORDER, order):
        raise Http404("No such order.")
    withdrawn, message = withdraw_from_post(
        request, order, source=EventSource.CUSTOMER_PORTAL, for_customer=True
    )
    (messages.success if withdrawn else messages.error)(request, message)
    return redirect("portal:order_detail", order_id=order.pk)


@login_required
@require_POST
def order_contact(request: HttpRequest, order_id: str) -> HttpResponse:
    """The customer writes to support about their own order (a support ticket)."""
    order = _own_order(request, order_id)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            ticket_open(
                order=order,
                customer_user=request.user,  # type: ignore[arg-type]
                subject=form.cleaned_data["subject"],
                message=form.cleaned_data["message"],
            )
        except TicketRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"We got your message about order {order.display_id}; we'll reply by e-mail.",
            )
            return redirect("portal:order_detail", order_id=order.pk)
    return _order_page(request, order, form=form)


@login_required
@require_POST
def order_csat(request: HttpRequest, order_id: str) -> HttpResponse:
    """The customer answers the CSAT question about their own order (once per order, by this
    page or the e-mail's link, whichever comes first)."""
    order = _own_order(request, order_id)
    if not request.user.has_perm(VIEW_ORDER, order):
        raise Http404("No such order.")
    page = reverse("portal:order_detail", kwargs={"order_id": order.pk}) + "#csat"
    if not support_selectors.csat_asked(order):
        messages.error(request, CSAT_NOT_ASKED)
        return redirect(page)
    if support_selectors.order_csat(order) is not None:
        messages.error(request, CSAT_ALREADY_ANSWERED)
        return redirect(page)
    form = CsatForm(request.POST)
    if form.is_valid():
        try:
            answer = csat_answer(
                order=order,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
                channel=CsatChannel.PORTAL,
                answered_by=request.user,  # type: ignore[arg-type]
            )
        except CsatRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Thanks, you rated {answer.score}/5.")
        return redirect(page)
    return _order_page(request, order, form=ContactForm(), csat_form=form)


@login_required
@require_GET
def my_orders_live(request: HttpRequest) -> HttpResponseBase:
    """The stream of "My orders": a change to any of the customer's own orders listed."""
    return list_stream_response(request, own_orders(request.user), topics=False)


@login_required
@require_GET
def order_live(request: HttpRequest, order_id: str) -> HttpResponseBase:
    order = _own_order(request, order_id)
    return live_fragment_response(
        request, order, template="portal/_tracking.html", context=lambda: tracking_context(order)
    )
