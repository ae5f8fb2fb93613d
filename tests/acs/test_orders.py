"""An order with a managed router run through the system with ``register_cpe`` routed to the
GenieACS adapter (provisioning.adapters.routed), against the fake NBI: the router's serial
entered on its item, the preset it leaves, the router configured on its first contact, the
exception queue when the serial is missing or the ACS is away, a cease that de-registers it,
and the subscriber's password nowhere in our tables, logs or e-mails."""

from __future__ import annotations

import logging

import pytest
from django.apps import apps
from django.core import mail

from inventory.models import Product
from orders.models import Order
from orders.router_serials import SerialRefused, order_item_serial_set
from orders.services import order_cancel
from orders.states import EventSource, OrderStatus
from provisioning.adapters.acs import GenieAcsAdapter, preset_name
from provisioning.adapters.credentials import subscriber_password
from provisioning.cpe import exception_case_router_serial_enter
from provisioning.models import ExceptionCase, FulfilmentTask, ReasonCode, TaskAttempt
from provisioning.services import CaseError, exception_case_retry, fulfilment_start
from tests.acs.conftest import router_item as _router_item
from tests.factories import submit_order
from tests.provisioning.running import run_ready

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routed_to_the_acs")]

USERNAME_PATH = (
    "InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANPPPConnection.1.Username"
)
PASSWORD_PATH = (
    "InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANPPPConnection.1.Password"
)


def _register_task(order: Order) -> FulfilmentTask:
    return FulfilmentTask.objects.get(order=order, task_type="register_cpe", undo=False)


def test_an_activated_orders_router_is_configured_with_the_lines_credentials_on_first_contact(
    place, acs
):
    order = place(serial="SN0042")

    assert order.status == OrderStatus.COMPLETED
    router = Product.objects.get(order=order, order_item__item_id=_router_item(order).item_id)
    line = Product.objects.get(order=order, parent__isnull=True)
    assert router.network_identifiers["cpeSerial"] == "SN0042"
    name = preset_name(order.pk, _router_item(order).item_id)
    assert set(acs.presets) == {name}

    acs.inform("SN0042")  # the customer plugs the router in

    subscriber = line.network_identifiers["subscriber"]
    assert acs.parameter("SN0042", USERNAME_PATH) == subscriber
    assert acs.parameter("SN0042", PASSWORD_PATH) == subscriber_password(subscriber)
    # what the ACS holds is what the reconciliation reads for the order
    assert [h.key for h in GenieAcsAdapter().lookup([order.pk])] == [
        (order.pk, _router_item(order).item_id, "register_cpe")
    ]


def test_a_router_without_a_serial_waits_in_the_exception_queue_until_it_is_entered(
    place, acs, lead_user, django_capture_on_commit_callbacks
):
    order = place(serial=None)

    assert order.status == OrderStatus.EXCEPTION
    case = ExceptionCase.objects.get(order=order)
    assert case.reason_code == ReasonCode.CPE_REJECTED and case.owner == lead_user
    assert case.task == _register_task(order)
    assert "enter the router's serial number" in _register_task(order).error_message
    assert _register_task(order).attempts == 1  # not retried: a retry would fail the same way
    assert acs.presets == {}

    with django_capture_on_commit_callbacks(execute=True):
        exception_case_router_serial_enter(case, serial=" SN0042 ", acting_user=lead_user)

    order.refresh_from_db()
    case.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert case.resolution == ExceptionCase.Resolution.RETRY_SUCCEEDED
    assert _router_item(order).characteristic_values["serialNumber"] == "SN0042"
    assert "Router serial number of item" in order.events.filter(kind="note").get().reason
    assert set(acs.presets) == {preset_name(order.pk, _router_item(order).item_id)}


