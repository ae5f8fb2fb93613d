"""Who orders and where (TMF622 ProductOrder's ``relatedParty`` and the line's ``product.place``):
the customer, an existing one by ``id`` or a new one by name and contact media (TMF632), and the
service address, a GeographicAddress value (TMF673). Part of tmf.productorder.serializers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from rest_framework.exceptions import ValidationError

from orders.models import Customer, postcode_looks_valid
from orders.services import normalize_phone
from tmf.serializing import Text, TmfList, TmfObject

MAX_PARTY_ID = 100
MAX_STREET_LINE = 120  # orders.Order.service_address_line1


def customer_pk_of(party_id: str) -> int | None:
    """The customer an id names: ASCII digits that fit a database integer (str.isdigit also
    takes '²', which int() refuses)."""
    if party_id.isascii() and party_id.isdigit() and len(party_id) <= 18:
        return int(party_id)
    return None


# --- the customer -----------------------------------------------------------------------------
class ContactCharacteristic(TmfObject):
    """How to reach the customer: an e-mail address or a phone number."""

    emailAddress = Text(max_length=120)
    phoneNumber = Text(max_length=20)


class ContactMedium(TmfObject):
    """A TMF632 contact medium: ``email`` with emailAddress, or a phone with phoneNumber."""

    mediumType = Text(max_length=20, help_text="email, or phone / mobile / telephone")
    characteristic = ContactCharacteristic()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        phone = attrs["characteristic"].get("phoneNumber")
        # As the sales form: a number we could call (normalize_phone drops all but digits).
        digits = len(normalize_phone(phone).lstrip("+")) if phone else 0
        if attrs.get("mediumType") in PHONE_MEDIA and phone and not 7 <= digits <= 15:
            raise ValidationError(
                {"characteristic": {"phoneNumber": "A phone number has 7 to 15 digits."}}
            )
        return attrs


PHONE_MEDIA = ("phone", "mobile", "telephone")


@dataclass(frozen=True)
class Party:
    existing: Customer | None
    name: str
    email: str
    phone: str


class PartyList(TmfList):
    """relatedParty: every entry is read; the first with role Customer (or the only one) is
    the customer."""

    default_error_messages = {"empty": "Name the customer (role Customer)."}

    def validate(self, attrs: list[dict[str, Any]]) -> Party:  # type: ignore[override]
        index = next(
            (n for n, p in enumerate(attrs) if (p.get("role") or "").lower() == "customer"),
            0 if len(attrs) == 1 else None,
        )
        if index is None:
            raise ValidationError("No entry with role Customer.")
        party = attrs[index]

        def at(problem: dict[str, str] | str) -> ValidationError:
            # Named at relatedParty[index] (a message about the whole entry, or its attribute).
            entry = {"non_field_errors": [problem]} if isinstance(problem, str) else problem
            return ValidationError([{} for _ in range(index)] + [entry])

        email = phone = ""
        for medium in party.get("contactMedium") or ():
            characteristic = medium["characteristic"]
            if medium.get("mediumType") == "email":
                email = characteristic.get("emailAddress") or ""
            elif medium.get("mediumType") in PHONE_MEDIA:
                phone = characteristic.get("phoneNumber") or ""
        if email:
            try:
                validate_email(email)
            except DjangoValidationError:
                raise at({"contactMedium": f"'{email}' is not an e-mail address."}) from None
        party_id = party.get("id") or ""
        customer_pk = customer_pk_of(party_id) if party_id else None
        if customer_pk is not None and not (email and phone):
            existing = Customer.objects.filter(pk=customer_pk).first()
            if existing is None:
                raise at({"id": f"No customer with id '{party_id}'."})
            return Party(existing, existing.name, existing.email, existing.phone)
        name = party.get("name") or ""
        if not (name and email and phone):
            if party_id and customer_pk is None:
                raise at({"id": f"No customer with id '{party_id}'."})
            raise at(
                "Give the id of an existing customer, or a new customer's name and a "
                "contactMedium list with an e-mail address and a phone number."
            )
        return Party(None, name, email, phone)


class RelatedParty(TmfObject):
    """A party to the order; the one with role Customer is the customer."""

    meta = ("@type", "@baseType", "@schemaLocation", "@referredType")
    id = Text(max_length=MAX_PARTY_ID, help_text="An existing customer's id (as in every order).")
    name = Text(max_length=120, help_text="A new customer's name.")
    role = Text(max_length=40, help_text="Customer")
    contactMedium = ContactMedium(many=True, required=False, allow_null=True)

    class Meta:
        list_serializer_class = PartyList


# --- the items --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ServiceAddress:
    line1: str
    line2: str
    city: str
    postcode: str


class GeographicAddress(TmfObject):
    """The service address: a RelatedPlaceRefOrValue carrying a GeographicAddress value."""

    meta = ("@type", "@baseType", "@schemaLocation", "@referredType")
    id = Text(max_length=100, read_only=True)
    role = Text(max_length=40, help_text="installationAddress")
    name = Text(max_length=120, help_text="The street line, when streetName is not given.")
    streetNr = Text(max_length=20)
    streetName = Text(max_length=120)
    streetType = Text(max_length=30)
    locality = Text(max_length=120, help_text="Second address line.")
    city = Text(required=True, max_length=60)
    postcode = Text(required=True, max_length=10)
    country = Text(max_length=60, help_text="GB")

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping) and "postcode" not in data and data.get("id"):
            raise ValidationError(
                "A reference to a place is not enough: give the address (a GeographicAddress "
                "value with streetName, city and postcode)."
            )
        return super().to_internal_value(data)

    @staticmethod
    def street_of(data: Mapping[str, Any]) -> str:
        parts = [data.get(key) for key in ("streetNr", "streetName", "streetType")]
        street = " ".join(part.strip() for part in parts if isinstance(part, str) and part.strip())
        name = data.get("name")
        return street or (name.strip() if isinstance(name, str) else "")

    def problems(self, data: Mapping[str, Any], errors: Mapping[str, Any]) -> dict[str, Any]:
        if {"streetNr", "streetName", "streetType", "name"} & set(errors):
            return {}
        street = self.street_of(data)
        if not street:
            return {"streetName": "The street address is required."}
        if len(street) > MAX_STREET_LINE:
            return {
                "streetName": f"The street line (streetNr, streetName and streetType together) "
                f"is at most {MAX_STREET_LINE} characters: this one has {len(street)}."
            }
        return {}

    def validate(self, attrs: dict[str, Any]) -> ServiceAddress:  # type: ignore[override]
        problems: dict[str, str] = {}
        country = attrs.get("country") or ""
        if country and country.upper() not in ("GB", "UK", "UNITED KINGDOM"):
            problems["country"] = "We connect addresses in the United Kingdom only."
        if not postcode_looks_valid(attrs["postcode"]):
            problems["postcode"] = "Not a postcode: give a full UK postcode, e.g. SW1A 1AA."
        if problems:
            raise ValidationError(problems)
        return ServiceAddress(
            line1=self.street_of(attrs),
            line2=attrs.get("locality") or "",
            city=attrs["city"],
            postcode=attrs["postcode"],
        )
