"""Orders that change a customer's live line: a plan change (upgrade or downgrade), a suspension
and its resumption, a cease (the line and its add-ons), an add-on taken off. Each is an order of
its own, with its own ID, about the line's product (Order.product_ref: one at a time per line),
whose items follow their specification's plan for the change (ProductSpecification.
change_plans); the rules are orders.items'. Add-ons put on a live line: orders.add_ons."""

from __future__ import annotations

import datetime
import uuid

from django.contrib.auth.models import User
from django.db import transaction

from orders import events
from orders.add_ons import live_line_or_refuse
from orders.installed_base import LiveLine
from orders.items import ItemRequest, ItemsInvalid
from orders.models import Customer, Plan
from orders.services import CustomerDetails, OrderSubmission, order_submit
from orders.states import EventSource, ItemAction, ItemChange


def change_items(line: LiveLine, change: str, *, offering: Plan | None = None) -> list[ItemRequest]:
    """The items of a change to ``line``: ``change`` is an ItemChange (plan, suspend, resume)
    or ``ItemAction.DELETE`` (a cease, with an item for each add-on on the line)."""
    if change == ItemAction.DELETE:
        return [
            ItemRequest("1", line.offering, action=ItemAction.DELETE, product_id=line.product_id),
            *(
                ItemRequest(
                    str(n),
                    add_on.offering,
                    relies_on="1",
                    action=ItemAction.DELETE,
                    product_id=add_on.product_id,
                )
                for n, add_on in enumerate(line.add_ons, 2)
            ),
        ]
    if change == ItemChange.PLAN and offering is None:
        raise ItemsInvalid({"1": "A plan change names the new plan."})
    return [
        ItemRequest(
            "1",
            offering if change == ItemChange.PLAN and offering is not None else line.offering,
            action=ItemAction.MODIFY,
            change=change,
            product_id=line.product_id,
        )
    ]


def add_on_removal_items(line: LiveLine, add_on_id: uuid.UUID) -> list[ItemRequest]:
    """The items of an order taking one add-on off ``line``: the line unchanged, the add-on's
    delete relying on it."""
    add_on = line.add_on(add_on_id)
    if add_on is None:
        raise ItemsInvalid(
            {"2": f"Product {add_on_id} is not an add-on in service on {line.name}."}
        )
    return [
        ItemRequest("1", line.offering, action=ItemAction.NO_CHANGE, product_id=line.product_id),
        ItemRequest(
            "2", add_on.offering, relies_on="1", action=ItemAction.DELETE, product_id=add_on_id
        ),
    ]


def order_submit_change(
    product_id: uuid.UUID | str,
    change: str,
    *,
    offering: Plan | None = None,
    add_on_id: uuid.UUID | None = None,
    requested_date: datetime.date | None = None,
    channel: EventSource,
    submitted_by: User | None,
    idempotency_key: str | None = None,
    note: str = "",
) -> OrderSubmission:
    """Take an order changing the live line ``product_id`` for its customer: ``change`` as in
    ``change_items``, or ``"remove"`` with ``add_on_id`` to take an add-on off. A requested
    date holds it until then (scheduled), as any order. ``note`` (why: a suspension's reason)
    goes on the new order's history as a note, in the same transaction."""
    line = live_line_or_refuse(product_id)
    if change == "remove":
        if add_on_id is None:
            raise ItemsInvalid({"2": "Name the add-on to take off."})
        items = add_on_removal_items(line, add_on_id)
    else:
        items = change_items(line, change, offering=offering)
    customer = Customer.objects.get(pk=line.customer_id)
    with transaction.atomic():
        submission = _submit(
            line, customer, items, requested_date, channel, submitted_by, idempotency_key
        )
        if submission.created and note:
            events.note(order=submission.order, actor=submitted_by, source=channel, text=note)
    return submission


def _submit(
    line: LiveLine,
    customer: Customer,
    items: list[ItemRequest],
    requested_date: datetime.date | None,
    channel: EventSource,
    submitted_by: User | None,
    idempotency_key: str | None,
) -> OrderSubmission:
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
        items=items,
        requested_activation_date=requested_date,
        channel=channel,
        submitted_by=submitted_by,
        idempotency_key=idempotency_key,
    )
