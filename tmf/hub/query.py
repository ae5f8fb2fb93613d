"""Which events a listener wants: the ``query`` it registered with (TMF630 style).

The query is a URL query string, matched against each notification's envelope:

- ``eventType=ProductOrderStateChangeEvent`` selects event types (the API's event names, as its
  swagger lists them under ``/listener``; an unknown name is refused at registration, so a typo
  does not silently mean "nothing");
- any other key is a dotted path into the envelope, compared as a string:
  ``event.productOrder.state=completed``, ``event.productOrder.id=K7QM3XPA9Z``. A path that
  crosses a list matches when any element matches
  (``event.productOrder.productOrderItem.productOffering.id=fibre-500``); ``true``/``false``
  and numbers compare as JSON writes them;
- several keys must all match (AND); ``a=x,y`` (or ``a=x&a=y``) means either value (OR);
- an empty query (or none) means every event of that API. A leading ``?`` is allowed.

Examples::

    eventType=ProductOrderCreateEvent,ProductOrderStateChangeEvent
    eventType=ProductOrderStateChangeEvent&event.productOrder.state=completed,cancelled

A query that cannot be parsed (``eventType`` with no ``=``, an empty value, an empty path
segment such as ``event..state``) is refused at registration with a 400.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from tmf.models import HubApi

EVENT_TYPE_KEY = "eventType"
MAX_TERMS = 20

# The event types each API's swagger declares (its /listener/* operations).
EVENT_TYPES: dict[str, frozenset[str]] = {
    HubApi.PRODUCT_ORDERING: frozenset(
        {
            "ProductOrderCreateEvent",
            "ProductOrderAttributeValueChangeEvent",
            "ProductOrderDeleteEvent",
            "ProductOrderStateChangeEvent",
            "ProductOrderInformationRequiredEvent",
            "CancelProductOrderCreateEvent",
            "CancelProductOrderStateChangeEvent",
            "CancelProductOrderInformationRequiredEvent",
            # TMF622 v5's (tmf.productorder.events_v5)
            "ProductOrderMilestoneEvent",
            "ProductOrderJeopardyAlertEvent",
        }
    ),
    HubApi.QUALIFICATION: frozenset(
        {
            "ProductOfferingQualificationCreateEvent",
            "ProductOfferingQualificationAttributeValueChangeEvent",
            "ProductOfferingQualificationStateChangeEvent",
            "ProductOfferingQualificationDeleteEvent",
            "ProductOfferingQualificationInformationRequiredEvent",
        }
    ),
    HubApi.INVENTORY: frozenset(
        {
            "ProductCreateEvent",
            "ProductAttributeValueChangeEvent",
            "ProductStateChangeEvent",
            "ProductBatchEvent",
            "ProductDeleteEvent",
        }
    ),
    HubApi.CATALOG: frozenset(
        {
            "CatalogCreateEvent",
            "CatalogDeleteEvent",
            "CatalogBatchEvent",
            "CategoryCreateEvent",
            "CategoryDeleteEvent",
            "ProductOfferingCreateEvent",
            "ProductOfferingAttributeValueChangeEvent",
            "ProductOfferingStateChangeEvent",
            "ProductOfferingDeleteEvent",
            "ProductOfferingPriceCreateEvent",
            "ProductOfferingPriceAttributeValueChangeEvent",
            "ProductOfferingPriceStateChangeEvent",
            "ProductOfferingPriceDeleteEvent",
            "ProductSpecificationCreateEvent",
            "ProductSpecificationDeleteEvent",
            # Not in the TMF620 v4.0.0 swagger; published as the offering's are
            # (tmf.receivers).
            "ProductSpecificationStateChangeEvent",
            "ProductSpecificationAttributeValueChangeEvent",
        }
    ),
}

_SEGMENT = re.compile(r"^[A-Za-z0-9_@\-]+$")


class InvalidQuery(ValueError):
    """The query cannot be parsed; ``str(exc)`` says why, in words for the integrator."""


@dataclass(frozen=True)
class EventQuery:
    """A parsed query: every term must match; a term matches when the envelope holds one of
    its values at its path."""

    terms: tuple[tuple[tuple[str, ...], frozenset[str]], ...] = ()

    def names_event_type(self, event_type: str) -> bool:
        """The query asks for ``event_type`` by name (an ``eventType`` term listing it)."""
        return any(
            path == (EVENT_TYPE_KEY,) and event_type in wanted for path, wanted in self.terms
        )

    def matches(self, envelope: dict[str, Any]) -> bool:
        for path, wanted in self.terms:
            if not any(value in wanted for value in _values_at(envelope, path)):
                return False
        return True


def parse_query(text: str | None, *, api: str | None = None) -> EventQuery:
    """The query as terms. With ``api``, eventType values must be event types of that API."""
    raw = (text or "").strip()
    if raw.startswith("?"):
        raw = raw[1:]
    if not raw:
        return EventQuery()
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InvalidQuery(
            "The query must be a URL query string such as "
            "'eventType=ProductOrderStateChangeEvent&event.productOrder.state=completed'."
        ) from None
    merged: dict[str, set[str]] = {}
    for key, value in pairs:
        key = key.strip()
        segments = key.split(".")
        if not key or not all(_SEGMENT.match(segment) for segment in segments):
            raise InvalidQuery(f"'{key}' is not an attribute path (names joined by dots).")
        values = {part.strip() for part in value.split(",") if part.strip()}
        if not values:
            raise InvalidQuery(f"'{key}' has no value.")
        merged.setdefault(key, set()).update(values)
    if len(merged) > MAX_TERMS:
        raise InvalidQuery(f"A query may combine at most {MAX_TERMS} attributes.")
    known = EVENT_TYPES.get(api) if api is not None else None
    if known is not None and EVENT_TYPE_KEY in merged:
        unknown = sorted(merged[EVENT_TYPE_KEY] - known)
        if unknown:
            raise InvalidQuery(
                f"Unknown event type {', '.join(unknown)}. This API sends: "
                f"{', '.join(sorted(known))}."
            )
    return EventQuery(
        terms=tuple(
            (tuple(key.split(".")), frozenset(values)) for key, values in sorted(merged.items())
        )
    )


def _as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


def _values_at(node: Any, path: tuple[str, ...]) -> Iterator[str]:
    if isinstance(node, list):
        for item in node:
            yield from _values_at(item, path)
        return
    if not path:
        text = _as_text(node)
        if text is not None:
            yield text
        return
    if isinstance(node, dict) and path[0] in node:
        yield from _values_at(node[path[0]], path[1:])
