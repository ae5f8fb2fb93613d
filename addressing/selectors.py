"""Reads of the address pools: how full each is, and what is held (for the network adapter's
lookup and holdings, read by the reconciliation)."""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import Count, Q, QuerySet

from addressing.models import AddressAssignment, AddressPool
from addressing.services import quarantine_cutoff


def pools_with_counts(pools: QuerySet[AddressPool] | None = None) -> QuerySet[AddressPool]:
    """Each pool with ``held`` (addresses held now) and ``quarantined`` (released, not free
    again yet), counted in the same query. ``AddressPool.usable_count`` minus both is free."""
    pools = AddressPool.objects.all() if pools is None else pools
    return pools.annotate(
        held=Count("assignments", filter=Q(assignments__released_at__isnull=True)),
        # An address released twice within the quarantine is one address.
        quarantined=Count(
            "assignments__address",
            filter=Q(assignments__released_at__gt=quarantine_cutoff()),
            distinct=True,
        ),
    )


def held_for_orders(order_refs: Collection[str]) -> list[AddressAssignment]:
    """The addresses held now by items of these orders, by (order, item)."""
    if not order_refs:
        return []
    return list(
        AddressAssignment.objects.active()
        .filter(order_ref__in=list(order_refs))
        .order_by("order_ref", "item_ref")
    )


def held_page(
    *, after: tuple[str, str] | None = None, including: bool = False, limit: int = 1000
) -> list[AddressAssignment]:
    """The first ``limit`` addresses held now with an (order, item) key above ``after`` (or
    equal to it, ``including``), in key order: one range of the address_one_per_item index."""
    held = AddressAssignment.objects.active()
    if after is not None:
        order_ref, item_ref = after
        same_order = (
            Q(order_ref=order_ref, item_ref__gte=item_ref)
            if including
            else Q(order_ref=order_ref, item_ref__gt=item_ref)
        )
        held = held.filter(order_ref__gte=order_ref).filter(Q(order_ref__gt=order_ref) | same_order)
    return list(held.order_by("order_ref", "item_ref")[:limit])
