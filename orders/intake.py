"""Intake: the checks an order passes before anything of it is written (orders.services takes
it then). Apart, so that a service taking several orders at once (orders.moves) checks them all
before it writes any."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from orders.eligibility import serviceability_check
from orders.errors import NotServiceable, OrderError
from orders.installed_base import LiveLine
from orders.items import ItemRequest, items_check, live_line_for
from orders.models import Plan, ProductKind, ServiceArea


@dataclass(frozen=True)
class CustomerDetails:
    name: str
    email: str
    phone: str
    address_line1: str
    city: str
    postcode: str
    address_line2: str = ""


@dataclass(frozen=True)
class OrderIntake:
    """An order checked at intake (order_intake), ready to be taken (order_take)."""

    customer: CustomerDetails
    plan: Plan
    items: Sequence[ItemRequest]
    live: LiveLine | None
    area: ServiceArea | None
    requested_activation_date: datetime.date | None
    today: datetime.date


def order_intake(
    *,
    customer: CustomerDetails,
    items: Sequence[ItemRequest],
    requested_activation_date: datetime.date | None,
) -> OrderIntake:
    """order_submit's checks, before anything is written: the address is served (else
    NotServiceable naming the postcode or the plan), the items hold together (ItemsInvalid),
    the date is not past. An order about a live line is at the line's address."""
    live = live_line_for(items)
    if live is not None:  # add-ons go where the line is
        customer = dataclasses.replace(
            customer,
            address_line1=live.address_line1,
            address_line2=live.address_line2,
            city=live.city,
            postcode=live.postcode,
        )
    check = serviceability_check(customer.postcode)
    if not check.serviceable:
        raise NotServiceable(check.message, field_errors={"postcode": check.message})
    line = next((item.offering for item in items if item.relies_on is None), None)
    if (
        live is None
        and line is not None
        and line.kind == ProductKind.INTERNET_ACCESS
        and not check.allows(line)
    ):
        message = f"{line.name} ({line.speed_tier}) is not available at this address."
        raise NotServiceable(message, field_errors={"plan": message})
    plan = items_check(items, check.area, live=live).offering
    today = timezone.localdate()
    if requested_activation_date and requested_activation_date < today:
        message = "The requested activation date is in the past."
        raise OrderError(message, field_errors={"requested_activation_date": message})
    return OrderIntake(
        customer=customer,
        plan=plan,
        items=items,
        live=live,
        area=check.area,
        requested_activation_date=requested_activation_date,
        today=today,
    )
