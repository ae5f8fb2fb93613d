"""Status events and the order's status_changed_at (orders/events.py)."""

from __future__ import annotations

import pytest

from orders.models import Order
from orders.services import order_cancel
from orders.states import EventSource, OrderStatus
from tests.factories import OrderFactory


@pytest.mark.django_db
def test_status_changed_at_is_the_time_of_the_newest_status_event(admin_user) -> None:
    # given an order
    order = OrderFactory()

    # when a service changes its status
    order_cancel(order, actor=admin_user, reason="Customer asked.", source=EventSource.ADMIN)

    # then the order says it has been in its status since that change's event
    stored = Order.objects.get(pk=order.pk)
    newest = stored.events.filter(kind="status_changed").order_by("-created_at", "-id").first()
    assert stored.status == OrderStatus.CANCELLED
    assert newest is not None and newest.to_status == OrderStatus.CANCELLED
    assert stored.status_changed_at == newest.created_at
