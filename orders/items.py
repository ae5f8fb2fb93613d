"""What an order may hold: one internet access item and the add-ons that rely on it.

Every way in (the sales form, TMF622) states its items as ``ItemRequest``s and has them checked
here, so the rules and their wording are the same everywhere. A refusal names each item and the
rule it breaks (``ItemsInvalid.item_errors``, keyed by the request's item id).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from orders.errors import OrderError
from orders.installed_base import LiveLine, live_line
from orders.models import Order, OrderItem, Plan, ProductKind, ServiceArea
from orders.states import ItemAction, ItemChange, ItemState


@dataclass(frozen=True)
class ItemRequest:
    """One item as asked for: its id within the order, the offering, and the id of the item it
    relies on (None for the line). The customer's live line, named for add-ons to go on, is an
    item with action ``noChange`` and its product's id."""

    item_id: str
    offering: Plan
    relies_on: str | None = None
    quantity: int = 1
    action: str = ItemAction.ADD
    product_id: uuid.UUID | None = None
    # A modify item: what it changes (orders.states.ItemChange).
    change: str = ""


NO_CHANGE_ONLY_LINE = "Only the live line an order's add-ons go on can be named with 'noChange'."
# Actions on a product in the installed base (the order names it by product.id).
LIVE_ACTIONS = (ItemAction.NO_CHANGE, ItemAction.MODIFY, ItemAction.DELETE)


class ItemsInvalid(OrderError):
    def __init__(self, item_errors: dict[str, str]) -> None:
        super().__init__(
            " ".join(f"Item {item_id}: {message}" for item_id, message in item_errors.items())
        )
        self.item_errors = item_errors


def items_for(line: Plan, add_ons: Sequence[Plan] = ()) -> list[ItemRequest]:
    """The items of a line and its add-ons, numbered as TMF622 numbers them: the line is 1."""
    return [
        ItemRequest("1", line),
        *(ItemRequest(str(n), offering, relies_on="1") for n, offering in enumerate(add_ons, 2)),
    ]


def items_for_live_line(line: LiveLine, add_ons: Sequence[Plan]) -> list[ItemRequest]:
    """The items of an order for add-ons on a live line: the line as item 1 (no change)."""
    return [
        ItemRequest("1", line.offering, action=ItemAction.NO_CHANGE, product_id=line.product_id),
        *(ItemRequest(str(n), offering, relies_on="1") for n, offering in enumerate(add_ons, 2)),
    ]


def live_line_for(items: Sequence[ItemRequest]) -> LiveLine | None:
    """The live line the items are about (their top item: ``noChange`` for add-ons to add or
    take off, ``modify`` or ``delete`` for a change to the line), or None for a new line.
    Raises ItemsInvalid, naming the item, when the product is not a line that can take it."""
    root = next((item for item in items if item.action == ItemAction.NO_CHANGE), None) or next(
        (item for item in items if item.relies_on is None and item.action in LIVE_ACTIONS), None
    )
    if root is None:
        return None
    if root.product_id is None:
        raise ItemsInvalid(
            {
                root.item_id: f"An item with action '{root.action}' names the live product "
                "(product.id)."
            }
        )
    line = live_line(root.product_id)
    if line is None:
        raise ItemsInvalid(
            {root.item_id: f"Product {root.product_id} is not a line in the installed base."}
        )
    problem = _line_state_problem(root, line)
    if problem:
        raise ItemsInvalid({root.item_id: problem})
    return line


def _line_state_problem(root: ItemRequest, line: LiveLine) -> str:
    state = f"{line.name} is {line.status}"
    if root.action == ItemAction.DELETE:
        return f"{state}: it is ceased already." if line.is_terminated else ""
    if root.action == ItemAction.MODIFY and root.change == ItemChange.RESUME:
        return "" if line.is_suspended else f"{state}: only a suspended line can be resumed."
    if line.is_active:
        return ""
    if root.action == ItemAction.NO_CHANGE:
        return f"{state}: add-ons go on an active line only."
    return f"{state}: only an active line can be changed or suspended."


