"""The demo with the static address pools allocating addresses (``make run`` with
allocate_address routed to them): each demo area has its pool, the live lines' static IPs come
from them, and Poolham's full pool holds its orders in the exception queue as the simulator's
rule does."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command

from addressing.models import AddressAssignment, AddressPool
from inventory.models import Product
from orders.fulfilment import TaskType
from orders.models import Order
from provisioning.models import ExceptionCase, ReasonCode

pytestmark = pytest.mark.django_db


def test_the_demo_runs_with_the_pools_handing_out_its_static_ips(monkeypatch, tmp_path):
    # Not the settings fixture: the loader checks the real settings module's name.
    monkeypatch.setattr(settings, "VAR_DIR", tmp_path)
    monkeypatch.setattr(
        settings,
        "PROVISIONING_NETWORK_ADAPTER",
        "provisioning.adapters.routed.RoutedNetworkAdapter",
    )
    monkeypatch.setattr(
        settings,
        "PROVISIONING_TASK_ADAPTERS",
        {TaskType.ALLOCATE_ADDRESS: "provisioning.adapters.addresses.StaticAddressAdapter"},
    )

    call_command("load_demo_data")

    assert AddressPool.objects.get(name="Poolham").areas.get().exchange == "Poolham"
    casey = Order.objects.filter(customer__email="customer@isp.example", service_postcode="SW1A1AA")
    static_ip = Product.objects.get(order__in=casey, specification__kind="static_ip")
    assert static_ip.network_identifiers["ipv4Address"] == "198.51.100.2"  # .1 is the gateway
    assert AddressAssignment.objects.get(address="198.51.100.2").order_ref == static_ip.order_id
    pooled = Order.objects.get(customer__email="lou@example.com")
    case = ExceptionCase.objects.get(order=pooled)
    assert case.reason_code == ReasonCode.ADDRESS_POOL_EXHAUSTED
    assert "Poolham (203.0.113.252/30)" in case.reason_detail
    assert not AddressAssignment.objects.filter(pool__name="Poolham").exists()

    # The command adds nothing twice
    call_command("load_address_pools")
    assert AddressPool.objects.count() == 6
