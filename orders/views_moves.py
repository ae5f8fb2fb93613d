"""Staff page "Move home": a customer's live line moved to a new address, taken as two linked
orders (orders.moves): the new line there, and the old line's cease, which waits for it."""

from __future__ import annotations

import uuid
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from orders.errors import DuplicateOrder, OrderError
from orders.forms import MoveHomeForm
from orders.items import ItemsInvalid
from orders.moves import NewAddress, order_submit_move
from orders.states import EventSource
from orders.views_add_ons import line_address, line_for_user


@login_required
@permission_required("orders.add_order", raise_exception=True)
@require_http_methods(["GET", "POST"])
def line_move(request: HttpRequest, product_id: uuid.UUID) -> HttpResponse:
    line, customer = line_for_user(request, product_id)  # 404 unless the user may see the customer
    form = MoveHomeForm(request.POST or None) if line.is_active else None
    duplicate = None
    if form is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            submission = order_submit_move(
                line.product_id,
                NewAddress(
                    address_line1=data["address_line1"],
                    address_line2=data["address_line2"],
                    city=data["city"],
                    postcode=data["postcode"],
                ),
                requested_date=data["requested_date"],
                channel=EventSource.SALES_PORTAL,
                submitted_by=cast(User, request.user),  # login_required
                idempotency_key=f"move-form:{data['submission_token']}",
            )
        except DuplicateOrder as exc:
            duplicate = exc.existing
            form.add_error(None, exc.message)
        except ItemsInvalid as exc:
            form.refused(exc.message, exc.item_errors)
        except OrderError as exc:
            form.refused(exc.message, exc.field_errors)
        else:
            provide, cease = submission.provide, submission.cease
            messages.success(
                request,
                f"Move taken: order {provide.display_id} for the new line, order "
                f"{cease.display_id} ceases the old one when the new one is live.",
            )
            return redirect("orders:detail", order_id=provide.pk)
    return render(
        request,
        "orders/line_move.html",
        {
            "line": line,
            "customer": customer,
            "address": line_address(line),
            "form": form,
            "duplicate": duplicate,
        },
    )
