"""TMF622 resources, each described once: these serializers validate the request bodies (every
problem listed with its attribute path, tmf.serializing) and are what the OpenAPI document
shows (drf-spectacular; response-only attributes are read-only fields, left out of the request
components). Answers are written by tmf.productorder.representation in the same shape.

A ProductOrder_Create is read into an ``OrderDraft``, what ``orders.services.order_submit``
takes:

- ``productOrderItem``: the internet access line and its add-ons, each with its own ``id``,
  ``action`` "add", ``quantity``, ``productOffering.id`` (a TMF620 offering) and, for an add-on,
  ``productOrderItemRelationship`` [{id, relationshipType "reliesOn"}] naming the line. The item
  that relies on no other carries the service address as its ``product.place`` (a
  GeographicAddress value). Which combinations may be ordered is ``orders.items``' rule.
- Add-ons for the customer's live line instead name that line as an item with ``action``
  "noChange" and its ``product.id`` (the TMF637 product, a ProductRefOrValue by reference; its
  ``productOffering``, if given, must be the line's): the order goes at the line's address, so
  no place is needed, and the line must be the named customer's (orders.services).
- ``relatedParty``: the entry with role Customer (or the only entry): ``id`` of one of our
  customers, or a new customer's ``name`` and ``contactMedium`` (e-mail and phone, TMF632).
- ``requestedStartDate``: a later day makes a future-dated order. ``externalId``: kept.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from orders.items import ItemRequest
from orders.models import Customer, Plan
from orders.services import CustomerDetails
from orders.states import TMF_ITEM_STATE, TMF_STATE, ItemAction
from tmf.common import parse_when
from tmf.errors import TmfError
from tmf.models import TaskState
from tmf.productorder.live_line import (
    MAX_PRODUCT_ID,
    LineOfferingRef,
    live_line_problems,
    live_line_request,
)
from tmf.productorder.parties import (
    GeographicAddress,
    Party,
    RelatedParty,
    ServiceAddress,
)
from tmf.serializing import REQUIRED, Ref, Text, TmfList, TmfObject, Whole, refuse_server_set

# The TMF622 states our orders and items take (ProductOrderStateType, ProductOrderItemStateType
# in the document).
PRODUCT_ORDER_STATES = sorted(set(TMF_STATE.values()))
PRODUCT_ORDER_ITEM_STATES = sorted(set(TMF_ITEM_STATE.values()))
SERVER_SET = ("id", "href", "orderDate", "state", "completionDate")
# Read-only attributes that move with the clock (a milestone due becomes violated): a patch
# sending back the representation it read a moment ago is not refused for them.
MOVING = ("productOrderMilestone", "productOrderJeopardyAlert")
MAX_EXTERNAL_ID = 100
MAX_ITEM_ID = 40  # orders.OrderItem.item_id
MAX_NOTE = 2000
MAX_NOTES = 20
RELIES_ON = "reliesOn"
MOVES_TO = "movesTo"  # tmf.productorder.representation
MOVES_FROM = "movesFrom"
# What an item may do (TMF622 OrderItemActionType): add a product, or name the live line the
# order's add-ons go on.
ITEM_ACTIONS = [ItemAction.ADD.value, ItemAction.NO_CHANGE.value]


# --- dates ------------------------------------------------------------------------------------
def _day_of(value: str) -> datetime.date:
    """The day an ISO 8601 date or date-time names (a date-time's day where we are)."""
    text = value.strip()
    try:
        moment = parse_datetime(text)
        if moment is not None:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, datetime.UTC)
            return timezone.localdate(moment)
        day = parse_date(text)
    except ValueError:
        day = None
    except OverflowError:  # 9999-12-31T23:59-14:00 is after the last representable day
        raise ValidationError("Out of range.") from None
    if day is None:
        raise ValidationError("Not an ISO 8601 date or date-time.")
    return day