def items_check(
    items: Sequence[ItemRequest], area: ServiceArea | None, *, live: LiveLine | None = None
) -> ItemRequest:
    """Check the combination; return the line (the internet access item). Raises ItemsInvalid
    naming every item that breaks a rule:

    - exactly one internet access item, relying on nothing: a new line (action ``add``), or
      the customer's ``live`` line (``noChange``, with at least one add-on to go on it);
    - each add-on relies on an internet access item of the same order, and appears once, and
      once on the line with what is live on it already;
    - quantity 1, the offering on sale and deliverable at the address.
    """
    errors: dict[str, str] = {}
    by_id = {item.item_id: item for item in items}
    if len(by_id) != len(items):
        errors["order"] = "Two items have the same id."
    lines = [item for item in items if item.offering.kind == ProductKind.INTERNET_ACCESS]
    if not lines:
        errors["order"] = "An order needs an internet access item: add-ons are sold with a line."
    elif len(lines) > 1:
        for extra in lines[1:]:
            errors[extra.item_id] = "An order holds one internet access line."
    if live is not None:
        errors.update(_live_order_problems(items, live))
    seen_kinds: dict[str, str] = {}
    for item in items:
        problem = _item_problem(item, by_id, area, live)
        if problem:
            errors.setdefault(item.item_id, problem)
            continue
        if item.offering.is_add_on and item.action == ItemAction.ADD:
            kind = item.offering.kind
            if live is not None and kind in live.add_on_kinds:
                errors[item.item_id] = (
                    f"{live.name} has a {item.offering.specification.name.lower()} already."
                )
            elif kind in seen_kinds:
                errors[item.item_id] = (
                    f"Only one {item.offering.specification.name.lower()} per line "
                    f"(item {seen_kinds[kind]} is one)."
                )
            seen_kinds[kind] = item.item_id
    if errors:
        raise ItemsInvalid(errors)
    return lines[0]


def _live_order_problems(items: Sequence[ItemRequest], live: LiveLine) -> dict[str, str]:
    """The rules of an order about a live line, beyond each item's own."""
    root = next((item for item in items if item.action == ItemAction.NO_CHANGE), None) or next(
        (item for item in items if item.relies_on is None), None
    )
    if root is None:
        return {}  # each item's own rule says what is wrong
    children = [item for item in items if item is not root]
    if root.action == ItemAction.NO_CHANGE and not children:
        return {
            "order": f"An order for {live.name}, which is live, needs an add-on to add or take off."
        }
    if root.action == ItemAction.MODIFY and children:
        return {
            children[0].item_id: "A change to the line is an order of its own: add or take "
            "off add-ons on an order that names the line unchanged (noChange)."
        }
    if root.action == ItemAction.DELETE:
        named = {item.product_id for item in children if item.action == ItemAction.DELETE}
        missing = [a.name for a in live.add_ons if a.product_id not in named]
        if missing or len(named) != len(children):
            return {
                "order": f"Ceasing {live.name} ceases its add-ons with it: each is an item "
                f"with action 'delete' relying on the line ({', '.join(missing) or 'only'})."
            }
    return {}


def _live_item_problem(
    item: ItemRequest, by_id: dict[str, ItemRequest], area: ServiceArea | None, live: LiveLine
) -> str:
    """An item of an order about a live line (modify, delete, or an add-on's delete)."""
    offering = item.offering
    if item.relies_on is None:  # the line
        if offering.kind != ProductKind.INTERNET_ACCESS:
            return f"{offering.name} is not an internet access line."
        if item.action == ItemAction.DELETE or item.change != ItemChange.PLAN:
            if item.action == ItemAction.MODIFY and item.change not in ItemChange.values:
                return f"A modify item changes the plan, suspends or resumes ({item.change!r}?)."
            return "" if offering == live.offering else f"{offering.name} is not the line's plan."
        if offering == live.offering:
            return f"{live.name} is on {offering.name} already."
        if not offering.is_active:
            return f"{offering.name} is no longer sold."
        if area is not None and not area.supports(offering):
            return f"{offering.name} ({offering.speed_tier}) is not available at this address."
        return ""
    parent = by_id.get(item.relies_on or "")
    add_on = live.add_on(item.product_id)
    if parent is None or parent.relies_on is not None:
        return f"It relies on item {item.relies_on}, which is not the order's line."
    if add_on is None:
        return f"Product {item.product_id} is not an add-on in service on {live.name}."
    if offering != add_on.offering:
        return f"{offering.name} is not that add-on's offering ({add_on.offering.name})."
    return ""


def _item_problem(
    item: ItemRequest,
    by_id: dict[str, ItemRequest],
    area: ServiceArea | None,
    live: LiveLine | None = None,
) -> str:
    offering = item.offering
    if item.action == ItemAction.NO_CHANGE:
        if offering.kind != ProductKind.INTERNET_ACCESS or item.relies_on is not None:
            return NO_CHANGE_ONLY_LINE
        return ""  # live already: not sold again, not checked against today's network
    if item.action in (ItemAction.MODIFY, ItemAction.DELETE):
        if live is None:
            return f"Action '{item.action}' names a live product (product.id)."
        return _live_item_problem(item, by_id, area, live)
    if (
        live is not None
        and by_id.get(item.relies_on or "") is not None
        and (by_id[item.relies_on or ""].action != ItemAction.NO_CHANGE)
    ):
        return "Add-ons are added on an order that names the line unchanged (noChange)."
    if item.action != ItemAction.ADD:
        return f"Action '{item.action}' is not available on a new order; use 'add'."
    if item.quantity != 1:
        return "Quantity must be 1."
    if not offering.is_active:
        return f"{offering.name} is no longer sold."
    spec = offering.specification
    if spec.is_add_on:
        parent = by_id.get(item.relies_on or "")
        if item.relies_on is None:
            return (
                f"{offering.name} is an add-on: it must rely on the order's internet access "
                "item (productOrderItemRelationship reliesOn)."
            )
        if parent is None:
            return f"It relies on item {item.relies_on}, which is not on this order."
        if parent.offering.kind != spec.parent_kind:
            return (
                f"{offering.name} must rely on an internet access item; item "
                f"{parent.item_id} is {parent.offering.name}."
            )
    elif item.relies_on is not None:
        return f"{offering.name} is the line: it relies on no other item."
    if area is not None and not area.supports(offering):
        if offering.download_mbps and area.max_download_mbps < offering.download_mbps:
            return f"{offering.name} ({offering.speed_tier}) is not available at this address."
        return (
            f"{offering.name} does not suit the network at this address "
            f"({area.get_technology_display()})."
        )
    return ""