def test_a_serial_is_refused_when_it_cannot_be_one_or_the_case_is_about_something_else(
    place, acs, lead_user, settings
):
    order = place(serial=None)
    case = ExceptionCase.objects.get(order=order)

    with pytest.raises(SerialRefused) as bad:
        exception_case_router_serial_enter(case, serial="SN 42; drop", acting_user=lead_user)
    assert "serial" in bad.value.field_errors
    line_item = order.items.get(parent__isnull=True)
    with pytest.raises(SerialRefused, match="not a managed router"):
        order_item_serial_set(line_item, serial="SN1", actor=lead_user, source=EventSource.ADMIN)
    case.task = FulfilmentTask.objects.get(order=order, key="1.reserve_port")
    case.save(update_fields=["task"])
    with pytest.raises(CaseError, match="not about registering a router"):
        exception_case_router_serial_enter(case, serial="SN0042", acting_user=lead_user)


def test_an_acs_that_answers_5xx_is_retried_and_the_order_completes(place, acs):
    acs.fail_next(503)

    order = place(serial="SN0042")

    assert order.status == OrderStatus.COMPLETED
    log = list(_register_task(order).attempt_log.values_list("outcome", "trigger", "error_code"))
    assert log == [
        ("failed", "initial", ReasonCode.NETWORK_TIMEOUT),
        ("succeeded", "auto_retry", ""),
    ]


def test_an_unreachable_acs_is_retried_then_queued_and_nothing_is_lost_when_it_is_back(
    place, acs_server, settings, unreachable_url, lead_user, django_capture_on_commit_callbacks
):
    settings.GENIEACS_URL = unreachable_url

    order = place(serial="SN0042")

    task = _register_task(order)
    assert order.status == OrderStatus.EXCEPTION
    assert task.attempts == settings.PROVISIONING_MAX_AUTO_ATTEMPTS
    assert set(task.attempt_log.values_list("error_code", "transient")) == {
        (ReasonCode.NETWORK_TIMEOUT, True)
    }
    case = ExceptionCase.objects.get(order=order)
    assert case.reason_code == ReasonCode.NETWORK_TIMEOUT

    settings.GENIEACS_URL = acs_server.url  # the ACS is back
    with django_capture_on_commit_callbacks(execute=True):
        exception_case_retry(case, acting_user=lead_user)

    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert preset_name(order.pk, _router_item(order).item_id) in acs_server.fake.presets


def test_a_cancelled_order_takes_its_router_off_the_acs(
    plan, serviceable_area, router_offering, acs, sales_user
):
    order = submit_order(plan=plan, add_ons=(router_offering,), area=serviceable_area).order
    order_item_serial_set(
        _router_item(order), serial="SN0042", actor=None, source=EventSource.ADMIN
    )
    fulfilment_start(order.pk)
    run_ready(order, until="1.activate_line")  # before the point of no return
    acs.inform("SN0042")  # the router was plugged in early
    assert set(acs.presets) == {preset_name(order.pk, _router_item(order).item_id)}

    order_cancel(order, actor=sales_user, reason="Moving abroad.", source=EventSource.SALES_PORTAL)
    run_ready(order)

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert acs.presets == {}
    assert next(iter(acs.devices.values()))["_tags"] == []
    assert GenieAcsAdapter().lookup([order.pk]) == []


def test_the_password_is_in_no_table_log_line_or_e_mail(place, acs, caplog):
    with caplog.at_level(logging.DEBUG):
        order = place(serial="SN0042")
        acs.inform("SN0042")
    line = Product.objects.get(order=order, parent__isnull=True)
    password = subscriber_password(line.network_identifiers["subscriber"])
    assert acs.parameter("SN0042", PASSWORD_PATH) == password  # the router has it, we do not

    assert password not in caplog.text
    assert all(password not in str(m.message()) for m in mail.outbox)
    for model in apps.get_models():
        for row in model.objects.values():
            assert password not in str(row), model.__name__
    attempts = TaskAttempt.objects.filter(task__order=order)
    assert attempts.exists()
