"""TMF622 PATCH of an order's items: ``productOrderItem`` in a merge patch is the full item
list the order should have, as in a create (the internet access line, keeping its item id, and
its add-ons with reliesOn the line; an add-on kept keeps its id, a new one may have any id).
It is read into the line's plan and the add-ons (``orders.amendments.order_amend_items``),
which decides: before the point of no return only, the combination checked as for a new order.

Items sent back as the order has them change nothing; items of the order already taken off
or cancelled, sent back, are history and ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from orders.amendments import GONE, AmendmentRefused, order_amend_items
from orders.errors import CancellationRefused, DuplicateOrder, OrderConflict, OrderError
from orders.items import ItemsInvalid
from orders.models import Order, Plan
from orders.states import EventSource
from orders.system_actors import audit_actor
from tmf.errors import TmfError
from tmf.hub.publish import publish_event
from tmf.models import ApiClient, HubApi
from tmf.productorder.representation import product_order_representation
from tmf.productorder.serializers import _item_pairs
from tmf.productorder.services import product_order_amend

ITEMS = "productOrderItem"
ITEMS_SHAPE = (
    "The full item list: one internet access item (relying on no other item) and its add-ons, "
    "each with productOffering.id and productOrderItemRelationship reliesOn the line."
)


@dataclass(frozen=True)
class ItemsPatch:
    """What the patch's items ask for: the line's plan and the add-ons, and the body path of
    each item by the order's item id (kept ones by theirs, new ones by the id they will get)."""

    plan: Plan
    add_ons: list[Plan]
    paths: dict[str, str] = field(default_factory=dict)


def items_in_patch(changes: dict[str, Any], current: list[tuple[Any, Any]]) -> Any | None:
    """Take the patch's item list out of ``changes`` (ProductOrderUpdate's); it when it asks for
    other items than ``current`` (the order's (id, offering id) pairs), else None."""
    if "items" not in changes:
        return None
    value = changes.pop("items")
    return None if _item_pairs(value) == current else value


def _invalid(fields: dict[str, str]) -> TmfError:
    return TmfError(
        400, "INVALID_VALUE", "Invalid items", "The items cannot be read.", field_errors=fields
    )


def items_patch_read(value: Any, order: Order) -> ItemsPatch:
    """Read the desired item list; a shape or offering problem is a 400 naming the item."""
    if not isinstance(value, list) or not value or not all(isinstance(e, Mapping) for e in value):
        raise _invalid({ITEMS: ITEMS_SHAPE})
    items = list(order.items.select_related("offering").order_by("position"))
    line = next(item for item in items if item.parent_id is None)
    gone = {(item.item_id, item.offering.code) for item in items if item.state in GONE}
    current = {item.item_id: item for item in items if item.state not in GONE}
    codes = []
    for entry in value:
        offering = entry.get("productOffering")
        code = offering.get("id") if isinstance(offering, Mapping) else None
        codes.append(code.strip() if isinstance(code, str) else None)
    known = {p.code: p for p in Plan.objects.filter(code__in=[c for c in codes if c])}
    errors: dict[str, str] = {}
    line_entry: int | None = None
    add_ons: list[tuple[int, str, Plan]] = []
    for index, (entry, code) in enumerate(zip(value, codes, strict=True)):
        path = f"{ITEMS}[{index}]"
        item_id = str(entry.get("id") or "").strip()
        if (item_id, code) in gone:
            continue  # history sent back (an add-on taken off, a cancelled item)
        offering = known.get(code) if code else None
        if offering is None:
            errors[f"{path}.productOffering.id"] = (
                f"No product offering '{code}'." if code else "Required."
            )
            continue
        kept = current.get(item_id)
        if not offering.is_active and (kept is None or kept.offering_id != offering.pk):
            errors[f"{path}.productOffering.id"] = f"'{code}' is no longer sold."
            continue
        relationships = entry.get("productOrderItemRelationship") or []
        if not relationships:
            if line_entry is not None:
                errors[ITEMS] = ITEMS_SHAPE
            elif item_id != line.item_id:
                errors[f"{path}.id"] = f"The internet access item keeps its id '{line.item_id}'."
            line_entry = index
            continue
        relies_on = relationships[0].get("id") if isinstance(relationships[0], Mapping) else None
        if len(relationships) != 1 or relies_on != line.item_id:
            errors[f"{path}.productOrderItemRelationship"] = (
                f"An add-on reliesOn the internet access item '{line.item_id}'."
            )
            continue
        add_ons.append((index, item_id, offering))
    if line_entry is None and ITEMS not in errors and not errors:
        errors[ITEMS] = ITEMS_SHAPE
    if errors:
        raise _invalid(errors)
    assert line_entry is not None
    plan = known[codes[line_entry]]  # type: ignore[index]
    paths = {line.item_id: f"{ITEMS}[{line_entry}]"}
    kept_offerings = {i.offering_id for i in current.values() if i.parent_id is not None}
    next_id = max(int(i.item_id) for i in items if i.item_id.isdigit()) + 1
    for index, _item_id, offering in add_ons:
        if offering.pk in kept_offerings:
            kept = next(i for i in current.values() if i.parent_id and i.offering_id == offering.pk)
            paths[kept.item_id] = f"{ITEMS}[{index}]"
        else:
            paths[str(next_id)] = f"{ITEMS}[{index}]"
            next_id += 1
    return ItemsPatch(plan=plan, add_ons=[o for _, _, o in add_ons], paths=paths)


def product_order_patch(
    *,
    client: ApiClient,
    order: Order,
    items: ItemsPatch | None,
    changes: dict[str, Any],
) -> Order:
    """The items (order_amend_items) and the other attributes (product_order_amend) in one
    transaction: all or nothing. Items that changed are told to the hub as an attribute
    change of ``productOrderItem``. Raises what those raise."""
    with audit_actor(client.user), transaction.atomic():
        if items is not None:
            amendment = order_amend_items(
                order,
                plan=items.plan,
                add_ons=items.add_ons,
                actor=client.user,
                source=EventSource.API,
            )
            if amendment.changed:
                publish_event(
                    api=HubApi.PRODUCT_ORDERING,
                    event_type="ProductOrderAttributeValueChangeEvent",
                    resource_name="productOrder",
                    resource=product_order_representation(amendment.order),
                    order=amendment.order,
                    description=f"Product order {order.pk}: {ITEMS} changed.",
                    field_path=ITEMS,
                )
            order = amendment.order
        if changes:
            order, _ = product_order_amend(client=client, order=order, changes=changes)
    return order


def patch_error(exc: OrderError, items: ItemsPatch | None) -> TmfError | None:
    """The TMF error of an items amendment refused, or None for the caller's own mapping."""
    if isinstance(exc, AmendmentRefused):
        if exc.reason_code == CancellationRefused.PONR:
            return TmfError(409, "PONR", "Order cannot be changed", exc.message)
        return TmfError(409, "NOT_AMENDABLE", "Order cannot be changed", exc.message)
    if isinstance(exc, ItemsInvalid):
        paths = items.paths if items is not None else {}
        fields = {
            paths.get(item_id, ITEMS): message for item_id, message in exc.item_errors.items()
        }
        return TmfError(400, "INVALID_VALUE", "Invalid items", exc.message, field_errors=fields)
    if isinstance(exc, OrderConflict | DuplicateOrder) or not exc.field_errors:
        # Also provisioning's TaskError: a task of what changes is running on the network at
        # this moment (its message says to try again in a moment).
        return TmfError(409, "CONFLICT", "Conflict", exc.message)
    return None
