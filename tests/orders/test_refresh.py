"""An order read again from the database while other threads do the same (a web server's
requests, each in a thread of its own, after a change every open page asks for)."""

from __future__ import annotations

from unittest import mock

import pytest
from django_fsm import FSMModelMixin

from orders.models import Order
from orders.states import OrderStatus
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_an_order_refreshes_its_status_while_another_threads_refresh_has_put_the_protection_back():
    # Given an order in memory, and its status changed in the database since it was read
    order = OrderFactory(status=OrderStatus.AWAITING_MANUAL)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.ACTIVATED)
    # When it is refreshed while the status field is protected throughout: django-fsm lifts the
    # protection for the whole class during a refresh and puts it back after, so a second
    # thread's refresh finishing first leaves this one to run with it on
    with mock.patch.object(FSMModelMixin, "_get_protected_fsm_fields", return_value=set()):
        order.refresh_from_db()
    # Then it shows the new status (and it was not an error page for the customer)
    assert order.status == OrderStatus.ACTIVATED
    # ... and the protection still holds for code that would set the status by hand
    with pytest.raises(AttributeError):
        order.status = OrderStatus.COMPLETED
