"""A TMF622 ProductOrder_Create body read into what ``orders.services.order_submit`` takes.

Every problem is collected with the path of the attribute it is about, so one 400 lists them
all. What we read:

- ``productOrderItem``: exactly one item with ``action`` "add" (a new residential connection),
  ``quantity`` 1 if given, ``productOffering.id`` = an active offering (plan code), and the
  service address as the item's ``product.place``: a RelatedPlaceRefOrValue carrying a
  GeographicAddress value (``streetNr``, ``streetName``, ``streetType``, ``locality``, ``city``,
  ``postcode``, ``country``; or ``name`` as the street line).
- ``relatedParty``: the entry with role Customer (or the only entry). Its ``id`` names one of our
  customers (as in every order's representation); or, for a new customer, ``name`` plus a
  ``contactMedium`` list with an e-mail address and a phone number (TMF632 vocabulary).
- ``requestedStartDate``: an ISO 8601 date or date-time; a later day makes a future-dated order.
- ``externalId``: the caller's own reference, kept and filterable.

Attributes the server sets (``id``, ``href``, ``orderDate``, ``state``, ``completionDate``) are
refused in a create.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from orders.models import Customer, Plan, postcode_looks_valid
from orders.services import CustomerDetails, normalize_phone
from tmf.errors import Problems
from tmf.reading import read_array, read_object, read_text

SERVER_SET = ("id", "href", "orderDate", "state", "completionDate")
MAX_EXTERNAL_ID = 100
MAX_PARTY_ID = 100
MAX_STREET_LINE = 120  # orders.Order.service_address_line1


@dataclass(frozen=True)
class ServiceAddress:
    line1: str
    line2: str
    city: str
    postcode: str


@dataclass(frozen=True)
class OrderDraft:
    plan: Plan
    customer: CustomerDetails
    existing_customer: Customer | None
    requested_start: datetime.date | None
    external_id: str


def _text(
    source: dict[str, Any],
    key: str,
    path: str,
    problems: Problems,
    *,
    required: bool = False,
    max_length: int = 120,
) -> str:
    """As tmf.reading.read_text, with "" for nothing (the order's fields are never null)."""
    return read_text(source, key, path, problems, max_length=max_length, required=required) or ""


def parse_start_date(value: Any, path: str, problems: Problems) -> datetime.date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        problems.add(path, "Must be an ISO 8601 date-time string.")
        return None
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
        problems.add(path, "Out of range.")
        return None
    if day is None:
        problems.add(path, "Not an ISO 8601 date or date-time.")
    return day


def _address(place: dict[str, Any], path: str, problems: Problems) -> ServiceAddress | None:
    before = len(problems)
    postcode = _text(place, "postcode", path, problems, required=True, max_length=10)
    street = " ".join(
        part
        for part in (
            _text(place, "streetNr", path, problems, max_length=20),
            _text(place, "streetName", path, problems),
            _text(place, "streetType", path, problems, max_length=30),
        )
        if part
    ) or _text(place, "name", path, problems)
    if not street:
        problems.add(f"{path}.streetName", "The street address is required.")
    elif len(street) > MAX_STREET_LINE:
        problems.add(
            f"{path}.streetName",
            f"The street line (streetNr, streetName and streetType together) is at most "
            f"{MAX_STREET_LINE} characters: this one has {len(street)}.",
        )
    city = _text(place, "city", path, problems, required=True, max_length=60)
    line2 = _text(place, "locality", path, problems)
    country = _text(place, "country", path, problems, max_length=60)
    if country and country.upper() not in ("GB", "UK", "UNITED KINGDOM"):
        problems.add(f"{path}.country", "We connect addresses in the United Kingdom only.")
    if postcode and not postcode_looks_valid(postcode):
        problems.add(f"{path}.postcode", "Not a postcode: give a full UK postcode, e.g. SW1A 1AA.")
    if len(problems) != before:
        return None
    return ServiceAddress(line1=street, line2=line2, city=city, postcode=postcode)


def _place(product: dict[str, Any], path: str, problems: Problems) -> ServiceAddress | None:
    places = read_array(product.get("place"), f"{path}.place", problems, required=True)
    if not places and f"{path}.place" not in problems:
        problems.add(f"{path}.place", "The service address is required.")
    for index, entry in enumerate(places):
        where = f"{path}.place[{index}]"
        place = read_object(entry, where, problems, required=True)
        if where in problems:
            continue
        if "postcode" not in place and place.get("id"):
            problems.add(
                where,
                "A reference to a place is not enough: give the address (a GeographicAddress "
                "value with streetName, city and postcode).",
            )
            continue
        return _address(place, where, problems)
    return None


def _contact(party: dict[str, Any], path: str, problems: Problems) -> tuple[str, str]:
    email = phone = ""
    media = read_array(
        party.get("contactMedium"), f"{path}.contactMedium", problems, required=False
    )
    for index, entry in enumerate(media):
        where = f"{path}.contactMedium[{index}]"
        medium = read_object(entry, where, problems, required=True)
        if not medium:
            continue
        kind = medium.get("mediumType")
        characteristic = read_object(
            medium.get("characteristic"), f"{where}.characteristic", problems, required=True
        )
        if kind == "email":
            email = _text(characteristic, "emailAddress", f"{where}.characteristic", problems)
        elif kind in ("phone", "mobile", "telephone"):
            phone = _text(
                characteristic, "phoneNumber", f"{where}.characteristic", problems, max_length=20
            )
            # As the sales form: a number we could call (normalize_phone drops all but digits).
            if phone and not 7 <= len(normalize_phone(phone).lstrip("+")) <= 15:
                problems.add(
                    f"{where}.characteristic.phoneNumber", "A phone number has 7 to 15 digits."
                )
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems.add(f"{path}.contactMedium", f"'{email}' is not an e-mail address.")
    return email, phone


def customer_pk_of(party_id: str) -> int | None:
    """The customer an id names: ASCII digits that fit a database integer (str.isdigit also
    takes '²', which int() refuses)."""
    if party_id.isascii() and party_id.isdigit() and len(party_id) <= 18:
        return int(party_id)
    return None


def _customer(body: dict[str, Any], problems: Problems) -> tuple[Customer | None, str, str, str]:
    """(existing customer, name, email, phone) from the relatedParty list."""
    parties = read_array(body.get("relatedParty"), "relatedParty", problems, required=True)
    if not parties:
        if "relatedParty" not in problems:
            problems.add("relatedParty", "Name the customer (role Customer).")
        return None, "", "", ""
    chosen: tuple[int, dict[str, Any]] | None = None
    for index, entry in enumerate(parties):
        party = read_object(entry, f"relatedParty[{index}]", problems, required=True)
        role = party.get("role")
        # Every entry is read (each malformed one named); the first Customer is the one.
        if chosen is None and isinstance(role, str) and role.lower() == "customer":
            chosen = (index, party)
    if chosen is None and len(parties) == 1 and isinstance(parties[0], dict):
        chosen = (0, parties[0])
    if chosen is None:
        problems.add("relatedParty", "No entry with role Customer.")
        return None, "", "", ""
    index, party = chosen
    path = f"relatedParty[{index}]"
    # Read (a string of bounded length) even beside a new customer's details, where it is the
    # caller's own id for the party and not kept.
    party_id = _text(party, "id", path, problems, max_length=MAX_PARTY_ID)
    email, phone = _contact(party, path, problems)
    customer_pk = customer_pk_of(party_id) if party_id else None
    if customer_pk is not None and not (email and phone):
        existing = Customer.objects.filter(pk=customer_pk).first()
        if existing is None:
            problems.add(f"{path}.id", f"No customer with id '{party_id}'.")
            return None, "", "", ""
        return existing, existing.name, existing.email, existing.phone
    name = _text(party, "name", path, problems, max_length=120)
    if not (name and email and phone):
        if party_id and customer_pk is None:
            problems.add(f"{path}.id", f"No customer with id '{party_id}'.")
        else:
            problems.add(
                path,
                "Give the id of an existing customer, or a new customer's name and a "
                "contactMedium list with an e-mail address and a phone number.",
            )
    return None, name, email, phone


def _item(body: dict[str, Any], problems: Problems) -> tuple[Plan | None, ServiceAddress | None]:
    items = read_array(body.get("productOrderItem"), "productOrderItem", problems, required=True)
    if not items:
        if "productOrderItem" not in problems:
            problems.add("productOrderItem", "One item is required.")
        return None, None
    if len(items) > 1:
        problems.add(
            "productOrderItem",
            "One item per order: a residential order is one broadband offering at one address.",
        )
    path = "productOrderItem[0]"
    item = read_object(items[0], path, problems, required=True)
    if path in problems:
        return None, None
    if not isinstance(item.get("id"), str) or not item.get("id"):
        problems.add(f"{path}.id", "Required (a string).")
    action = item.get("action")
    if action != "add":
        problems.add(
            f"{path}.action",
            "Required, and only 'add' (a new connection) is supported."
            if action is not None
            else "Required ('add').",
        )
    quantity = item.get("quantity")
    if quantity is not None and (isinstance(quantity, bool) or quantity != 1):
        problems.add(f"{path}.quantity", "One connection per item (1).")
    offering = read_object(
        item.get("productOffering"), f"{path}.productOffering", problems, required=True
    )
    plan = None
    code = _text(offering, "id", f"{path}.productOffering", problems, required=True, max_length=40)
    if code:
        plan = Plan.objects.filter(code=code).first()
        if plan is None:
            problems.add(f"{path}.productOffering.id", f"No product offering '{code}'.")
        elif not plan.is_active:
            problems.add(f"{path}.productOffering.id", f"'{code}' is no longer sold.")
            plan = None
    product = read_object(item.get("product"), f"{path}.product", problems, required=True)
    # An empty product is still read, so that the missing address is named.
    address = (
        _place(product, f"{path}.product", problems) if f"{path}.product" not in problems else None
    )
    return plan, address


def parse_create(body: dict[str, Any]) -> tuple[OrderDraft | None, Problems]:
    problems = Problems()
    for key in SERVER_SET:
        if key in body:
            problems.add(key, "Set by the server; leave it out of a create.")
    plan, address = _item(body, problems)
    existing, name, email, phone = _customer(body, problems)
    start = parse_start_date(body.get("requestedStartDate"), "requestedStartDate", problems)
    if start is not None and start < timezone.localdate():
        # order_submit refuses it too; said here so that it comes with the body's other problems.
        problems.add("requestedStartDate", "The requested start date is in the past.")
    external_id = _text(body, "externalId", "", problems, max_length=MAX_EXTERNAL_ID)
    if problems or plan is None or address is None:
        return None, problems
    details = CustomerDetails(
        name=name,
        email=email,
        phone=phone,
        address_line1=address.line1,
        address_line2=address.line2,
        city=address.city,
        postcode=address.postcode,
    )
    draft = OrderDraft(
        plan=plan,
        customer=details,
        existing_customer=existing,
        requested_start=start,
        external_id=external_id,
    )
    return draft, problems
