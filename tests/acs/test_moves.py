"""A customer's router carried over to their new line (a move home: orders.moves), and a serial
that is another customer's: the ACS adapter lets the same customer's newer order take the router
over (its preset weighs more, so its credentials win) and refuses anyone else's."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from inventory.models import Product
from orders.models import Order
from orders.moves import NewAddress, order_submit_move
from orders.order_id import check_symbol
from orders.states import EventSource, OrderStatus
from provisioning.adapters.acs import GenieAcsAdapter, preset_name
from provisioning.adapters.base import TaskRequest
from provisioning.adapters.credentials import subscriber_password
from provisioning.cpe import exception_case_router_serial_enter
from provisioning.models import ExceptionCase, FulfilmentTask, ReasonCode
from tests.acs.conftest import router_item
from tests.factories import OrderFactory, ServiceAreaFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routed_to_the_acs")]

USERNAME_PATH = (
    "InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANPPPConnection.1.Username"
)
PASSWORD_PATH = (
    "InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANPPPConnection.1.Password"
)


def test_a_router_moved_with_its_customer_is_taken_over_by_the_new_line(
    place, acs, lead_user, django_capture_on_commit_callbacks
):
    old = place(serial="SN0042")
    acs.inform("SN0042")
    line = Product.objects.get(order=old, parent__isnull=True)
    ServiceAreaFactory(postcode="NW1 4AA", exchange="Newtown")
    with django_capture_on_commit_callbacks(execute=True):
        moved = order_submit_move(
            line.pk,
            NewAddress(address_line1="4 New Road", city="Newtown", postcode="NW1 4AA"),
            channel=EventSource.SUPPORT_PORTAL,
            submitted_by=None,
        )
    new = Order.objects.get(pk=moved.provide.pk)
    case = ExceptionCase.objects.get(order=new)  # its router has no serial yet
    assert case.reason_code == ReasonCode.CPE_REJECTED

    with django_capture_on_commit_callbacks(execute=True):
        exception_case_router_serial_enter(case, serial="SN0042", acting_user=lead_user)

    new.refresh_from_db()
    assert new.status == OrderStatus.COMPLETED
    assert Order.objects.get(pk=moved.cease.pk).status == OrderStatus.COMPLETED
    # the old line's preset went with its cease; the new line's waits for the router
    assert set(acs.presets) == {preset_name(new.pk, router_item(new).item_id)}
    acs.inform("SN0042")
    subscriber = Product.objects.get(order=new, parent__isnull=True).network_identifiers[
        "subscriber"
    ]
    assert acs.parameter("SN0042", USERNAME_PATH) == subscriber
    assert acs.parameter("SN0042", PASSWORD_PATH) == subscriber_password(subscriber)


def test_while_both_orders_wait_for_the_router_the_newer_orders_credentials_win(acs):
    # named so that, by name alone, the older order's preset would be applied last and win
    older = OrderFactory(
        id="ZZZZZZZZZ" + check_symbol("ZZZZZZZZZ"),
        submitted_at=timezone.now() - datetime.timedelta(days=30),
    )
    newer = OrderFactory(id="000000000" + check_symbol("000000000"), customer=older.customer)
    adapter = GenieAcsAdapter()

    # the newer first, as a retry may have it: the weight, not the order of calls, decides
    assert adapter.execute(_request(newer)).ok
    assert adapter.execute(_request(older)).ok

    assert len(acs.presets) == 2
    acs.inform("SN0042")
    assert acs.parameter("SN0042", USERNAME_PATH) == f"sub-{newer.pk.lower()}"


def _request(order: Order) -> TaskRequest:
    return TaskRequest(
        order_id=order.pk,
        item_id="2",
        task_type="register_cpe",
        attempt=1,
        postcode=order.service_postcode,
        address=order.service_address,
        exchange=order.service_area.exchange,
        technology=order.service_area.technology,
        offering_code="router",
        plan_code=order.plan.code,
        characteristics={"serialNumber": "SN0042"},
    )


def test_another_customers_serial_is_refused(place, acs):
    first = place(serial="SN0042")

    second = place(serial="SN0042", email="someone.else@example.com", name="Someone Else")

    assert second.customer_id != first.customer_id
    assert second.status == OrderStatus.EXCEPTION
    task = FulfilmentTask.objects.get(order=second, task_type="register_cpe")
    assert task.error_code == ReasonCode.CPE_REJECTED
    assert f"already registered for order {first.pk}" in task.error_message
    assert set(acs.presets) == {preset_name(first.pk, router_item(first).item_id)}
