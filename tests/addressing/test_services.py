"""Allocating and releasing static addresses (addressing.services): the lowest free address of
the area's pools, the same one on a retry, nothing from a full pool or an area without one, a
released address back after its quarantine."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from addressing.models import AddressAssignment
from addressing.services import PoolExhausted, address_allocate, address_held, address_release

pytestmark = pytest.mark.django_db


def allocate(area, order_ref: str, item_ref: str = "2") -> str:
    return address_allocate(area, order_ref=order_ref, item_ref=item_ref).address


def test_addresses_are_handed_out_lowest_first_skipping_network_gateway_and_reserved(
    make_pool, serviceable_area
):
    make_pool(
        "198.51.100.0/29",
        serviceable_area,
        gateway="198.51.100.1",
        reserved=["198.51.100.3"],
    )

    given = [allocate(serviceable_area, f"ORDER{n}") for n in range(4)]

    # .0 is the network, .1 the gateway, .3 reserved, .7 the broadcast address
    assert given == ["198.51.100.2", "198.51.100.4", "198.51.100.5", "198.51.100.6"]
    with pytest.raises(PoolExhausted, match=r"198.51.100.0/29\) is in use"):
        allocate(serviceable_area, "ORDER9")


def test_a_retry_for_the_same_item_gets_the_same_address(make_pool, serviceable_area):
    make_pool("198.51.100.0/28", serviceable_area)

    first = address_allocate(serviceable_area, order_ref="ORDERA", item_ref="2")
    again = address_allocate(serviceable_area, order_ref="ORDERA", item_ref="2")
    other_item = address_allocate(serviceable_area, order_ref="ORDERA", item_ref="3")

    assert (again.pk, again.address) == (first.pk, "198.51.100.1")
    assert other_item.address == "198.51.100.2"
    assert AddressAssignment.objects.active().count() == 2


def test_the_next_pool_of_the_area_is_used_when_the_first_is_full(make_pool, serviceable_area):
    make_pool("203.0.113.0/31", serviceable_area, name="a small one")
    make_pool("203.0.113.16/30", serviceable_area, name="b next one")

    given = [allocate(serviceable_area, f"ORDER{n}") for n in range(4)]

    # a /31 hands out both its addresses (RFC 3021); a /30 its two hosts
    assert given == ["203.0.113.0", "203.0.113.1", "203.0.113.17", "203.0.113.18"]


def test_an_area_without_a_pool_is_refused_with_its_name(make_pool, serviceable_area, faulty_area):
    make_pool("198.51.100.0/28", faulty_area)

    with pytest.raises(
        PoolExhausted, match=f"No static address pool serves area {serviceable_area.postcode}"
    ):
        allocate(serviceable_area, "ORDERX")
    assert not AddressAssignment.objects.exists()


def test_a_released_address_is_handed_out_again_only_after_its_quarantine(
    make_pool, serviceable_area, settings
):
    settings.ADDRESSING_QUARANTINE_DAYS = 7
    make_pool("198.51.100.0/30", serviceable_area)  # two hosts: .1 and .2
    allocate(serviceable_area, "ORDERA")
    allocate(serviceable_area, "ORDERB")
    released = address_release(order_ref="ORDERA", item_ref="2")
    assert released is not None and released.address == "198.51.100.1"
    assert address_held(order_ref="ORDERA", item_ref="2") is None

    # In quarantine: neither held nor free
    with pytest.raises(PoolExhausted):
        allocate(serviceable_area, "ORDERC")

    # A week later it is free again, and goes to the next customer
    AddressAssignment.objects.filter(pk=released.pk).update(
        released_at=timezone.now() - datetime.timedelta(days=7, minutes=1)
    )
    assert allocate(serviceable_area, "ORDERC") == "198.51.100.1"
    # History kept: who had the address before
    history = AddressAssignment.objects.filter(address="198.51.100.1").order_by("assigned_at")
    assert [(held.order_ref, held.released_at is None) for held in history] == [
        ("ORDERA", False),
        ("ORDERC", True),
    ]


def test_without_quarantine_a_released_address_is_free_at_once(
    make_pool, serviceable_area, settings
):
    settings.ADDRESSING_QUARANTINE_DAYS = 0
    make_pool("198.51.100.0/30", serviceable_area)
    allocate(serviceable_area, "ORDERA")
    address_release(order_ref="ORDERA", item_ref="2")

    assert allocate(serviceable_area, "ORDERB") == "198.51.100.1"


def test_releasing_twice_or_what_was_never_held_changes_nothing(make_pool, serviceable_area):
    make_pool("198.51.100.0/28", serviceable_area)
    allocate(serviceable_area, "ORDERA")
    first = address_release(order_ref="ORDERA", item_ref="2")
    assert first is not None

    assert address_release(order_ref="ORDERA", item_ref="2") is None
    assert address_release(order_ref="NEVER", item_ref="1") is None
    assert AddressAssignment.objects.get().released_at == first.released_at


def test_a_large_pool_finds_the_first_gap_among_many_held(make_pool, serviceable_area, settings):
    settings.ADDRESSING_QUARANTINE_DAYS = 0
    pool = make_pool("10.20.0.0/16", serviceable_area)
    # 1,500 addresses held (10.20.0.1 .. 10.20.5.220), the 1,000th of them released
    AddressAssignment.objects.bulk_create(
        AddressAssignment(
            pool=pool,
            pool_network=pool.network,
            address=f"10.20.{n // 256}.{n % 256}",
            order_ref=f"BULK{n:05d}",
            item_ref="2",
        )
        for n in range(1, 1501)
    )
    gap = "10.20.3.232"  # n = 1000
    address_release(order_ref="BULK01000", item_ref="2")

    assert allocate(serviceable_area, "ORDERA") == gap
    assert allocate(serviceable_area, "ORDERB") == "10.20.5.221"
