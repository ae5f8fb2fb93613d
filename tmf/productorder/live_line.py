"""The customer's live line as a TMF622 order item (action ``noChange``), for an order of
add-ons on it: the line is named by reference (``product.id``, its TMF637 product, a
ProductRefOrValue), nothing of where it is (it is at its own address), and its offering, if
given, only compared with the line's. Part of tmf.productorder.serializers; the rules on which
lines take which add-ons, and whose they are, are orders.items' and orders.services'.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ValidationError

from orders.installed_base import live_line
from orders.items import ItemRequest
from orders.states import ItemAction
from tmf.serializing import Ref, Text

MAX_PRODUCT_ID = 100


class LineOfferingRef(Ref):
    """The offering of the live line a 'noChange' item names: only compared with the line's
    (an offering no longer sold is still the line's)."""

    id = Text(required=True, max_length=40)
    href = Text(required=False, max_length=500)
    name = Text(required=False, max_length=200)


def live_line_problems(data: Mapping[str, Any], errors: Mapping[str, Any]) -> dict[str, Any]:
    """A 'noChange' item names the live line by its product id, and nothing of where it is:
    the line is at its own address."""
    if "product" in errors:
        return {}
    product = data.get("product")
    if not isinstance(product, Mapping):
        product = {}
    named = product.get("id")
    if not (isinstance(named, str) and named.strip()):
        return {
            "product": {
                "id": "Required on a 'noChange' item: the id of the customer's live line "
                "(its TMF637 product)."
            }
        }
    if product.get("place"):
        return {
            "product": {
                "place": "The live line is at its own address: leave place out of a "
                "'noChange' item."
            }
        }
    return {}


def live_line_request(attrs: dict[str, Any], relationships: list[dict[str, Any]]) -> ItemRequest:
    """The item for the live line the 'noChange' item names, with the line's offering. Which
    lines may take which add-ons, and whose they are, is orders.services' rule."""
    item_id = attrs["id"]
    product_id = attrs["product"]["product_id"]
    line = live_line(product_id)
    if line is None:
        raise ValidationError(
            {
                "product": {
                    "id": f"Item {item_id}: Product {product_id} is not a line in the "
                    "installed base."
                }
            }
        )
    named = attrs.get("productOffering")
    if named is not None and named != line.offering.code:
        raise ValidationError(
            {
                "productOffering": {
                    "id": f"Item {item_id}: {line.name} is offering '{line.offering.code}', "
                    f"not '{named}'."
                }
            }
        )
    return ItemRequest(
        item_id=item_id,
        offering=line.offering,
        relies_on=relationships[0]["id"] if relationships else None,
        quantity=attrs.get("quantity") or 1,
        action=ItemAction.NO_CHANGE,
        product_id=line.product_id,
    )
