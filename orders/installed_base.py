"""What orders may know of the installed base: the customer's live lines that new add-ons can go
on. The inventory sits above orders (it is fed by completed orders), so orders never import it:
the inventory registers how to look a line up (``live_line_lookup_register``, from its app's
ready()), and orders asks through ``live_line``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from orders.models import Plan


@dataclass(frozen=True)
class LiveAddOn:
    """An add-on in service on a line (not terminated)."""

    product_id: uuid.UUID
    name: str
    offering: Plan
    kind: str
    status: str
    network_identifiers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LiveLine:
    """A line in a customer's installed base, as an order about it needs it: whose it is, what
    it is, where, the identifiers the network knows it by, and the add-ons on it. ``status`` is
    the product's (TMF637: active, suspended, terminated...)."""

    product_id: uuid.UUID
    customer_id: int
    name: str
    offering: Plan
    status: str
    is_active: bool
    address_line1: str
    address_line2: str
    city: str
    postcode: str
    network_identifiers: Mapping[str, str] = field(default_factory=dict)
    add_ons: tuple[LiveAddOn, ...] = ()

    @property
    def add_on_kinds(self) -> frozenset[str]:
        """The kinds of the add-ons live on it (ProductKind values)."""
        return frozenset(add_on.kind for add_on in self.add_ons)

    @property
    def is_suspended(self) -> bool:
        return self.status == "suspended"

    @property
    def is_terminated(self) -> bool:
        return self.status == "terminated"

    def add_on(self, product_id: uuid.UUID | None) -> LiveAddOn | None:
        return next((a for a in self.add_ons if a.product_id == product_id), None)


LiveLineLookup = Callable[[uuid.UUID], "LiveLine | None"]
_lookup: LiveLineLookup | None = None


def live_line_lookup_register(lookup: LiveLineLookup) -> None:
    global _lookup
    _lookup = lookup


def live_line(product_id: uuid.UUID | str) -> LiveLine | None:
    """The live line with this product id, or None (no such product, or not an internet access
    product). Raises RuntimeError when no installed base is installed."""
    if _lookup is None:
        raise RuntimeError("no installed base registered its live-line lookup")
    try:
        key = product_id if isinstance(product_id, uuid.UUID) else uuid.UUID(str(product_id))
    except ValueError:
        return None
    return _lookup(key)


# product id -> (order ID, item id) of the order item that delivered it: where the network
# first heard of it (the simulator keys what it holds by them).
OriginLookup = Callable[[uuid.UUID], "tuple[str, str] | None"]
_origin: OriginLookup | None = None


def product_origin_lookup_register(lookup: OriginLookup) -> None:
    global _origin
    _origin = lookup


def product_origin(product_id: uuid.UUID | str) -> tuple[str, str] | None:
    if _origin is None:
        raise RuntimeError("no installed base registered its origin lookup")
    try:
        key = product_id if isinstance(product_id, uuid.UUID) else uuid.UUID(str(product_id))
    except ValueError:
        return None
    return _origin(key)