def items_create(
    order: Order, items: Sequence[ItemRequest], *, live: LiveLine | None = None
) -> list[OrderItem]:
    """Write the order's items, prices as ordered: two inserts (the line, then its add-ons)
    however many items there are. The ``live`` line is written completed, with the identifiers
    the network knows it by, at no price: this order delivers only what goes on it."""
    numbered = list(enumerate(items, start=1))
    rows = OrderItem.objects.bulk_create(
        [
            _row(order, item, n, parent=None, live=live)
            for n, item in numbered
            if item.relies_on is None
        ]
    )
    parents = {row.item_id: row for row in rows}
    add_ons = [
        _row(order, item, n, parent=parents[item.relies_on], live=live)
        for n, item in numbered
        if item.relies_on is not None
    ]
    if add_ons:
        rows += OrderItem.objects.bulk_create(add_ons)
    return sorted(rows, key=lambda row: row.position)


def _row(
    order: Order,
    item: ItemRequest,
    position: int,
    *,
    parent: OrderItem | None,
    live: LiveLine | None = None,
) -> OrderItem:
    if item.action in (ItemAction.MODIFY, ItemAction.DELETE) and live is not None:
        return _change_row(order, item, position, parent=parent, live=live)
    if item.action == ItemAction.NO_CHANGE and live is not None:
        return OrderItem(
            order=order,
            item_id=item.item_id,
            position=position,
            offering=item.offering,
            action=item.action,
            quantity=item.quantity,
            recurring_price=Decimal("0.00"),
            one_time_price=Decimal("0.00"),
            currency=item.offering.currency,
            state=ItemState.COMPLETED,
            state_changed_at=order.submitted_at,
            completed_at=timezone.now(),
            network_identifiers=dict(live.network_identifiers),
            product_ref=live.product_id,
        )
    return OrderItem(
        order=order,
        item_id=item.item_id,
        position=position,
        offering=item.offering,
        action=item.action,
        quantity=item.quantity,
        parent=parent,
        recurring_price=item.offering.monthly_price * item.quantity,
        one_time_price=item.offering.one_time_price * item.quantity,
        currency=item.offering.currency,
        state_changed_at=order.submitted_at,
    )


def _change_row(
    order: Order, item: ItemRequest, position: int, *, parent: OrderItem | None, live: LiveLine
) -> OrderItem:
    """A change to a live product: its identifiers for the network; a plan change priced at
    the new plan (billing applies it from the change's date), anything else at no price."""
    add_on = live.add_on(item.product_id)
    identifiers = add_on.network_identifiers if add_on is not None else live.network_identifiers
    plan_change = item.action == ItemAction.MODIFY and item.change == ItemChange.PLAN
    return OrderItem(
        order=order,
        item_id=item.item_id,
        position=position,
        offering=item.offering,
        action=item.action,
        change=item.change if item.action == ItemAction.MODIFY else "",
        from_offering=live.offering if plan_change else None,
        quantity=item.quantity,
        parent=parent,
        recurring_price=item.offering.monthly_price if plan_change else Decimal("0.00"),
        one_time_price=Decimal("0.00"),
        currency=item.offering.currency,
        state_changed_at=order.submitted_at,
        network_identifiers=dict(identifiers),
        product_ref=item.product_id,
    )


def items_totals(items: Sequence[ItemRequest]) -> tuple[Decimal, Decimal]:
    """Per month and due now, as these items would be ordered today (a live line they go on is
    not charged again)."""
    ordered = [
        item
        for item in items
        if item.action == ItemAction.ADD
        or (item.action == ItemAction.MODIFY and item.change == ItemChange.PLAN)
    ]
    monthly = sum((item.offering.monthly_price * item.quantity for item in ordered), Decimal("0"))
    once = sum((item.offering.one_time_price * item.quantity for item in ordered), Decimal("0"))
    return monthly, once
