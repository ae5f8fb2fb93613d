"""Sales pages: the guided order form, its live checks, and the order page after submit."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orders import selectors
from orders.access import customers_visible_to, order_get_for_user, orders_visible_to
from orders.eligibility import serviceability_check
from orders.forms import OrderEntryForm, form_initial_from
from orders.items import ItemsInvalid
from orders.live import live_fragment_response
from orders.models import Customer
from orders.services import (
    CustomerUnconfirmed,
    DuplicateOrder,
    OrderError,
    customer_find,
    customers_sharing_phone,
    order_submit,
)
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


@login_required
@permission_required("orders.add_order", raise_exception=True)
@require_http_methods(["GET", "POST"])
def order_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and REVIEW in request.POST:
        # "Update prices" (the form without JavaScript): the same form again, with the prices
        # and totals of what is chosen, and nothing checked or taken yet.
        form = OrderEntryForm(initial=form_initial_from(request.POST))
        return _form_page(request, form)
    form = OrderEntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            submission = order_submit(
                customer=form.customer_details(),
                plan=form.cleaned_data["plan"],
                add_ons=form.chosen_add_ons(),
                requested_activation_date=form.cleaned_data["requested_activation_date"],
                channel=EventSource.SALES_PORTAL,
                submitted_by=cast(User, request.user),  # login_required
                idempotency_key=f"sales-form:{form.cleaned_data['submission_token']}",
                **form.customer_choice(),
            )
        except CustomerUnconfirmed as exc:
            visible = customers_visible_to(request.user).filter(
                pk__in=[c.pk for c in exc.candidates]
            )
            form.offer_customers([c for c in exc.candidates if c in visible], exc.message)
        except DuplicateOrder as exc:
            form.add_error(None, exc.message)
            return _form_page(request, form, duplicate=exc.existing)
        except ItemsInvalid as exc:
            form.items_refused(exc)
        except OrderError as exc:
            for field, message in exc.field_errors.items():
                form.add_error(field if field in form.fields else None, message)
            if not exc.field_errors:
                form.add_error(None, exc.message)
        else:
            order = submission.order
            if submission.created:
                messages.success(request, f"Order {order.display_id} submitted.")
            else:
                messages.info(request, f"Order {order.display_id} was already submitted.")
            return redirect("orders:detail", order_id=order.pk)
    return _form_page(request, form)


# The name of the form's "Update prices" button.
REVIEW = "review"


def _form_page(request: HttpRequest, form: OrderEntryForm, **context: object) -> HttpResponse:
    return render(
        request,
        "orders/order_form.html",
        {"form": form, "prices": form.price_summary(), "review": REVIEW, **context},
    )


@login_required
@permission_required("orders.add_order", raise_exception=True)
@require_GET
def serviceability(request: HttpRequest) -> JsonResponse:
    """The address check the form runs before submit."""
    postcode = request.GET.get("postcode", "").strip()
    if not postcode:
        return JsonResponse({"serviceable": False, "message": "Enter a postcode."}, status=400)
    check = serviceability_check(postcode)
    return JsonResponse(
        {
            "serviceable": check.serviceable,
            "message": check.message,
            "plans": [str(plan.pk) for plan in check.available_plans],
            "add_ons": [str(offering.pk) for offering in check.available_add_ons],
        }
    )


@login_required
@permission_required("orders.add_order", raise_exception=True)
@require_GET
def customer_lookup(request: HttpRequest) -> JsonResponse:
    """Find an existing customer so the rep doesn't type them again: by e-mail, the one
    customer with it (``match`` "email"); by phone, every customer with that number
    (``match`` "phone"), for the rep to confirm which one, if any, is on the line. A household
    shares a number, so a phone match never fills the form by itself."""
    query = request.GET.get("q", "").strip()
    visible = customers_visible_to(request.user).annotate(order_count=Count("orders"))
    if not query:
        found: list[Customer] = []
    elif "@" in query:
        customer = customer_find(email=query)
        found = list(visible.filter(pk=customer.pk)) if customer is not None else []
    else:
        sharing = [c.pk for c in customers_sharing_phone(query)]
        found = list(visible.filter(pk__in=sharing).order_by("created_at", "pk"))
    if not found:
        return JsonResponse({"found": False})
    return JsonResponse(
        {
            "found": True,
            "match": "email" if "@" in query else "phone",
            "customers": [
                {
                    "name": c.name,
                    "email": c.email,
                    "phone": c.phone,
                    "address_line1": c.address_line1,
                    "address_line2": c.address_line2,
                    "city": c.city,
                    "postcode": c.postcode,
                    "orders": c.order_count,  # type: ignore[attr-defined]
                }
                for c in found
            ],
        }
    )


@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
def order_detail(request: HttpRequest, order_id: str) -> HttpResponse:
    return _detail_page(request, order_id)


def _detail_page(
    request: HttpRequest, order_id: str, *, cancel: CancelCard | None = None
) -> HttpResponse:
    order = order_get_for_user(request.user, order_id, queryset=selectors.order_detail_queryset())
    return render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "items": selectors.order_items(order),
            "changed_product": selectors.order_changed_product(order),
            "move": selectors.order_move_link(order, visible=orders_visible_to(request.user)),
            "events": selectors.order_recent_events(order),
            **selectors.estimate_context(order),
            "live_url": reverse("orders:live", kwargs={"order_id": order.pk}),
            "live_version": selectors.order_last_event_id(order),
            "cancel": cancel or staff_cancel_card(request.user, order),
            "cancel_url": reverse("orders:cancel", kwargs={"order_id": order.pk}),
            "withdraw_url": reverse("orders:cancellation_withdraw", kwargs={"order_id": order.pk}),
        },
    )


@login_required
@permission_required(CANCEL_PERMISSION, raise_exception=True)
@require_POST
def order_cancel(request: HttpRequest, order_id: str) -> HttpResponse:
    """The sales order page's "Cancel order": back to the page with a message saying what
    was done, or the page again with the form's errors or why the order was not cancelled."""
    order = order_get_for_user(request.user, order_id)
    attempt = cancel_from_form(
        request, order, form_class=CancelOrderForm, source=EventSource.SALES_PORTAL
    )
    if attempt.scheduled is not None:
        messages.success(request, staff_scheduled_message(attempt.scheduled))
        return redirect("orders:detail", order_id=order.pk)
    if attempt.cancelled is not None:
        messages.success(request, staff_cancelled_message(attempt.cancelled))
        return redirect("orders:detail", order_id=order.pk)
    return _detail_page(request, order.pk, cancel=attempt.card)


@login_required
@permission_required(CANCEL_PERMISSION, raise_exception=True)
@require_POST
def order_cancellation_withdraw(request: HttpRequest, order_id: str) -> HttpResponse:
    """The sales order page's "Withdraw" of a cancellation scheduled for a later date."""
    order = order_get_for_user(request.user, order_id)
    withdrawn, message = withdraw_from_post(request, order, source=EventSource.SALES_PORTAL)
    (messages.success if withdrawn else messages.error)(request, message)
    return redirect("orders:detail", order_id=order.pk)


@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
def order_live(request: HttpRequest, order_id: str) -> HttpResponseBase:
    order = order_get_for_user(request.user, order_id, queryset=selectors.order_detail_queryset())
    return live_fragment_response(
        request,
        order,
        template="orders/_order_status.html",
        context=lambda: {
            "order": order,
            "items": selectors.order_items(order),
            "events": selectors.order_recent_events(order),
            **selectors.estimate_context(order),
        },
    )
