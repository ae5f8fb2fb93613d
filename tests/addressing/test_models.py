"""The address rules: refused by validation (the admin) on every database, and by PostgreSQL
itself there, whatever writes to it: overlapping pools, a second holder of an address or of an
item, an address outside its pool's host range, a pool narrowed under an address in use."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from addressing.models import AddressAssignment, AddressPool
from addressing.services import address_allocate

pytestmark = pytest.mark.django_db


def assignment(pool: AddressPool, address: str, *, order_ref: str = "ORDERA", **extra):
    return AddressAssignment(
        pool=pool,
        pool_network=extra.pop("pool_network", pool.network),
        address=address,
        order_ref=order_ref,
        item_ref=extra.pop("item_ref", "2"),
        **extra,
    )


# --- validation (every database) --------------------------------------------------------------
def test_a_pool_overlapping_another_is_refused_naming_it(make_pool):
    make_pool("198.51.100.0/24", name="Westminster")

    with pytest.raises(ValidationError) as refused:
        AddressPool(name="wider", network="198.51.0.0/16").full_clean()

    assert refused.value.message_dict["network"] == [
        "198.51.0.0/16 overlaps pool Westminster (198.51.100.0/24)."
    ]
    AddressPool(name="next door", network="198.51.101.0/24").full_clean()  # no overlap


def test_a_network_with_host_bits_or_a_gateway_outside_it_is_refused(make_pool):
    with pytest.raises(ValidationError) as refused:
        AddressPool(name="typo", network="198.51.100.7/24").full_clean()
    assert "network" in refused.value.message_dict

    with pytest.raises(ValidationError) as refused:
        AddressPool(
            name="gw", network="198.51.100.0/24", gateway="198.51.101.1", reserved=["10.0.0.1"]
        ).full_clean()
    assert refused.value.message_dict["gateway"] == ["198.51.101.1 is not in 198.51.100.0/24."]
    assert refused.value.message_dict["reserved"] == ["10.0.0.1 is not in 198.51.100.0/24."]


def test_an_address_outside_the_pool_reserved_or_the_network_address_is_refused(make_pool):
    pool = make_pool("198.51.100.0/24", gateway="198.51.100.1", reserved=["198.51.100.9"])

    for address, why in [
        ("198.51.101.5", "not an address of pool"),
        ("198.51.100.0", "not an address of pool"),  # the network address
        ("198.51.100.255", "not an address of pool"),  # the broadcast address
        ("198.51.100.1", "reserved"),  # the gateway
        ("198.51.100.9", "reserved"),
    ]:
        with pytest.raises(ValidationError) as refused:
            assignment(pool, address).full_clean()
        assert why in refused.value.message_dict["address"][0], address
    assignment(pool, "198.51.100.2").full_clean()


def test_an_address_or_an_item_held_twice_is_refused_by_validation_and_the_database(
    make_pool, serviceable_area
):
    pool = make_pool("198.51.100.0/24", serviceable_area)
    address_allocate(serviceable_area, order_ref="ORDERA", item_ref="2")  # 198.51.100.1

    with pytest.raises(ValidationError) as refused:
        assignment(pool, "198.51.100.1", order_ref="ORDERB").full_clean()
    assert refused.value.messages == ["This address is already assigned."]
    with pytest.raises(ValidationError) as refused:
        assignment(pool, "198.51.100.2", order_ref="ORDERA").full_clean()
    assert refused.value.messages == ["This order item already holds an address."]

    # Partial unique indexes: SQLite keeps these two rules too
    for address, order_ref in [("198.51.100.1", "ORDERB"), ("198.51.100.2", "ORDERA")]:
        with pytest.raises(IntegrityError), transaction.atomic():
            assignment(pool, address, order_ref=order_ref).save()


def test_a_pool_cannot_be_narrowed_under_an_address_in_use(make_pool, serviceable_area):
    pool = make_pool("198.51.100.0/24", serviceable_area)
    for n in range(3):
        address_allocate(serviceable_area, order_ref=f"ORDER{n}", item_ref="2")

    pool.network = "198.51.100.2/31"
    with pytest.raises(ValidationError) as refused:
        pool.full_clean()

    assert refused.value.message_dict["network"] == [
        "198.51.100.1 is in use and would fall outside 198.51.100.2/31."
    ]
    # Widened, every address in use stays inside: fine
    pool.network = "198.51.100.0/23"
    pool.full_clean()


# --- the database itself (PostgreSQL) ---------------------------------------------------------
@pytest.mark.postgresql
def test_postgresql_refuses_an_overlapping_pool_written_past_validation(make_pool):
    make_pool("198.51.100.0/24")

    with pytest.raises(IntegrityError, match="address_pools_never_overlap"), transaction.atomic():
        AddressPool.objects.create(name="inside", network="198.51.100.128/25")
    AddressPool.objects.create(name="beside", network="198.51.101.0/24")


@pytest.mark.postgresql
def test_postgresql_refuses_an_address_outside_its_pool_or_a_copy_of_another_network(make_pool):
    pool = make_pool("198.51.100.0/24")
    other = make_pool("203.0.113.0/24")

    for address, constraint in [
        ("203.0.113.5", "address_inside_pool"),
        ("198.51.100.0", "address_inside_pool"),
        ("198.51.100.255", "address_inside_pool"),
    ]:
        with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
            assignment(pool, address).save()
    # The pool's network copied wrong (another pool's) so the check would pass: refused too
    with pytest.raises(IntegrityError, match="address_network_is_pools"), transaction.atomic():
        assignment(pool, "203.0.113.5", pool_network=other.network).save()
    assignment(pool, "198.51.100.254").save()


@pytest.mark.postgresql
def test_postgresql_refuses_narrowing_a_pool_under_an_address_in_use(make_pool, serviceable_area):
    pool = make_pool("198.51.100.0/24", serviceable_area)
    held = address_allocate(serviceable_area, order_ref="ORDERA", item_ref="2")

    with pytest.raises(IntegrityError, match="address_inside_pool"), transaction.atomic():
        AddressPool.objects.filter(pk=pool.pk).update(network="198.51.100.128/25")

    # Released, the address no longer holds the pool to its network
    AddressAssignment.objects.filter(pk=held.pk).update(released_at=held.assigned_at)
    AddressPool.objects.filter(pk=pool.pk).update(network="198.51.100.128/25")
    assert AddressAssignment.objects.get(pk=held.pk).pool_network == "198.51.100.128/25"
