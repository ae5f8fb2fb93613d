"""TMF622 orders that change a product of the installed base (TMF637), read into the same
``OrderDraft`` a new order is (``orders.services.order_submit`` takes both). Each item names
its live product by ``product.id``:

- a plan change: one item, ``action`` "modify", ``productOffering.id`` the new offering;
- a suspension / resumption: one item, "modify", ``product.status`` "suspended" / "active";
- a cease: "delete" on the line, and one "delete" item per live add-on on it, each
  ``productOrderItemRelationship`` [{id: <the line's item>, relationshipType "reliesOn"}];
- an add-on taken off: the line with "noChange", the add-on's "delete" relying on it.

No service address: the order goes where the line is. The customer is ``relatedParty`` by
``id`` and must be the line's. Which changes a line can take now is ``orders.items``' rule (a
refusal names the item); this module only reads the body and resolves the products it names.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from orders.installed_base import LiveLine, live_line
from orders.items import ItemRequest
from orders.models import Plan
from orders.services import CustomerDetails
from orders.states import ItemAction, ItemChange
from tmf.productorder.parties import Party, RelatedParty
from tmf.productorder.serializers import (
    MAX_EXTERNAL_ID,
    MAX_ITEM_ID,
    SERVER_SET,
    ItemRelationship,
    OrderDraft,
    StartDate,
    _naming,
)
from tmf.serializing import Text, TmfObject, Whole, refuse_server_set

CHANGE_ACTIONS = (ItemAction.MODIFY.value, ItemAction.DELETE.value)
ITEM_ACTIONS = (*CHANGE_ACTIONS, ItemAction.NO_CHANGE.value)
# product.status on a modify item: what it asks for (TMF622 ProductStatusType values).
STATUS_CHANGES = {"suspended": ItemChange.SUSPEND, "active": ItemChange.RESUME}


def is_change_order(body: Mapping[str, Any]) -> bool:
    """Whether a create's body is a change to live products: an item "modify" or "delete"
    naming its product (``product.id``). Without one it is read as a new order, whose
    serializer says what those actions need."""
    items = body.get("productOrderItem")
    if not isinstance(items, list):
        return False
    return any(
        isinstance(item, Mapping)
        and item.get("action") in CHANGE_ACTIONS
        and isinstance(item.get("product"), Mapping)
        and isinstance(item["product"].get("id"), str)
        for item in items
    )


class LiveProductRef(TmfObject):
    """The product of the installed base the item is about (its TMF637 id); on a suspension or
    resumption, the ``status`` asked for."""

    meta = ("@type", "@baseType", "@schemaLocation", "@referredType")
    id = Text(required=True, max_length=40, help_text="The TMF637 product id.")
    href = Text(max_length=500)
    name = Text(max_length=200)
    status = serializers.ChoiceField(
        choices=list(STATUS_CHANGES),
        required=False,
        allow_null=True,
        help_text="On a modify item: suspended (suspend the line) or active (resume it).",
        error_messages={
            "invalid_choice": "'suspended' (suspend the line) or 'active' (resume it).",
        },
    )


class OfferingId(TmfObject):
    """The offering: on a plan change the new one (its TMF620 id)."""

    meta = ("@type", "@baseType", "@schemaLocation", "@referredType")
    id = Text(required=True, max_length=40)
    href = Text(max_length=500)
    name = Text(max_length=200)


class ChangeOrderItem(TmfObject):
    """An item of a change: what to do to one live product."""

    id = Text(required=True, max_length=MAX_ITEM_ID)
    action = serializers.ChoiceField(
        choices=list(ITEM_ACTIONS),
        error_messages={
            "invalid_choice": "On a change: 'modify', 'delete', or 'noChange' (the line an "
            "add-on is taken off).",
        },
    )
    quantity = Whole(required=False, allow_null=True, min_value=1, max_value=1, help_text="1.")
    product = LiveProductRef()
    productOffering = OfferingId(required=False, allow_null=True)
    productOrderItemRelationship = ItemRelationship(
        many=True, required=False, allow_null=True, max_length=1
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        action = attrs["action"]
        status = attrs["product"].get("status")
        offering = (attrs.get("productOffering") or {}).get("id")
        relationships = attrs.get("productOrderItemRelationship") or []
        change = ""
        if action == ItemAction.MODIFY:
            if status and offering:
                raise ValidationError(
                    {"product": "One change per order: a new plan or a status, not both."}
                )
            if status:
                change = STATUS_CHANGES[status]
            elif offering:
                change = ItemChange.PLAN
            else:
                raise ValidationError(
                    {
                        "productOffering": "A modify item names the new plan (productOffering.id)"
                        " or the status asked for (product.status 'suspended' or 'active')."
                    }
                )
        elif status:
            raise ValidationError({"product": {"status": f"Only on a modify item, not {action}."}})
        try:
            product_id = uuid.UUID(attrs["product"]["id"])
        except ValueError:
            raise ValidationError(
                {"product": {"id": f"No product '{attrs['product']['id']}' in the installed base."}}
            ) from None
        return {
            "item_id": attrs["id"],
            "action": action,
            "change": change,
            "product_id": product_id,
            "offering_code": offering,
            "relies_on": relationships[0]["id"] if relationships else None,
        }

    def run_validation(self, data: Any = serializers.empty) -> Any:
        # Every message names its item (validate's as well as the fields').
        try:
            return super().run_validation(data)
        except ValidationError as exc:
            item_id = data.get("id") if isinstance(data, Mapping) else None
            if isinstance(item_id, str) and item_id.strip():
                raise ValidationError(_naming(exc.detail, f"Item {item_id.strip()}: ")) from None
            raise


class ChangeOrder(TmfObject):
    """A ProductOrder_Create changing a live line: a plan change or a suspension/resumption
    (one modify item), a cease (a delete item for the line and one per add-on on it, relying on
    it), an add-on taken off (the line noChange, the add-on's delete relying on it). The
    customer is named by id; the order goes at the line's address."""

    externalId = Text(max_length=MAX_EXTERNAL_ID)
    requestedStartDate = StartDate(help_text="A later day holds the change until then.")
    relatedParty = RelatedParty(many=True)
    productOrderItem = ChangeOrderItem(many=True)

    def problems(self, data: Mapping[str, Any], errors: Mapping[str, Any]) -> dict[str, Any]:
        return refuse_server_set(data, SERVER_SET)

    def validate(self, attrs: dict[str, Any]) -> OrderDraft:  # type: ignore[override]
        party: Party = attrs["relatedParty"]
        if party.existing is None:
            raise ValidationError(
                {"relatedParty": "A change names the line's customer by id (role Customer)."}
            )
        entries: list[dict[str, Any]] = attrs["productOrderItem"]
        roots = [entry for entry in entries if entry["relies_on"] is None]
        if not roots:
            raise ValidationError(
                {"productOrderItem": "One item names the line (product.id), relying on no other."}
            )
        root = roots[0]
        line = live_line(root["product_id"])
        if line is None:
            raise ValidationError(
                {
                    _path(entries, root): {
                        "product": {
                            "id": f"Item {root['item_id']}: product {root['product_id']} is not "
                            "a line in the installed base."
                        }
                    }
                }
            )
        items = [_item_request(entry, line, entries) for entry in entries]
        return OrderDraft(
            customer=CustomerDetails(
                name=party.name,
                email=party.email,
                phone=party.phone,
                address_line1=line.address_line1,
                address_line2=line.address_line2,
                city=line.city,
                postcode=line.postcode,
            ),
            existing_customer=party.existing,
            items=items,
            requested_start=attrs.get("requestedStartDate"),
            external_id=attrs.get("externalId") or "",
        )


def _path(entries: list[dict[str, Any]], entry: dict[str, Any]) -> str:
    return f"productOrderItem[{entries.index(entry)}]"


def _item_request(
    entry: dict[str, Any], line: LiveLine, entries: list[dict[str, Any]]
) -> ItemRequest:
    """The ItemRequest for one item: its offering is the product's own, or the new plan."""
    product_id: uuid.UUID = entry["product_id"]
    code = entry["offering_code"]
    if product_id == line.product_id:
        current: Plan = line.offering
    else:
        add_on = line.add_on(product_id)
        if add_on is None:
            raise ValidationError(
                {
                    _path(entries, entry): {
                        "product": {
                            "id": f"Item {entry['item_id']}: product {product_id} is not an "
                            f"add-on in service on {line.name}."
                        }
                    }
                }
            )
        current = add_on.offering
    offering = current
    if code and code != current.code:
        new = Plan.objects.select_related("specification").filter(code=code).first()
        if new is None:
            raise ValidationError(
                {
                    _path(entries, entry): {
                        "productOffering": {
                            "id": f"Item {entry['item_id']}: no product offering '{code}'."
                        }
                    }
                }
            )
        offering = new
    return ItemRequest(
        item_id=entry["item_id"],
        offering=offering,
        relies_on=entry["relies_on"],
        action=entry["action"],
        change=entry["change"],
        product_id=product_id,
    )
