"""The TMF679 ProductOfferingQualification resource, described once: these DRF serializers
validate a create request and produce the OpenAPI document (read-only fields describe what
the answer adds). A refused request is a 400 naming every problem with the path of its
attribute (``productOfferingQualificationItem[2].productOffering.id``), through
tmf.errors.tmf_exception_handler.

What a request may hold:

- the address: a ``place`` (RelatedPlaceRefOrValue with ``role``) carrying a GeographicAddress
  value with at least ``postcode`` (also read: ``streetNr``, ``streetName``, ``streetType``,
  ``locality``, ``city``, ``stateOrProvince``, ``country``, ``name``, ``id``, ``href``), given at
  the top level or in an item's ``product.place``. One qualification answers for one address:
  every place given must name the same postcode. A reference without a postcode cannot be
  looked up and is refused. The postcode must look like a UK postcode (the sales form's rule);
  a country other than the UK is refused as orders are.
- ``productOfferingQualificationItem`` (optional): each with an ``id`` unique in the request
  and ``productOffering.id``; ``action`` if given is "add" (we qualify new connections); an
  add-on's item may name the line it would be sold with in ``qualificationItemRelationship``
  (``relationshipType`` "reliesOn", ``id`` of an item of this request). Without items every
  offering on sale today is qualified.
- ``relatedParty`` (optional, echoed): entries with ``id`` and ``@referredType``.
- ``description`` (echoed), ``provideOnlyAvailable`` (answer only the qualified items),
  ``instantSyncQualification``, ``provideUnavailabilityReason`` and ``provideAlternative``
  (booleans; we always answer at once, always with reasons, and propose no alternatives).
- the meta attributes (``@type``, ``@baseType``, ``@referredType``, ``@schemaLocation``) of
  any object, as text.

Attributes the server sets (``id``, ``href``, ``state``, ``qualificationResult``, the dates,
and per item ``state``, ``qualificationItemResult``, ``alternateProductOfferingProposal``,
``eligibilityUnavailabilityReason``, ``expectedActivationDate``) are refused when sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from orders.models import normalize_postcode, postcode_looks_valid
from tmf.models import TaskState
from tmf.qualification.services import (
    AskedItem,
    QualificationAsk,
    QualificationResult,
    UnavailabilityReason,
)
from tmf.reading import META_TEXT

UK = ("GB", "UK", "GBR", "UNITED KINGDOM")
MAX_ITEMS = 100
MAX_PARTIES = 20  # echoed and kept with the answer
MAX_PLACES = 10
MAX_DESCRIPTION = 1000
SERVER_SET_TEXT = "Set by the server; leave it out."
RELIES_ON = "reliesOn"
ITEMS = "productOfferingQualificationItem"
POSTCODE_REQUIRED = (
    "Required: give the address by value (a GeographicAddress with a postcode); "
    "place references cannot be looked up here."
)


# --- fields ---------------------------------------------------------------------------------
class Text(serializers.CharField):
    """A JSON string (a number is not text), stripped. Optional text may be null (absent);
    required text must be there and not blank."""

    default_error_messages = {
        "invalid": "Must be a string.",
        "required": "Required.",
        "null": "Required.",
        "blank": "Required.",
        "max_length": "At most {max_length} characters.",
    }

    def __init__(self, *, max_length: int, required: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", not required)
        kwargs.setdefault("allow_blank", not required)
        super().__init__(max_length=max_length, required=required, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class MetaText(serializers.CharField):
    """A meta attribute (``@type``, ...): when given, text; null, a list or an object there is
    a malformed body, not an absent attribute."""

    default_error_messages = {
        "invalid": "Must be a string.",
        "null": "Must be a string.",
        "max_length": "At most {max_length} characters.",
    }

    def __init__(self, *, max_length: int, **kwargs: Any) -> None:
        super().__init__(
            max_length=max_length,
            required=False,
            allow_blank=True,
            trim_whitespace=False,
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class Flag(serializers.BooleanField):
    """JSON true or false (not "yes", not 1); null is absent."""

    default_error_messages = {"invalid": "Must be true or false."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class Postcode(Text):
    """A UK postcode (the sales form's rule, orders.models.postcode_looks_valid), returned as
    people write it: upper case, one space ("SW1A 1AA")."""

    default_error_messages = {
        **Text.default_error_messages,
        "required": POSTCODE_REQUIRED,
        "null": POSTCODE_REQUIRED,
        "blank": "Not a postcode: give a full UK postcode, for example SW1A 1AA.",
        "postcode": "Not a postcode: give a full UK postcode, for example SW1A 1AA.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=10, required=True, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not postcode_looks_valid(value):
            self.fail("postcode")
        return " ".join(value.upper().split())


def _list(serializer: type[serializers.Serializer], *, most: int, what: str, **kwargs: Any) -> Any:
    """An optional array (null: absent) of at most ``most`` objects, each of which must be one
    (the list is built by hand: ``many=True`` would let null entries through as well)."""
    meta = getattr(serializer, "Meta", None)
    list_class = getattr(meta, "list_serializer_class", serializers.ListSerializer)
    return list_class(
        child=serializer(),
        required=False,
        allow_null=True,
        max_length=most,
        error_messages={"not_a_list": "Must be an array.", "max_length": f"At most {most} {what}."},
        **kwargs,
    )


# --- objects --------------------------------------------------------------------------------
class TmfObject(serializers.Serializer):
    """An object of a TMF body: its meta attributes are text wherever it is; the attributes
    named in ``server_set`` (declared read-only, for the answer) are refused when sent; what
    it validates to is the attributes given, absent and blank ones left out."""

    server_set: tuple[str, ...] = ()
    default_error_messages = {"invalid": "Must be an object.", "null": "Must be an object."}

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name, max_length in META_TEXT.items():
            fields.setdefault(name, MetaText(max_length=max_length))
        return fields

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        value: dict[str, Any] = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            errors.update(exc.detail)
        if isinstance(data, Mapping):
            for name in self.server_set:
                if name in data:
                    errors.setdefault(name, [SERVER_SET_TEXT])
        if errors:
            raise serializers.ValidationError(errors)
        return {key: item for key, item in value.items() if item not in (None, "", [])}


class QualificationPlaceSerializer(TmfObject):
    """A place: its role and a GeographicAddress by value."""

    role = Text(max_length=60, required=True, help_text="e.g. installationAddress")
    id = Text(max_length=60, required=False)
    href = Text(max_length=500, required=False)
    name = Text(max_length=200, required=False)
    streetNr = Text(max_length=20, required=False)
    streetName = Text(max_length=120, required=False)
    streetType = Text(max_length=30, required=False)
    locality = Text(max_length=120, required=False)
    city = Text(max_length=60, required=False)
    stateOrProvince = Text(max_length=60, required=False)
    postcode = Postcode(help_text="A UK postcode, e.g. SW1A 1AA.")
    country = Text(max_length=60, required=False, help_text="GB")

    def validate_country(self, value: str | None) -> str | None:
        if value and value.upper() not in UK:
            raise serializers.ValidationError("We connect addresses in the United Kingdom only.")
        return value


class QualificationOfferingRefSerializer(TmfObject):
    id = Text(max_length=200, required=True, help_text="A TMF620 productOffering id (plan code).")
    href = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class QualificationProductSerializer(TmfObject):
    place = _list(
        QualificationPlaceSerializer,
        most=MAX_PLACES,
        what="places: a qualification is for one address",
    )


class QualificationItemRelationshipSerializer(TmfObject):
    id = Text(max_length=60, required=True, help_text="The id of an item of this request.")
    relationshipType = serializers.ChoiceField(
        choices=[RELIES_ON],
        error_messages={
            "invalid_choice": "Only 'reliesOn' (an add-on on the line it is sold with).",
            "required": "Required.",
        },
    )


class EligibilityUnavailabilityReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=UnavailabilityReason.values)
    label = serializers.CharField(help_text="In plain words, as the sales form says it.")


class QualificationItemListSerializer(serializers.ListSerializer):
    """The items, each id used once: a repeated id is named on the item that repeats it, with
    every other problem of the list."""

    def to_internal_value(self, data: Any) -> list[Any]:
        try:
            value = super().to_internal_value(data)
            errors: list[Any] = [{} for _ in value]
        except serializers.ValidationError as exc:
            if not isinstance(exc.detail, list) or not isinstance(data, list):
                raise
            # Per entry: {} (valid), {attribute: problems}, or [problems] (not an object).
            value, errors = [], [entry if entry else {} for entry in exc.detail]
            if len(errors) != len(data):
                raise
        id_field = self.child.fields["id"]  # type: ignore[union-attr]
        seen: set[str] = set()
        for index, entry in enumerate(data):
            try:
                item_id = id_field.run_validation(entry.get("id"))
            except (serializers.ValidationError, AttributeError):
                continue
            if item_id in seen and isinstance(errors[index], dict):
                errors[index] = {**errors[index]}
                errors[index].setdefault("id", [f"Item id '{item_id}' is used twice."])
            seen.add(item_id)
        if any(errors):
            raise serializers.ValidationError(errors)
        return value


class QualificationItemSerializer(TmfObject):
    server_set = (
        "state",
        "qualificationItemResult",
        "alternateProductOfferingProposal",
        "eligibilityUnavailabilityReason",
        "expectedActivationDate",
    )

    id = Text(max_length=60, required=True)
    action = serializers.ChoiceField(
        choices=["add"],
        required=False,
        allow_null=True,
        error_messages={"invalid_choice": "Only 'add' (a new connection) can be qualified here."},
    )
    productOffering = QualificationOfferingRefSerializer(
        error_messages={"required": "Required: the offering to qualify."}
    )
    product = QualificationProductSerializer(
        required=False, help_text="The address, if not given at the top."
    )
    qualificationItemRelationship = _list(
        QualificationItemRelationshipSerializer,
        most=5,
        what="relationships",
        help_text="An add-on: the item of the line it would be sold with (reliesOn).",
    )
    state = serializers.ChoiceField(choices=TaskState.values, read_only=True)
    # Text, not a second enum of the same choices (the document would name one set twice).
    qualificationItemResult = serializers.CharField(
        read_only=True, help_text="qualified or unqualified"
    )
    expectedActivationDate = serializers.DateTimeField(
        read_only=True,
        help_text="Qualified items: the day an order taken now could be live (manual areas "
        "add the provisioning lead time in working days).",
    )
    eligibilityUnavailabilityReason = EligibilityUnavailabilityReasonSerializer(
        many=True, read_only=True
    )

    class Meta:
        list_serializer_class = QualificationItemListSerializer


class QualificationPartySerializer(TmfObject):
    id = Text(max_length=100, required=True)
    href = Text(max_length=500, required=False)
    name = Text(max_length=200, required=False)
    role = Text(max_length=60, required=False)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["@referredType"] = Text(max_length=60, required=True, help_text="e.g. Individual")
        return fields


class ProductOfferingQualificationSerializer(TmfObject):
    """A ProductOfferingQualification: the request, and (read-only) what the answer adds."""

    server_set = (
        "id",
        "href",
        "state",
        "qualificationResult",
        "effectiveQualificationDate",
        "productOfferingQualificationDate",
        "expectedPOQCompletionDate",
        "expirationDate",
    )

    id = serializers.CharField(read_only=True)
    href = serializers.CharField(read_only=True)
    description = Text(max_length=MAX_DESCRIPTION, required=False)
    state = serializers.ChoiceField(choices=TaskState.values, read_only=True)
    qualificationResult = serializers.ChoiceField(
        choices=QualificationResult.values, read_only=True
    )
    productOfferingQualificationDate = serializers.DateTimeField(read_only=True)
    effectiveQualificationDate = serializers.DateTimeField(read_only=True)
    instantSyncQualification = Flag(help_text="Always answered at once: true in the answer.")
    provideOnlyAvailable = Flag(help_text="Answer only the qualified items.")
    provideUnavailabilityReason = Flag(help_text="Reasons are always given.")
    provideAlternative = Flag(help_text="No alternatives are proposed.")
    place = _list(
        QualificationPlaceSerializer,
        most=MAX_PLACES,
        what="places: a qualification is for one address",
    )
    relatedParty = _list(QualificationPartySerializer, most=MAX_PARTIES, what="parties")
    productOfferingQualificationItem = _list(
        QualificationItemSerializer,
        most=MAX_ITEMS,
        what="items",
        help_text="Leave out to qualify every offering on sale.",
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if isinstance(data, Mapping) and not _places_given(data):
                exc.detail.setdefault("place", [_PLACE_REQUIRED])  # type: ignore[union-attr]
            raise
        if not _places_given(data):
            raise serializers.ValidationError({"place": [_PLACE_REQUIRED]})
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """One address, and relationships that name items of this request."""
        errors: dict[str, str] = {}
        first: tuple[str, str] | None = None
        for path, place in _all_places(attrs):
            if first is None:
                first = (path, place["postcode"])
            elif normalize_postcode(place["postcode"]) != normalize_postcode(first[1]):
                errors[f"{path}.postcode"] = (
                    f"A qualification is for one address; this differs from {first[1]} "
                    f"({first[0]}). Ask once per address."
                )
        items = attrs.get(ITEMS, [])
        ids = {item["id"] for item in items}
        for index, item in enumerate(items):
            for number, relation in enumerate(item.get("qualificationItemRelationship", [])):
                if relation["id"] not in ids or relation["id"] == item["id"]:
                    path = f"{ITEMS}[{index}].qualificationItemRelationship[{number}].id"
                    errors[path] = f"No other item '{relation['id']}' in this qualification."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def ask(self) -> QualificationAsk:
        """The validated request, as the service takes it."""
        data = self.validated_data
        items = [
            AskedItem(
                id=item["id"],
                offering_id=item["productOffering"]["id"],
                product_place=item.get("product", {}).get("place", []),
                relies_on=next(
                    (r["id"] for r in item.get("qualificationItemRelationship", [])), None
                ),
            )
            for item in data.get(ITEMS, [])
        ]
        places = list(_all_places(data))
        flags = {
            name: data[name]
            for name in (
                "instantSyncQualification",
                "provideOnlyAvailable",
                "provideUnavailabilityReason",
                "provideAlternative",
            )
            if name in data
        }
        return QualificationAsk(
            postcode=places[0][1]["postcode"],
            place=data.get("place", []),
            items=items,
            related_party=data.get("relatedParty", []),
            description=data.get("description", ""),
            flags=flags,
        )


_PLACE_REQUIRED = (
    "Required: the address to qualify, as a place (top level, or each item's product.place) "
    "with role and a GeographicAddress postcode."
)


def _places_given(data: Mapping[str, Any]) -> bool:
    """Whether the request names any place at all (each is then checked where it is)."""
    if data.get("place") not in (None, []):
        return True
    items = data.get(ITEMS)
    if not isinstance(items, list):
        return False
    for item in items:
        product = item.get("product") if isinstance(item, Mapping) else None
        if isinstance(product, Mapping) and product.get("place") not in (None, []):
            return True
    return False


def _all_places(attrs: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every place of a validated request with its attribute path, the top level first."""
    found = [(f"place[{i}]", place) for i, place in enumerate(attrs.get("place", []))]
    for index, item in enumerate(attrs.get(ITEMS, [])):
        for number, place in enumerate(item.get("product", {}).get("place", [])):
            found.append((f"{ITEMS}[{index}].product.place[{number}]", place))
    return found