@extend_schema_field(OpenApiTypes.DATETIME)
class StartDate(serializers.Field):
    """An ISO 8601 date or date-time, read as its day; null or "" for none."""

    default_error_messages = {"invalid": "Must be an ISO 8601 date-time string."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> datetime.date | None:
        if data == "":
            return None
        if not isinstance(data, str):
            self.fail("invalid")
        return _day_of(data)

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(OpenApiTypes.DATETIME)
class RequestedInstant(StartDate):
    """As StartDate, kept as the instant it names (a date: its first instant, UTC)."""

    def to_internal_value(self, data: Any) -> Any:
        day = super().to_internal_value(data)
        if day is None:
            return None
        try:
            return day, parse_when(data)
        except TmfError as exc:
            raise ValidationError(exc.message) from None


class ProductOfferingRef(Ref):
    """The offering: its TMF620 productOffering id. Answers add its href and name."""

    id = Text(required=True, max_length=40, help_text="The TMF620 productOffering id.")
    href = Text(read_only=True)
    name = Text(read_only=True)

    def validate(self, attrs: dict[str, Any]) -> Plan:  # type: ignore[override]
        code = attrs["id"]
        known: dict[str, Plan] | None = getattr(self.root, "offerings", None)
        if known is not None:
            offering = known.get(code)
        else:
            offering = Plan.objects.select_related("specification").filter(code=code).first()
        if offering is None:
            raise ValidationError({"id": f"No product offering '{code}'."})
        if not offering.is_active:
            raise ValidationError({"id": f"'{code}' is no longer sold."})
        return offering


class ProductSpecificationRef(Ref):
    """The TMF620 product specification the item's offering delivers."""

    id = Text(read_only=True, help_text="The TMF620 productSpecification id.")
    name = Text(read_only=True)


class Characteristic(serializers.Serializer):
    """A characteristic value of the product (speeds, a router's model)."""

    name = serializers.CharField(read_only=True)
    valueType = serializers.CharField(read_only=True)
    value = serializers.JSONField(read_only=True)


class ProductValue(TmfObject):
    """The product the item makes, or (action noChange) the live line it names by ``id``. A new
    line's carries the service address (``place``); answers add, once the item is delivered,
    the installed-base product's id and href (TMF637)."""

    meta = ("@type", "@baseType", "@schemaLocation", "@referredType")
    id = Text(
        max_length=MAX_PRODUCT_ID,
        help_text="On a 'noChange' item: the live line's product (TMF637 product id). In "
        "answers: the installed-base product, once delivered.",
    )
    href = Text(max_length=500, help_text="The TMF637 product (set in answers).")
    name = Text(read_only=True)
    isBundle = serializers.BooleanField(read_only=True)
    place = GeographicAddress(
        many=True,
        required=False,
        allow_null=True,
        help_text="The service address (on the internet access item).",
    )
    productSpecification = ProductSpecificationRef(read_only=True)
    productCharacteristic = Characteristic(many=True, read_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        places = attrs.get("place") or []
        return {"address": places[0] if places else None, "product_id": attrs.get("id") or None}


class ItemRelationship(TmfObject):
    """Another item of the same order this one relies on (relationshipType reliesOn)."""

    id = Text(required=True, max_length=MAX_ITEM_ID, help_text="The item this one relies on.")
    relationshipType = serializers.ChoiceField(
        choices=[RELIES_ON],
        error_messages={
            "invalid_choice": f"Only '{RELIES_ON}' (an add-on on its internet access item).",
            "required": REQUIRED,
            "null": REQUIRED,
        },
    )


class Money(serializers.Serializer):
    """An amount in a currency."""

    unit = serializers.CharField(read_only=True)
    value = serializers.FloatField(read_only=True)


class Price(serializers.Serializer):
    """A price, tax included."""

    taxIncludedAmount = Money(read_only=True)


class OrderPrice(serializers.Serializer):
    """A price as ordered: per month (recurring) or once (oneTime, on the first bill)."""

    name = serializers.CharField(read_only=True)
    priceType = serializers.ChoiceField(choices=["recurring", "oneTime"], read_only=True)
    recurringChargePeriod = serializers.CharField(read_only=True, help_text="month")
    price = Price(read_only=True)


class ProductOrderItemRef(serializers.Serializer):
    productOrderId = serializers.CharField(read_only=True)
    productOrderItemId = serializers.CharField(read_only=True)


class ProductOrderMilestone(serializers.Serializer):
    """TMF622 v5 ProductOrderMilestone (an extension on v4): a stage the order is watched
    against, or ``pointOfNoReturn``, Completed once the plan's point of no return (activating
    the line) has started: from then on the order can no longer be cancelled or amended."""

    id = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True, help_text="The target it is due by.")
    status = serializers.ChoiceField(
        choices=["Yet-To-Reach", "Completed", "Violated"], read_only=True
    )
    milestoneDate = serializers.DateTimeField(
        read_only=True, help_text="When it was met; while still to reach, when it is due."
    )
    message = serializers.CharField(read_only=True)
    productOrderItem = ProductOrderItemRef(many=True, read_only=True)


class ProductOrderJeopardyAlert(serializers.Serializer):
    """TMF622 v5 ProductOrderJeopardyAlert (an extension on v4): a milestone at risk, late or
    critical by the share of its allowed time used; gone once the milestone is met."""

    id = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    jeopardyType = serializers.ChoiceField(choices=["At risk", "Late", "Critical"], read_only=True)
    exception = serializers.CharField(read_only=True, help_text="The milestone it is about.")
    alertDate = serializers.DateTimeField(read_only=True, help_text="When it reached its level.")
    message = serializers.CharField(read_only=True)
    productOrderItem = ProductOrderItemRef(many=True, read_only=True)


class ItemList(TmfList):
    """productOrderItem: the offerings every item names are read at once (one query for the
    whole order, however many items), before each item is read."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, list):
            codes = {
                entry["productOffering"]["id"].strip()
                for entry in data
                if isinstance(entry, Mapping)
                and isinstance(entry.get("productOffering"), Mapping)
                and isinstance(entry["productOffering"].get("id"), str)
            }
            offerings = Plan.objects.select_related("specification").filter(code__in=codes)
            self.root.offerings = {offering.code: offering for offering in offerings}  # type: ignore[attr-defined]
        return super().to_internal_value(data)


class ProductOrderItem(TmfObject):
    """An item of the order: the internet access line, an add-on relying on it, or the
    customer's live line (action noChange) the add-ons go on."""

    id = Text(required=True, max_length=MAX_ITEM_ID, help_text="The item's id in this order.")
    action = serializers.ChoiceField(
        choices=ITEM_ACTIONS,
        error_messages={
            "invalid_choice": "Only 'add' (a new connection or add-on) or 'noChange' (the "
            "customer's live line the add-ons go on) is supported here; 'modify' and 'delete' "
            "name the live product they change (product.id).",
            "required": "Required ('add', or 'noChange' for a live line).",
            "null": "Required ('add', or 'noChange' for a live line).",
        },
    )
    quantity = Whole(required=False, allow_null=True, min_value=1, help_text="1 (the default).")
    productOffering = ProductOfferingRef(
        required=False,
        help_text="Required on an 'add' item. On the 'noChange' item, if given, the live line's.",
    )
    productOrderItemRelationship = ItemRelationship(
        many=True,
        required=False,
        allow_null=True,
        max_length=1,
        help_text="An add-on: reliesOn its internet access item.",
    )
    product = ProductValue(
        required=False,
        help_text="Required on a new internet access item: its place; on the 'noChange' item: "
        "the live line's id.",
    )
    state = serializers.ChoiceField(choices=PRODUCT_ORDER_ITEM_STATES, read_only=True)
    itemPrice = OrderPrice(many=True, read_only=True)

    class Meta:
        list_serializer_class = ItemList

    def problems(self, data: Mapping[str, Any], errors: Mapping[str, Any]) -> dict[str, Any]:
        if data.get("action") == ItemAction.NO_CHANGE:
            return live_line_problems(data, errors)
        problems: dict[str, Any] = {}
        if data.get("productOffering") is None and "productOffering" not in errors:
            problems["productOffering"] = REQUIRED
        return {**self._place_problems(data, errors), **problems}

    def _place_problems(self, data: Mapping[str, Any], errors: Mapping[str, Any]) -> dict[str, Any]:
        # The item that relies on no other is the line: it carries the service address.
        if data.get("productOrderItemRelationship") or "product" in errors:
            return {}
        product = data.get("product")
        has_place = isinstance(product, Mapping) and bool(product.get("place"))
        if has_place or (product is not None and not isinstance(product, Mapping)):
            return {}
        if _names_an_add_on(data.get("productOffering")):
            return {}  # an add-on relying on nothing: orders.items names what it lacks
        if product is None:
            return {"product": REQUIRED}
        return {"product": {"place": "The service address is required."}}

    def to_internal_value(self, data: Any) -> Any:
        try:
            if isinstance(data, Mapping) and data.get("action") == ItemAction.NO_CHANGE:
                return self._live_line_item(data)
            return super().to_internal_value(data)
        except ValidationError as exc:
            item_id = data.get("id") if isinstance(data, Mapping) else None
            if isinstance(item_id, str) and item_id.strip():
                raise ValidationError(_naming(exc.detail, f"Item {item_id.strip()}: ")) from None
            raise

    def _live_line_item(self, data: Mapping[str, Any]) -> Any:
        """The 'noChange' item: its offering is read as a reference only (the live line's
        offering may be one no longer sold), for ``validate`` to compare with the line's."""
        named = data.get("productOffering")
        attrs = super().to_internal_value(
            {key: value for key, value in data.items() if key != "productOffering"}
        )
        if named is not None:
            ref = LineOfferingRef(data=named)
            if not ref.is_valid():
                raise ValidationError({"productOffering": ref.errors})
            attrs["productOffering"] = ref.validated_data["id"]
        return attrs

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        relationships = attrs.get("productOrderItemRelationship") or []
        if attrs["action"] == ItemAction.NO_CHANGE:
            return {"request": live_line_request(attrs, relationships), "address": None}
        return {
            "request": ItemRequest(
                item_id=attrs["id"],
                offering=attrs["productOffering"],
                relies_on=relationships[0]["id"] if relationships else None,
                quantity=attrs.get("quantity") or 1,
                action=attrs["action"],
            ),
            "address": (attrs.get("product") or {}).get("address"),
        }


def _names_an_add_on(offering: Any) -> bool:
    code = offering.get("id") if isinstance(offering, Mapping) else None
    if not isinstance(code, str):
        return False
    return Plan.objects.filter(code=code.strip()).exclude(specification__parent_kind="").exists()


def _naming(detail: Any, prefix: str) -> Any:
    """Each message in a validation detail, prefixed (with the item it is about)."""
    if isinstance(detail, Mapping):
        return {key: _naming(value, prefix) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_naming(value, prefix) for value in detail]
    return f"{prefix}{detail}" if str(detail) else detail


# --- the order --------------------------------------------------------------------------------
NO_ADDRESS = ServiceAddress(line1="", line2="", city="", postcode="")


@dataclass(frozen=True)
class OrderDraft:
    customer: CustomerDetails
    existing_customer: Customer | None
    items: list[ItemRequest]
    requested_start: datetime.date | None
    external_id: str

    def path_of(self, item_id: str) -> str:
        """The attribute path of the item with this id (``productOrderItem[1]``)."""
        for index, item in enumerate(self.items):
            if item.item_id == item_id:
                return f"productOrderItem[{index}]"
        return "productOrderItem"

    @property
    def line_path(self) -> str:
        line = next((item for item in self.items if item.relies_on is None), None)
        return self.path_of(line.item_id) if line else "productOrderItem"


class ChannelRef(serializers.Serializer):
    """The channel the order came through."""

    id = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class NoteSerializer(TmfObject):
    """A note for the ISP's team, added to the order's timeline."""

    text = Text(required=True, max_length=MAX_NOTE)


class OrderRelationship(TmfObject):
    """Another order this one is linked to (TMF622 v5's OrderRelationship, an extension of v4):
    the other order of a move home, ``movesTo`` on the cease of the old line (it waits for the
    new line's order), ``movesFrom`` on the new line's order."""

    id = serializers.CharField(read_only=True, help_text="The other order's ID.")
    href = serializers.CharField(read_only=True)
    relationshipType = serializers.ChoiceField(choices=[MOVES_TO, MOVES_FROM], read_only=True)
    meta = ("@type", "@referredType")


class ProductOrder(TmfObject):
    """A ProductOrder: a create's body (ProductOrder_Create) and every answer."""

    id = Text(read_only=True, help_text="The shared order ID.")
    href = Text(read_only=True)
    externalId = Text(max_length=MAX_EXTERNAL_ID, help_text="Your own reference.")
    category = Text(read_only=True)
    description = Text(read_only=True)
    orderDate = serializers.DateTimeField(read_only=True)
    state = serializers.ChoiceField(choices=PRODUCT_ORDER_STATES, read_only=True)
    requestedStartDate = StartDate(help_text="A later day makes a future-dated order.")
    expectedCompletionDate = serializers.DateTimeField(read_only=True)
    completionDate = serializers.DateTimeField(read_only=True)
    cancellationDate = serializers.DateTimeField(read_only=True)
    cancellationReason = Text(read_only=True)
    channel = ChannelRef(many=True, read_only=True)
    relatedParty = RelatedParty(many=True, help_text="The customer (role Customer).")
    productOrderItem = ProductOrderItem(
        many=True,
        error_messages={"empty": "At least one item (the internet access line) is required."},
        help_text="The internet access line and its add-ons.",
    )
    orderTotalPrice = OrderPrice(many=True, read_only=True)
    productOrderMilestone = ProductOrderMilestone(
        many=True,
        read_only=True,
        help_text="TMF622 v5's productOrderMilestone, carried on v4 as an extension: accepted, "
        "provisioning started, each item active, billing started, completed, each with its "
        "due date from the ISP's targets and when it was met; and pointOfNoReturn.",
    )
    productOrderJeopardyAlert = ProductOrderJeopardyAlert(
        many=True,
        read_only=True,
        help_text="TMF622 v5's productOrderJeopardyAlert, carried on v4 as an extension: the "
        "order's milestones now at risk (75 % of their time used), late (100 %) or critical "
        "(150 %), worst first.",
    )
    orderRelationship = OrderRelationship(
        many=True,
        read_only=True,
        help_text="The other order of a move home: movesTo (on the cease of the old line, "
        "which waits for the new line's order) or movesFrom (on the new line's order).",
    )

    def problems(self, data: Mapping[str, Any], errors: Mapping[str, Any]) -> dict[str, Any]:
        return refuse_server_set(data, SERVER_SET)

    def validate_requestedStartDate(self, value: datetime.date | None) -> datetime.date | None:
        if value is not None and value < timezone.localdate():
            # order_submit refuses it too; said here so that it comes with the body's other
            # problems.
            raise ValidationError("The requested start date is in the past.")
        return value

    def validate(self, attrs: dict[str, Any]) -> OrderDraft:  # type: ignore[override]
        items = attrs["productOrderItem"]
        party: Party = attrs["relatedParty"]
        address = next(
            (item["address"] for item in items if item["request"].relies_on is None), None
        ) or next((item["address"] for item in items if item["address"]), None)
        if any(item["request"].action == ItemAction.NO_CHANGE for item in items):
            # Add-ons for a live line: the order goes at the line's address (order_submit).
            address = NO_ADDRESS
        elif address is None:  # every item relies on another
            raise ValidationError(
                {
                    "productOrderItem": "An order needs an internet access item, relying on no "
                    "other item, with the service address as its product.place."
                }
            )
        return OrderDraft(
            customer=CustomerDetails(
                name=party.name,
                email=party.email,
                phone=party.phone,
                address_line1=address.line1,
                address_line2=address.line2,
                city=address.city,
                postcode=address.postcode,
            ),
            existing_customer=party.existing,
            items=[item["request"] for item in items],
            requested_start=attrs.get("requestedStartDate"),
            external_id=attrs.get("externalId") or "",
        )


@extend_schema_field(ProductOrderItem(many=True))
class ItemListPatch(serializers.Field):
    """``productOrderItem`` in a merge patch: the full item list the order should have. Passed on
    as sent: tmf.productorder.amend reads it into the line's plan and add-ons, naming each
    item's problem by its path, and the view compares it with the order's own items."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class ProductOrderUpdate(TmfObject):
    """A merge patch of a ProductOrder. Changeable: ``externalId``, ``requestedStartDate``,
    ``note`` (added to the timeline). Any other attribute sent back unchanged is accepted;
    changed, it is refused by name. ``productOrderItem`` is passed on as ``items`` (read by
    tmf.productorder.amend). Needs ``context``: ``current`` (the order's representation)."""

    meta = ()
    externalId = Text(max_length=MAX_EXTERNAL_ID)
    requestedStartDate = StartDate(help_text="While the order has not started.")
    note = NoteSerializer(
        many=True,
        required=False,
        allow_null=True,
        max_length=MAX_NOTES,
        error_messages={"max_length": f"At most {MAX_NOTES} notes in one update."},
    )
    productOrderItem = ItemListPatch(
        required=False,
        help_text="The full item list, as in a create: the internet access item keeps its id "
        "(another productOffering.id changes the plan); each add-on reliesOn it (one left out "
        "is taken off, a new one added). Until the point of no return.",
    )

    def to_internal_value(self, data: Any) -> Any:
        current = self.context["current"]
        if isinstance(data, Mapping) and data.get("requestedStartDate") == current.get(
            "requestedStartDate"
        ):
            data = {key: value for key, value in data.items() if key != "requestedStartDate"}
        return super().to_internal_value(data)

    def problems(self, data: Mapping[str, Any], errors: Mapping[str, Any]) -> dict[str, Any]:
        current = self.context["current"]
        problems: dict[str, Any] = {}
        for key, value in data.items():
            if key in self.fields or key.startswith("@") or key in MOVING:
                continue
            if key in current and value == current[key]:
                continue
            elif key == "state":
                problems[key] = (
                    "The state follows the order's progress; to cancel, POST cancelProductOrder."
                )
            else:
                problems[key] = "Cannot be changed."
        return problems

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if "externalId" in attrs:
            changes["external_id"] = attrs["externalId"] or ""
        if "requestedStartDate" in attrs:
            changes["requested_activation_date"] = attrs["requestedStartDate"]
        if "note" in attrs:
            changes["notes"] = tuple(note["text"] for note in attrs["note"] or ())
        if "productOrderItem" in attrs:
            changes["items"] = attrs["productOrderItem"]
        return changes


def _item_pairs(value: Any) -> list[tuple[Any, Any]] | None:
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        return None
    pairs = []
    for entry in value:
        offering = entry.get("productOffering")
        pairs.append((entry.get("id"), offering.get("id") if isinstance(offering, dict) else None))
    return sorted(pairs, key=repr)


def item_pairs(items: Sequence[tuple[str, str]]) -> list[tuple[Any, Any]]:
    """An order's (item id, offering id) pairs, as ``_item_pairs`` reads a patch's."""
    return sorted(items, key=repr)


# --- cancelProductOrder -----------------------------------------------------------------------
class ProductOrderRef(Ref):
    """The order to cancel, by its ID."""

    id = Text(required=True, max_length=100, help_text="The order ID.")
    href = Text(read_only=True)
    name = None  # type: ignore[assignment]


class CancelProductOrder(TmfObject):
    """A request to cancel an order (kept, in state ``done``, once the order is cancelled)."""

    id = Text(read_only=True)
    href = Text(read_only=True)
    productOrder = ProductOrderRef(
        error_messages={
            "required": 'Required: {{"id": <the order ID>}}.',
            "null": 'Required: {{"id": <the order ID>}}.',
        }
    )
    cancellationReason = Text(max_length=MAX_NOTE)
    requestedCancellationDate = RequestedInstant(
        help_text="Left out or today: the order is cancelled now. A later day: the request is "
        "acknowledged and the order cancelled at that instant (then inProgress, done; or "
        "terminatedWithError if by then the order can no longer be cancelled)."
    )
    effectiveCancellationDate = serializers.DateTimeField(read_only=True)
    state = serializers.ChoiceField(choices=TaskState.values, read_only=True)

    def validate_requestedCancellationDate(self, value: Any) -> datetime.datetime | None:
        if value is None:
            return None
        _day, moment = value
        return moment
