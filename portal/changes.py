"""The customer's own changes to their live line (self-service): a speed change, a cease. Only
the customer who owns the line, from one of their own orders for it; anyone else gets 404.
Each is taken as an order of its own (orders.changes, through orders.views_changes) from the
customer portal, and the page goes to the new order's page, which follows its progress."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from inventory.models import Product
from orders.forms_changes import CHANGE_FIELD
from orders.installed_base import LiveLine, live_line
from orders.models import Order, ProductKind
from orders.states import EventSource, OrderStatus
from orders.views_changes import CHANGES, Attempt, change_submit, submitted_message

# What the customer may change themselves; the rest is a call to us.
CUSTOMER_CHANGES = ("plan", "cease")


def order_line(order: Order) -> LiveLine | None:
    """The live line a completed order of the customer's is about or delivered, if it is
    theirs and not ceased; None otherwise."""
    if order.status != OrderStatus.COMPLETED:
        return None
    product_id = order.product_ref
    if product_id is None:
        product_id = (
            Product.objects.filter(
                order=order,
                parent__isnull=True,
                specification__kind=ProductKind.INTERNET_ACCESS,
            )
            .values_list("pk", flat=True)
            .first()
        )
    if product_id is None:
        return None
    line = live_line(product_id)
    if line is None or line.customer_id != order.customer_id or line.is_terminated:
        return None
    return line


@login_required
@require_http_methods(["GET", "POST"])
def order_change(request: HttpRequest, order_id: str) -> HttpResponse:
    from portal.views import _own_order  # the one way to the customer's own order

    order = _own_order(request, order_id)
    line = order_line(order)
    if line is None:
        raise Http404("No live line on this order.")
    posted: dict[str, Attempt] = {}
    if request.method == "POST":
        name = request.POST.get(CHANGE_FIELD, "")
        if name not in CUSTOMER_CHANGES or not CHANGES[name].shown(line):
            raise Http404("No such change.")
        attempt = change_submit(
            request, line, name, channel=EventSource.CUSTOMER_PORTAL, key_prefix="customer-portal"
        )
        if attempt.submission is not None:
            submitted_message(request, attempt.submission)
            return redirect("portal:order_detail", order_id=attempt.submission.order.pk)
        posted[name] = attempt
    forms = {
        name: posted[name].form
        if name in posted
        else CHANGES[name].form_class(line=line, prefix=name)
        for name in CUSTOMER_CHANGES
        if CHANGES[name].shown(line)
    }
    duplicate = next((a.duplicate for a in posted.values() if a.duplicate), None)
    return render(
        request,
        "portal/order_change.html",
        {
            "order": order,
            "line": line,
            "forms": forms,
            "duplicate": duplicate,
            "change_field": CHANGE_FIELD,
            "today": timezone.localdate(),
        },
    )
