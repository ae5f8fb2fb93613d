"""The exception case of a router registered without its serial, worked in the admin
(provisioning/admin_cpe.py): the lead reads what to enter, enters it, and the order goes on."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.models import Order
from orders.states import OrderStatus
from provisioning.adapters.acs import preset_name
from provisioning.models import ExceptionCase, ReasonCode
from tests.factories import RouterOfferingFactory, submit_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routed_to_the_acs")]


@pytest.fixture
def case(django_capture_on_commit_callbacks, plan, serviceable_area, lead_user):
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(
            plan=plan, add_ons=(RouterOfferingFactory(),), area=serviceable_area
        ).order
    return ExceptionCase.objects.get(order=order)


def test_the_lead_enters_the_missing_serial_on_the_case_and_the_order_completes(
    client, lead_user, case, acs, django_capture_on_commit_callbacks
):
    assert case.reason_code == ReasonCode.CPE_REJECTED
    client.force_login(lead_user)
    page = client.get(reverse("admin:provisioning_exceptioncase_change", args=[case.pk]))
    assert page.status_code == 200
    assert b"enter the router&#x27;s serial number" in page.content
    assert b'id="case-router-serial"' in page.content
    url = reverse("admin:provisioning_exceptioncase_router_serial", args=[case.pk])

    refused = client.post(url, {"serial": "not a serial!"})
    assert refused.status_code == 200 and b"router&#x27;s label" in refused.content
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {"serial": "SN0042"})

    assert done.status_code == 302
    order = Order.objects.get(pk=case.order_id)
    assert order.status == OrderStatus.COMPLETED
    router = order.items.get(parent__isnull=False)
    assert preset_name(order.pk, router.item_id) in acs.presets
    case.refresh_from_db()
    assert case.resolution == ExceptionCase.Resolution.RETRY_SUCCEEDED


def test_someone_who_may_not_work_the_case_cannot_enter_a_serial(client, case, sales_user):
    sales_user.is_staff = True
    sales_user.save(update_fields=["is_staff"])
    client.force_login(sales_user)

    answer = client.post(
        reverse("admin:provisioning_exceptioncase_router_serial", args=[case.pk]),
        {"serial": "SN0042"},
    )

    assert answer.status_code in (403, 404)
    order = Order.objects.get(pk=case.order_id)
    assert order.status == OrderStatus.EXCEPTION
    assert not order.items.get(parent__isnull=False).characteristic_values
