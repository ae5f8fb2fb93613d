"""Allocations at the same moment on PostgreSQL (each thread its own connection): the pools are
locked while the next free address is found, so no address goes to two holders and none is
skipped; a retry of one item running twice at once still gets one address."""

from __future__ import annotations

import threading

import pytest

from addressing.models import AddressAssignment
from addressing.services import address_allocate

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def test_concurrent_allocations_never_hand_out_one_address_twice(
    make_pool, serviceable_area, run_in_threads
):
    make_pool("198.51.100.0/26", serviceable_area)  # 62 hosts
    start = threading.Barrier(4)

    def allocate_many(thread: int) -> list[str]:
        start.wait()
        return [
            address_allocate(serviceable_area, order_ref=f"T{thread}N{n:02d}", item_ref="2").address
            for n in range(12)
        ]

    results = run_in_threads(*(lambda t=t: allocate_many(t) for t in range(4)))

    given = [address for result in results for address in result]
    assert len(given) == len(set(given)) == 48
    # The lowest 48 hosts, none skipped
    assert sorted(given, key=lambda a: int(a.rsplit(".", 1)[1])) == [
        f"198.51.100.{n}" for n in range(1, 49)
    ]
    assert AddressAssignment.objects.active().count() == 48


def test_one_item_allocated_twice_at_once_gets_one_address(
    make_pool, serviceable_area, run_in_threads
):
    make_pool("198.51.100.0/26", serviceable_area)
    start = threading.Barrier(2)

    def allocate() -> str:
        start.wait()
        return address_allocate(serviceable_area, order_ref="ORDERA", item_ref="2").address

    first, second = run_in_threads(allocate, allocate)

    assert first == second == "198.51.100.1"
    assert AddressAssignment.objects.count() == 1
