"""The catalogue in the back office (orders/admin_catalogue.py): staff edit product
specifications and offerings, and a fulfilment plan that would not decompose is refused with
its problems shown on the plan field."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from orders.catalogue import MANAGED_ROUTER
from orders.models import Plan, ProductSpecification
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _field_row(page: str, field: str) -> str:
    """The HTML of the admin's row for ``field`` (its errors are rendered inside it)."""
    row = rf'<div class="form-row[^"]*field-{field}[^"]*">(.*?)(?=<div class="form-row|</fieldset>)'
    match = re.search(row, page, re.S)
    assert match, f"no row for {field}"
    return match.group(1)


def _specification_data(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "code": "ipv6-block",
        "name": "IPv6 /56 block",
        "kind": "static_ip",
        "parent_kind": "internet_access",
        "customer_label": "IPv6 block",
        "description": "",
        "brand": "",
        "version": "1.0",
        "lifecycle_status": "In design",
        "characteristics": "[]",
        "fulfilment_plan": json.dumps(
            [{"task": "allocate_address", "depends_on": ["parent.create_subscriber"]}]
        ),
    }
    data.update(changes)
    return data


def test_a_plan_that_would_not_decompose_is_refused_with_the_problem_on_the_field(
    staff_client: Client,
) -> None:
    # Given a new add-on specification whose plan waits on a step its line does not have,
    # and on a task type nobody can run
    bad_plan = [
        {"task": "allocate_address", "depends_on": ["parent.dig_trench"]},
    ]
    cyclic = [
        {"task": "allocate_address", "depends_on": ["bind_address"]},
        {"task": "bind_address", "depends_on": ["allocate_address"]},
    ]

    # When staff save it
    refused = staff_client.post(
        reverse("admin:orders_productspecification_add"),
        _specification_data(fulfilment_plan=json.dumps(bad_plan)),
    )
    refused_cycle = staff_client.post(
        reverse("admin:orders_productspecification_add"),
        _specification_data(fulfilment_plan=json.dumps(cyclic)),
    )

    # Then nothing is saved, and the page says why next to the plan
    assert refused.status_code == 200
    assert not ProductSpecification.objects.filter(code="ipv6-block").exists()
    errors = refused.context["adminform"].form.errors
    assert list(errors) == ["fulfilment_plan"]
    message = "'allocate_address' refers to parent.dig_trench: no such parent step."
    assert errors["fulfilment_plan"] == [message]
    row = _field_row(refused.content.decode(), "fulfilment_plan")
    assert "errorlist" in row
    assert "refers to parent.dig_trench: no such parent step." in row
    assert refused_cycle.context["adminform"].form.errors["fulfilment_plan"] == [
        "The plan's dependencies form a cycle."
    ]


def test_a_good_plan_is_saved_and_its_code_and_kind_are_then_fixed(
    staff_client: Client,
) -> None:
    response = staff_client.post(
        reverse("admin:orders_productspecification_add"), _specification_data()
    )
    spec = ProductSpecification.objects.get(code="ipv6-block")
    change = staff_client.get(reverse("admin:orders_productspecification_change", args=[spec.pk]))

    assert response.status_code == 302
    assert spec.fulfilment_plan[0]["task"] == "allocate_address"
    form_fields = change.context["adminform"].form.fields
    assert "fulfilment_plan" in form_fields
    assert not {"code", "kind", "parent_kind"} & set(form_fields)
    assert "after parent.create_subscriber" in change.content.decode()


def test_characteristics_that_are_not_named_objects_are_refused(staff_client: Client) -> None:
    response = staff_client.post(
        reverse("admin:orders_productspecification_add"),
        _specification_data(characteristics=json.dumps(["prefixLength"])),
    )

    assert "characteristics" in response.context["adminform"].form.errors
    assert not ProductSpecification.objects.filter(code="ipv6-block").exists()


def test_the_offering_admin_edits_specification_prices_values_and_technologies(
    staff_client: Client,
) -> None:
    router_spec = ProductSpecification.objects.get(code=MANAGED_ROUTER)

    response = staff_client.post(
        reverse("admin:orders_plan_add"),
        {
            "code": "router-ax",
            "name": "Wi-Fi 6 router",
            "specification": router_spec.pk,
            "description": "",
            "is_active": "on",
            "download_mbps": "",
            "upload_mbps": "",
            "characteristic_values": json.dumps({"model": "Fritz!Box 5590"}),
            "technologies": ["fttp", "fttc"],
            "monthly_price": "3.00",
            "one_time_price": "49.00",
            "currency": "GBP",
        },
    )
    listed = staff_client.get(reverse("admin:orders_plan_changelist"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    router = Plan.objects.get(code="router-ax")
    assert router.specification == router_spec
    assert router.technologies == ["fttp", "fttc"]
    assert router.characteristic_values == {"model": "Fritz!Box 5590"}
    assert str(router.one_time_price) == "49.00"
    assert "Wi-Fi 6 router" in listed.content.decode()
    assert "49.00" in listed.content.decode()
