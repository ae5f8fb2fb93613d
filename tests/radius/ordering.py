"""Orders taken through the real services for the RADIUS tests, and their subscriber's
credentials (what the customer's router is given)."""

from __future__ import annotations

from typing import Any

from inventory.models import Product
from orders.changes import order_submit_change
from orders.models import Order, Plan, ServiceArea
from orders.states import EventSource, OrderStatus
from provisioning.adapters.credentials import subscriber_password
from tests.factories import StaticIpOfferingFactory, submit_order


def username_of(order: Order) -> str:
    return f"sub-{order.pk.lower()}"


def password_of(order: Order) -> str:
    return subscriber_password(username_of(order))


def activate(
    capture: Any, *, plan: Plan, area: ServiceArea, static_ip: bool = False, email: str = ""
) -> Order:
    """A line ordered and activated (completed) through intake and the fulfilment tasks."""
    add_ons = (StaticIpOfferingFactory(),) if static_ip else ()
    with capture(execute=True):
        order = submit_order(
            plan=plan, area=area, add_ons=add_ons, email=email or "jane@example.com"
        ).order
    order = Order.objects.get(pk=order.pk)
    assert order.status == OrderStatus.COMPLETED, order.status
    return order


def line_of(order: Order) -> Product:
    return Product.objects.get(order=order, parent__isnull=True)


def change(capture: Any, line: Product, what: str, **kwargs: Any) -> Order:
    """A change to the live line (plan change, suspend, resume, cease), run to its end."""
    with capture(execute=True):
        submission = order_submit_change(
            line.pk, what, channel=EventSource.SUPPORT_PORTAL, submitted_by=None, **kwargs
        )
    return Order.objects.get(pk=submission.order.pk)
