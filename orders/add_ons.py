"""Orders for add-ons on a customer's live line (a static IP or a router for a line already in
service): the line is named as the order's ``noChange`` item, the order is at the line's address
and for the line's customer, and only the add-ons are planned, priced and billed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.contrib.auth.models import User

from orders.installed_base import LiveLine, live_line
from orders.items import ItemsInvalid, items_for_live_line
from orders.models import Customer, Plan
from orders.services import CustomerDetails, OrderSubmission, order_submit
from orders.states import EventSource


def live_line_or_refuse(product_id: uuid.UUID | str) -> LiveLine:
    line = live_line(product_id)
    if line is None:
        raise ItemsInvalid({"1": f"Product {product_id} is not a line in the installed base."})
    return line


def order_submit_add_ons(
    product_id: uuid.UUID | str,
    add_ons: Sequence[Plan],
    *,
    channel: EventSource,
    submitted_by: User | None,
    idempotency_key: str | None = None,
) -> OrderSubmission:
    """Take an order for ``add_ons`` on the live line ``product_id``, for the line's customer.
    The rules are order_submit's (orders.items): the line must be active, each add-on must suit
    it and not be on it already."""
    line = live_line_or_refuse(product_id)
    customer = Customer.objects.get(pk=line.customer_id)
    return order_submit(
        customer=CustomerDetails(
            name=customer.name,
            email=customer.email,
            phone=customer.phone,
            address_line1=line.address_line1,
            address_line2=line.address_line2,
            city=line.city,
            postcode=line.postcode,
        ),
        items=items_for_live_line(line, add_ons),
        requested_activation_date=None,
        channel=channel,
        submitted_by=submitted_by,
        idempotency_key=idempotency_key,
    )
