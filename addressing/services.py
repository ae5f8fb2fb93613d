"""Allocating and releasing static addresses.

``address_allocate`` hands an order item the lowest free address of its area's pools, under a
lock on those pools (so two allocations never race for one address), and is idempotent per
(order, item): a retry gets the address it was given. ``address_release`` frees it (a cease, a
cancelled order's compensation, an add-on taken off) and is idempotent too.

A released address is free again after ``settings.ADDRESSING_QUARANTINE_DAYS``: the former
customer's address may still be in other people's allow-lists, DNS or abuse reports, and the
next holder should not inherit them.
"""

from __future__ import annotations

import datetime
import ipaddress

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from addressing.models import AddressAssignment, AddressPool, host_range
from orders.models import OrderItem, ServiceArea

# Addresses compared per query by the scan used where the database has no address arithmetic
# (SQLite): a bounded batch, so a /16 nearly full costs a few dozen small queries.
SCAN_BATCH = 512
# Another allocation took the address found between our read and our insert (SQLite has no
# row locks): look again, this many times.
_ATTEMPTS = 5


class PoolExhausted(Exception):
    """No address can be handed out; ``str()`` says why, for the task's error message."""


class AllocationBusy(Exception):
    """Other allocations kept taking the address found first: try again later."""


def quarantine_cutoff(now: datetime.datetime | None = None) -> datetime.datetime:
    """Addresses released after this moment are still in quarantine."""
    now = now or timezone.now()
    return now - datetime.timedelta(days=settings.ADDRESSING_QUARANTINE_DAYS)


def address_held(*, order_ref: str, item_ref: str) -> AddressAssignment | None:
    """The address the order item holds now, if any."""
    return (
        AddressAssignment.objects.active()
        .select_related("pool")
        .filter(order_ref=order_ref, item_ref=item_ref)
        .first()
    )


def address_allocate(
    area: ServiceArea | None,
    *,
    order_ref: str,
    item_ref: str,
    order_item: OrderItem | None = None,
) -> AddressAssignment:
    """The address the order item holds: the one it was given before, or the lowest free
    address of ``area``'s pools (lowest pool first). Raises PoolExhausted when the area has no
    pool or none has a free address, AllocationBusy when other writers kept taking the address
    found (SQLite, which has no row locks; a retry later succeeds). Never gives one address to
    two holders: the pools are locked while the next free address is found, and the database
    refuses a second active holder of an address (or of an item) should anything else write
    meanwhile."""
    for _ in range(_ATTEMPTS):
        try:
            return _allocate_once(area, order_ref=order_ref, item_ref=item_ref, item=order_item)
        except IntegrityError:
            # Someone else was faster: for this item (a retry running twice) or this address.
            held = address_held(order_ref=order_ref, item_ref=item_ref)
            if held is not None:
                return held
    raise AllocationBusy(
        f"Could not allocate an address for {order_ref} item {item_ref}: other allocations "
        "took each address found first."
    )


def _allocate_once(
    area: ServiceArea | None, *, order_ref: str, item_ref: str, item: OrderItem | None
) -> AddressAssignment:
    held = address_held(order_ref=order_ref, item_ref=item_ref)
    if held is not None:
        return held
    where = f"area {area.postcode} ({area.exchange})" if area is not None else "this address"
    with transaction.atomic():
        pools: list[AddressPool] = []
        if area is not None:
            # Locked in one order by every allocator: waits, never deadlocks.
            pools = list(
                AddressPool.objects.filter(areas=area)
                .order_by("pk")
                .select_for_update(of=("self",))
            )
        if not pools:
            raise PoolExhausted(f"No static address pool serves {where}.")
        # A retry of the same task may have allocated while we waited for the lock.
        held = address_held(order_ref=order_ref, item_ref=item_ref)
        if held is not None:
            return held
        cutoff = quarantine_cutoff()
        for pool in pools:
            address = _first_free(pool, cutoff=cutoff)
            if address is None:
                continue
            return AddressAssignment.objects.create(
                pool=pool,
                pool_network=pool.network,
                address=address,
                order_ref=order_ref,
                item_ref=item_ref,
                order_item=item,
            )
    names = ", ".join(f"{pool.name} ({pool.network})" for pool in pools)
    raise PoolExhausted(
        f"No free static address for {where}: every address of pool{'s' if len(pools) > 1 else ''} "
        f"{names} is in use, reserved or in quarantine."
    )


def address_release(*, order_ref: str, item_ref: str) -> AddressAssignment | None:
    """Free the address the order item holds; returns the released assignment, or None when it
    holds none (released already, or never given one): releasing twice changes nothing."""
    with transaction.atomic():
        held = (
            AddressAssignment.objects.active()
            .select_for_update()
            .filter(order_ref=order_ref, item_ref=item_ref)
            .first()
        )
        if held is None:
            return None
        held.released_at = timezone.now()
        held.save(update_fields=["released_at"])
        return held


def _taken(pool: AddressPool, cutoff: datetime.datetime) -> Q:
    return Q(pool=pool) & (Q(released_at__isnull=True) | Q(released_at__gt=cutoff))


def _first_free(pool: AddressPool, *, cutoff: datetime.datetime) -> str | None:
    if connection.vendor == "postgresql":
        return _first_free_sql(pool, cutoff=cutoff)
    return _first_free_scan(pool, cutoff=cutoff)


# The lowest address of the host range that is not held, in quarantine or withheld: it is the
# first of the range or one above a taken address. One pass over the pool's taken addresses
# (address_pool_address_idx), in the database.
_FIRST_FREE_SQL = """
WITH taken AS (
    SELECT address FROM addressing_addressassignment
     WHERE pool_id = %s AND (released_at IS NULL OR released_at > %s)
    UNION ALL
    SELECT unnest(%s::inet[])
), candidate AS (
    SELECT %s::inet AS address
    UNION ALL
    SELECT address + 1 FROM taken WHERE address < %s::inet
)
SELECT host(c.address) FROM candidate c
 WHERE c.address BETWEEN %s::inet AND %s::inet
   AND NOT EXISTS (SELECT 1 FROM taken t WHERE t.address = c.address)
 ORDER BY c.address
 LIMIT 1
"""


def _first_free_sql(pool: AddressPool, *, cutoff: datetime.datetime) -> str | None:
    first, last = (str(ipaddress.IPv4Address(n)) for n in host_range(pool.network))
    withheld = sorted(pool.withheld)
    with connection.cursor() as cursor:
        cursor.execute(_FIRST_FREE_SQL, [pool.pk, cutoff, withheld, first, last, first, last])
        row = cursor.fetchone()
    return None if row is None else str(row[0])


def _first_free_scan(pool: AddressPool, *, cutoff: datetime.datetime) -> str | None:
    first, last = host_range(pool.network)
    withheld = pool.withheld
    taken = AddressAssignment.objects.filter(_taken(pool, cutoff))
    for start in range(first, last + 1, SCAN_BATCH):
        batch = [
            str(ipaddress.IPv4Address(n)) for n in range(start, min(start + SCAN_BATCH, last + 1))
        ]
        used = set(taken.filter(address__in=batch).values_list("address", flat=True))
        free = next((a for a in batch if a not in used and a not in withheld), None)
        if free is not None:
            return free
    return None
