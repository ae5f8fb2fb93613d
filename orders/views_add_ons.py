"""Sales page "Add to this line": add-ons (a static IP, a router) for a customer's live line,
taken as an order whose item 1 is the line, unchanged (orders.add_ons)."""

from __future__ import annotations

import uuid
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from orders.access import customers_visible_to
from orders.add_ons import order_submit_add_ons
from orders.forms import LiveLineAddOnsForm
from orders.installed_base import LiveLine, live_line
from orders.items import ItemsInvalid
from orders.models import Customer, ProductKind
from orders.services import DuplicateOrder, OrderError
from orders.states import EventSource
from orders.views import REVIEW

PRICES_HELP = (
    "Due now: the one-time charges, on the line's next bill. Monthly charges go on the line's "
    "bill from the day each add-on is live, the first month for the days left in it. The line "
    "itself is not charged again."
)


def line_for_user(request: HttpRequest, product_id: uuid.UUID) -> tuple[LiveLine, Customer]:
    """The live line and its customer, if the user may see the customer; 404 otherwise (a
    product that is no line, or someone else's to see, looks like no product)."""
    line = live_line(product_id)
    if line is None:
        raise Http404("No such line.")
    customer = customers_visible_to(request.user).filter(pk=line.customer_id).first()
    if customer is None:
        raise Http404("No such line.")
    return line, customer


@login_required
@permission_required("orders.add_order", raise_exception=True)
@require_http_methods(["GET", "POST"])
def line_add_ons(request: HttpRequest, product_id: uuid.UUID) -> HttpResponse:
    line, customer = line_for_user(request, product_id)
    if not line.is_active:
        # Nothing to take: the page says why instead of offering a form the rules refuse.
        return _page(request, line, customer, form=None)
    if request.method == "POST" and REVIEW in request.POST:
        # "Update prices" without JavaScript: the same page with the totals of what is ticked.
        initial = {
            "add_ons": request.POST.getlist("add_ons"),
            "submission_token": request.POST.get("submission_token"),
        }
        return _page(request, line, customer, form=LiveLineAddOnsForm(initial=initial, line=line))
    form = LiveLineAddOnsForm(request.POST or None, line=line)
    if request.method == "POST" and form.is_valid():
        try:
            submission = order_submit_add_ons(
                line.product_id,
                form.chosen_add_ons(),
                channel=EventSource.SALES_PORTAL,
                submitted_by=cast(User, request.user),  # login_required
                idempotency_key=f"sales-form:{form.cleaned_data['submission_token']}",
            )
        except DuplicateOrder as exc:
            form.add_error(None, exc.message)
            return _page(request, line, customer, form=form, duplicate=exc.existing)
        except ItemsInvalid as exc:
            form.items_refused(exc)
        except OrderError as exc:
            for message in exc.field_errors.values() or [exc.message]:
                form.add_error(None, message)
        else:
            order = submission.order
            if submission.created:
                messages.success(request, f"Order {order.display_id} submitted.")
            else:
                messages.info(request, f"Order {order.display_id} was already submitted.")
            return redirect("orders:detail", order_id=order.pk)
    return _page(request, line, customer, form=form)


def line_address(line: LiveLine) -> str:
    postcode = line.postcode
    if len(postcode) > 4 and " " not in postcode:  # stored without its space
        postcode = f"{postcode[:-3]} {postcode[-3:]}"
    parts = [line.address_line1, line.address_line2, f"{line.city} {postcode}"]
    return ", ".join(part for part in parts if part)


def _page(
    request: HttpRequest,
    line: LiveLine,
    customer: Customer,
    *,
    form: LiveLineAddOnsForm | None,
    **context: object,
) -> HttpResponse:
    return render(
        request,
        "orders/line_add_ons.html",
        {
            "line": line,
            "customer": customer,
            "address": line_address(line),
            "live_add_ons": sorted(ProductKind(kind).label for kind in line.add_on_kinds),
            "form": form,
            "prices": form.price_summary() if form is not None else None,
            "prices_help": PRICES_HELP,
            "review": REVIEW,
            **context,
        },
    )
