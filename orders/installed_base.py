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
class LiveLine:
    """A line in a customer's installed base, as an order for its add-ons needs it: whose it
    is, what it is, where, the identifiers the network knows it by, and the add-ons on it."""

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
    # The kinds of the add-ons live on it (ProductKind values).
    add_on_kinds: frozenset[str] = frozenset()


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
