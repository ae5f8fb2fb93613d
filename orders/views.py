"""Sales pages: the guided order form, its live checks, and the order page after submit."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from orders import selectors
from orders.access import customers_visible_to, order_get_for_user
from orders.eligibility import serviceability_check
from orders.forms import OrderEntryForm
from orders.live import live_fragment_response
from orders.services import DuplicateOrder, OrderError, customer_find, order_submit
from orders.states import EventSource


@login_required
@permission_required("orders.add_order", raise_exception=True)
@require_http_methods(["GET", "POST"])
def order_new(request: HttpRequest) -> HttpResponse:
    form = OrderEntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            submission = order_submit(
                customer=form.customer_details(),
                plan=form.cleaned_data["plan"],
                requested_activation_date=form.cleaned_data["requested_activation_date"],
                channel=EventSource.SALES_PORTAL,
                submitted_by=cast(User, request.user),  # login_required
                idempotency_key=f"sales-form:{form.cleaned_data['submission_token']}",
            )
        except DuplicateOrder as exc:
            form.add_error(None, exc.message)
            return render(
                request, "orders/order_form.html", {"form": form, "duplicate": exc.existing}
            )
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
    return render(request, "orders/order_form.html", {"form": form})


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
        }
    )


@login_required
@permission_required("orders.add_order", raise_exception=True)
@require_GET
def customer_lookup(request: HttpRequest) -> JsonResponse:
    """Find an existing customer by e-mail or phone so the rep doesn't type them again."""
    query = request.GET.get("q", "").strip()
    customer = None
    if query:
        found = customer_find(email=query) if "@" in query else customer_find(phone=query)
        if found is not None and customers_visible_to(request.user).filter(pk=found.pk).exists():
            customer = found
    if customer is None:
        return JsonResponse({"found": False})
    return JsonResponse(
        {
            "found": True,
            "customer": {
                "name": customer.name,
                "email": customer.email,
                "phone": customer.phone,
                "address_line1": customer.address_line1,
                "address_line2": customer.address_line2,
                "city": customer.city,
                "postcode": customer.postcode,
            },
            "orders": customer.orders.count(),
        }
    )


@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
def order_detail(request: HttpRequest, order_id: str) -> HttpResponse:
    order = order_get_for_user(request.user, order_id, queryset=selectors.order_detail_queryset())
    return render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "events": selectors.order_recent_events(order),
            "estimated_activation": selectors.estimated_activation_date(order),
            "live_url": reverse("orders:live", kwargs={"order_id": order.pk}),
            "live_version": selectors.order_last_event_id(order),
        },
    )


@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
def order_live(request: HttpRequest, order_id: str) -> HttpResponse:
    order = order_get_for_user(request.user, order_id, queryset=selectors.order_detail_queryset())
    return live_fragment_response(
        request,
        order,
        template="orders/_order_status.html",
        context=lambda: {
            "order": order,
            "events": selectors.order_recent_events(order),
            "estimated_activation": selectors.estimated_activation_date(order),
        },
    )
