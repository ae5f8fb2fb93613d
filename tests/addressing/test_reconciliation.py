"""The reconciliation reads the pools as the network for allocate_address: a live static IP
whose address was released behind the system's back is found, and so is an address still held
for a ceased one; a consistent base shows no address mismatch."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from addressing.models import AddressAssignment
from inventory.models import Product
from orders.changes import order_submit_change
from orders.fulfilment import TaskType
from orders.states import EventSource, ItemAction
from provisioning.adapters.routed import RoutedNetworkAdapter
from reconciliation.checks import (
    CHECKS,
    CheckContext,
    network_holds_for_terminated_product,
    task_done_but_network_missing,
)
from reconciliation.models import MismatchKind
from tests.factories import StaticIpOfferingFactory, submit_order

pytestmark = pytest.mark.django_db

ROUTES = {TaskType.ALLOCATE_ADDRESS: "provisioning.adapters.addresses.StaticAddressAdapter"}


@pytest.fixture(autouse=True)
def pools_allocate_addresses(settings):
    settings.PROVISIONING_NETWORK_ADAPTER = "provisioning.adapters.routed.RoutedNetworkAdapter"
    settings.PROVISIONING_TASK_ADAPTERS = ROUTES
    settings.ADDRESSING_QUARANTINE_DAYS = 0


def context() -> CheckContext:
    return CheckContext(
        settled_before=timezone.now() + datetime.timedelta(seconds=1),
        adapter=RoutedNetworkAdapter(ROUTES),
    )


@pytest.fixture
def static_ip(plan, serviceable_area, make_pool, django_capture_on_commit_callbacks) -> Product:
    make_pool("198.51.100.0/28", serviceable_area)
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(
            plan=plan, add_ons=(StaticIpOfferingFactory(),), area=serviceable_area
        ).order
    return Product.objects.get(order=order, parent__isnull=False)


def test_a_consistent_base_has_no_address_mismatch(static_ip):
    ctx = context()
    findings = [finding for check in CHECKS.values() for finding in check(ctx)]

    assert [f for f in findings if "allocate_address" in f.subject] == []


def test_an_address_released_behind_the_systems_back_is_found(static_ip):
    AddressAssignment.objects.update(released_at=timezone.now())

    findings = list(task_done_but_network_missing(context()))

    assert [(f.kind, f.subject, f.product_ref) for f in findings] == [
        (
            MismatchKind.TASK_DONE_BUT_NETWORK_MISSING,
            f"{static_ip.order_id}:2:allocate_address",
            static_ip.pk,
        )
    ]


def test_an_address_still_held_for_a_ceased_static_ip_is_found(
    static_ip, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order_submit_change(
            static_ip.parent_id,
            ItemAction.DELETE,
            channel=EventSource.SUPPORT_PORTAL,
            submitted_by=None,
        )
    assert list(network_holds_for_terminated_product(context())) == []
    # Someone gives the address back to the ceased item by hand
    AddressAssignment.objects.update(released_at=None)

    findings = list(network_holds_for_terminated_product(context()))

    assert [(f.kind, f.product_ref) for f in findings] == [
        (MismatchKind.NETWORK_HOLDS_FOR_TERMINATED_PRODUCT, static_ip.pk)
    ]
    held = AddressAssignment.objects.get()
    assert f"allocate static ipv4 address of item 2 ({held.reference})" in findings[0].detail
