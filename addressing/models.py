"""Static IPv4 address pools per service area, and which order item holds which address.

A pool is one IPv4 network serving one or more areas (the postcodes behind one point of
presence). Its network and broadcast addresses, its gateway and its reserved addresses are never
handed out. An assignment is one address of a pool held by one order item (later: the live
product that item became) from ``assigned_at`` until ``released_at``.

The rules (no overlapping pools, one active holder per address and per item, an active address
inside its pool) hold in the database itself on PostgreSQL (constraints in migration 0002), and
on every database through ``addressing.services`` and the models' validation (the admin).
"""

from __future__ import annotations

import ipaddress

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from addressing.fields import IPv4AddressField, IPv4NetworkField, canonical_address
from orders.models import OrderItem, ServiceArea


def host_range(network: str) -> tuple[int, int]:
    """The first and last address of ``network`` that can go to a customer, as integers: all
    but the network and broadcast addresses (a /31 or /32 has neither, RFC 3021)."""
    net = ipaddress.IPv4Network(network)
    first, last = int(net.network_address), int(net.broadcast_address)
    if net.prefixlen < 31:
        first, last = first + 1, last - 1
    return first, last


class AddressPool(models.Model):
    name = models.CharField(max_length=80, unique=True)
    network = IPv4NetworkField(
        unique=True, help_text="An IPv4 network, e.g. 198.51.100.0/24. Pools may not overlap."
    )
    gateway = IPv4AddressField(
        null=True,
        blank=True,
        help_text="The customers' default gateway in this network: never handed out.",
    )
    reserved = models.JSONField(
        default=list,
        blank=True,
        help_text='Further addresses never handed out, e.g. ["198.51.100.2", "198.51.100.3"].',
    )
    areas = models.ManyToManyField(
        ServiceArea,
        related_name="address_pools",
        blank=True,
        help_text="The service areas whose static IP add-ons take addresses from this pool.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.network})"

    @property
    def withheld(self) -> frozenset[str]:
        """The addresses inside the host range that are never handed out."""
        found = {str(a) for a in self.reserved or ()}
        if self.gateway:
            found.add(self.gateway)
        return frozenset(found)

    @property
    def usable_count(self) -> int:
        """How many addresses the pool can hand out at all."""
        first, last = host_range(self.network)
        inside = {a for a in self.withheld if first <= int(ipaddress.IPv4Address(a)) <= last}
        return max(0, last - first + 1 - len(inside))

    def clean(self) -> None:
        """Gateway and reserved addresses inside the network, no overlap with another pool,
        and no address in use left outside a changed network."""
        super().clean()
        try:
            net = ipaddress.IPv4Network(self.network or "")
        except ValueError:
            return  # the field's own error says why
        errors: dict[str, list[str]] = {}
        if self.gateway and ipaddress.IPv4Address(self.gateway) not in net:
            errors.setdefault("gateway", []).append(f"{self.gateway} is not in {self.network}.")
        if not isinstance(self.reserved, list):
            errors.setdefault("reserved", []).append("A list of addresses.")
        else:
            canonical = []
            for value in self.reserved:
                try:
                    address = canonical_address(str(value))
                except ValueError:
                    errors.setdefault("reserved", []).append(f"“{value}” is not an IPv4 address.")
                    continue
                if ipaddress.IPv4Address(address) not in net:
                    errors.setdefault("reserved", []).append(f"{address} is not in {self.network}.")
                canonical.append(address)
            self.reserved = sorted(set(canonical), key=lambda a: int(ipaddress.IPv4Address(a)))
        # Pools are few (one or a handful per point of presence): compared here one by one.
        for name, other in AddressPool.objects.exclude(pk=self.pk).values_list("name", "network"):
            if net.overlaps(ipaddress.IPv4Network(other)):
                errors.setdefault("network", []).append(
                    f"{self.network} overlaps pool {name} ({other})."
                )
        if self.pk is not None and "network" not in errors:
            outside = _active_outside(self.pk, net)
            if outside:
                errors.setdefault("network", []).append(
                    f"{outside} is in use and would fall outside {self.network}."
                )
        if errors:
            raise ValidationError(errors)


def _active_outside(pool_pk: int, net: ipaddress.IPv4Network) -> str | None:
    """An address in use in the pool that is not in ``net`` (one is enough). Only a narrowed
    network needs the look; it reads the addresses in batches."""
    stored = AddressPool.objects.filter(pk=pool_pk).values_list("network", flat=True).first()
    if stored is None or ipaddress.IPv4Network(stored).subnet_of(net):
        return None  # the same network, or a wider one: every address in use stays inside
    held = AddressAssignment.objects.filter(pool_id=pool_pk, released_at__isnull=True)
    for address in held.values_list("address", flat=True).iterator(chunk_size=2000):
        if ipaddress.IPv4Address(address) not in net:
            return str(address)
    return None


class AddressAssignmentQuerySet(models.QuerySet["AddressAssignment"]):
    def active(self) -> AddressAssignmentQuerySet:
        return self.filter(released_at__isnull=True)


class AddressAssignment(models.Model):
    """``address`` of ``pool`` held by the order item (``order_ref``, ``item_ref``: the shared
    order ID and the item's id, the key the network adapters use) from ``assigned_at`` until
    ``released_at`` (None: held now). Released rows stay, as the history of who had an address."""

    pool = models.ForeignKey(AddressPool, on_delete=models.PROTECT, related_name="assignments")
    # The pool's network, copied so that PostgreSQL can check that the address is inside it
    # (a CHECK sees one row only); a foreign key on (pool, network) keeps it the pool's own.
    pool_network = IPv4NetworkField(editable=False)
    address = IPv4AddressField()
    order_ref = models.CharField("order ID", max_length=20)
    item_ref = models.CharField("item", max_length=40)
    order_item = models.ForeignKey(
        OrderItem,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="address_assignments",
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)

    objects = AddressAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-assigned_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["address"],
                condition=Q(released_at__isnull=True),
                name="address_held_once",
                violation_error_message="This address is already assigned.",
            ),
            # Also the index of the adapter's lookup and holdings (by order, item).
            models.UniqueConstraint(
                fields=["order_ref", "item_ref"],
                condition=Q(released_at__isnull=True),
                name="address_one_per_item",
                violation_error_message="This order item already holds an address.",
            ),
        ]
        indexes = [
            # The next free address: a pool's addresses in order (held and in quarantine).
            models.Index(fields=["pool", "address"], name="address_pool_address_idx"),
            # The admin's list, newest first.
            models.Index(fields=["assigned_at", "id"], name="address_assigned_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.order_ref} item {self.item_ref})"

    @property
    def reference(self) -> str:
        """What the network adapter answers for this assignment: the same on every retry."""
        return f"IPAM-{self.pk}"

    def clean(self) -> None:
        """The address is one the pool may hand out."""
        super().clean()
        if self.pool_id is None:
            return
        try:
            number = int(ipaddress.IPv4Address(self.address or ""))
        except ValueError:
            return  # the field's own error says why
        pool = self.pool
        self.pool_network = pool.network
        first, last = host_range(pool.network)
        if not first <= number <= last:
            raise ValidationError(
                {"address": f"{self.address} is not an address of pool {pool} it can hand out."}
            )
        if self.address in pool.withheld:
            raise ValidationError({"address": f"{self.address} is reserved in pool {pool}."})
