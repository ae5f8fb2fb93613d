"""The static address where people look for it: the customer's line on their order page, the
products on support's order view, and in the admin the pools with how full they are and the
assignments with their order and product, found by address or order ID."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from addressing.models import AddressAssignment, AddressPool
from inventory.models import Product
from orders.changes import order_submit_change
from orders.fulfilment import TaskType
from orders.models import Order
from orders.states import EventSource
from tests.factories import StaticIpOfferingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def pools_allocate_addresses(settings):
    settings.PROVISIONING_NETWORK_ADAPTER = "provisioning.adapters.routed.RoutedNetworkAdapter"
    settings.PROVISIONING_TASK_ADAPTERS = {
        TaskType.ALLOCATE_ADDRESS: "provisioning.adapters.addresses.StaticAddressAdapter"
    }
    settings.ADDRESSING_QUARANTINE_DAYS = 0


@pytest.fixture
def my_order(place_order, plan, serviceable_area, customer_user, make_pool) -> Order:
    """customer_user's live line with a static IP from the area's pool (198.51.100.2)."""
    make_pool("198.51.100.0/28", serviceable_area, gateway="198.51.100.1", name="Westminster")
    return place_order(
        plan=plan,
        area=serviceable_area,
        email="mine@example.com",
        customer_user=customer_user,
        add_ons=(StaticIpOfferingFactory(),),
    )


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return " ".join(html.unescape(response.content.decode()).split())


def test_the_customer_sees_their_static_ip_on_their_line_until_it_is_taken_off(
    client, customer_user, my_order, django_capture_on_commit_callbacks
):
    client.force_login(customer_user)
    url = reverse("portal:order_detail", args=[my_order.pk])

    assert "Your static IP address: <code>198.51.100.2</code>" in text(client.get(url))

    line = Product.objects.get(order=my_order, parent__isnull=True)
    with django_capture_on_commit_callbacks(execute=True):
        order_submit_change(
            line.pk,
            "remove",
            add_on_id=line.add_ons.get().pk,
            channel=EventSource.SUPPORT_PORTAL,
            submitted_by=None,
        )
    assert "static IP address" not in text(client.get(url))


def test_support_sees_the_address_on_the_orders_products_and_its_plan(
    client, support_user, my_order
):
    client.force_login(support_user)

    page = text(client.get(reverse("support:order", args=[my_order.pk])))

    assert "IPv4 address <code>198.51.100.2</code>" in page
    # ... and on the static IP's allocation task in the order's plan
    assert '· address <code data-testid="task-address">198.51.100.2</code>' in page


def test_the_admin_lists_pools_with_what_is_used_and_free(admin_client, my_order, make_pool):
    make_pool("203.0.113.0/30", name="Poolham", gateway="203.0.113.1", reserved=["203.0.113.2"])

    page = text(admin_client.get(reverse("admin:addressing_addresspool_changelist")))

    # Westminster /28: 14 hosts, the gateway withheld, one in use; Poolham: nothing left
    assert ">Westminster<" in page
    row = page[page.index(">Westminster<") :].split("</tr>")[0]
    assert [cell.split("<")[0] for cell in row.split('<td class="field-')[1:]][-3:] == [
        'usable">13',
        'held">1',
        'free">12',
    ]
    row = page[page.index(">Poolham<") :].split("</tr>")[0]
    assert 'free">0' in row


def test_the_admin_finds_an_assignment_by_address_or_order_id_with_its_order_and_product(
    admin_client, my_order
):
    url = reverse("admin:addressing_addressassignment_changelist")
    product = Product.objects.get(order=my_order, parent__isnull=False)

    by_address = text(admin_client.get(url, {"q": "198.51.100.2"}))
    by_order = text(admin_client.get(url, {"q": my_order.display_id.lower()}))

    for page in (by_address, by_order):
        assert "198.51.100.2" in page
        assert my_order.display_id in page
        assert reverse("admin:inventory_product_change", args=[product.pk]) in page
    assert "0 address assignments" in text(admin_client.get(url, {"q": "198.51.100.3"}))
    # Only the services hand out addresses: no add button, no editing
    assert admin_client.get(reverse("admin:addressing_addressassignment_add")).status_code == 403


def test_the_admin_refuses_an_overlapping_pool_with_a_clear_error(admin_client, my_order):
    response = admin_client.post(
        reverse("admin:addressing_addresspool_add"),
        {"name": "Too wide", "network": "198.51.100.0/24", "gateway": "", "reserved": ""},
    )

    assert response.status_code == 200
    assert "198.51.100.0/24 overlaps pool Westminster (198.51.100.0/28)." in text(response)
    assert not AddressPool.objects.filter(name="Too wide").exists()
    assert AddressAssignment.objects.count() == 1


def test_the_provisioning_lead_keeps_the_pools_and_a_provisioning_engineer_reads_them(
    client, lead_user, provisioning_user, my_order
):
    pools = reverse("admin:addressing_addresspool_changelist")
    add = reverse("admin:addressing_addresspool_add")
    client.force_login(lead_user)
    assert client.get(pools).status_code == 200
    response = client.post(
        add, {"name": "Next door", "network": "198.51.101.0/24", "reserved": "198.51.101.9"}
    )
    assert response.status_code == 302
    assert AddressPool.objects.get(name="Next door").reserved == ["198.51.101.9"]

    provisioning_user.is_staff = True
    provisioning_user.save(update_fields=["is_staff"])
    client.force_login(provisioning_user)
    assert "Westminster" in text(client.get(pools))
    assert "198.51.100.2" in text(
        client.get(reverse("admin:addressing_addressassignment_changelist"))
    )
    assert client.get(add).status_code == 403
