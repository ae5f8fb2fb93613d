"""A TMF679 ProductOfferingQualification_Create body read into a ``QualificationAsk``.

Every problem is collected with the path of the attribute it is about, so one 400 lists them
all. What we read:

- the address: a ``place`` (RelatedPlaceRefOrValue with ``role``) carrying a GeographicAddress
  value with at least ``postcode`` (also read: ``streetNr``, ``streetName``, ``streetType``,
  ``locality``, ``city``, ``stateOrProvince``, ``country``, ``name``, ``id``, ``href``), given at
  the top level or in an item's ``product.place``. One qualification answers for one address:
  every place given must name the same postcode. A reference without a postcode cannot be
  looked up and is refused. The postcode must look like a UK postcode (the sales form's rule);
  a country other than the UK is refused as orders are.
- ``productOfferingQualificationItem`` (optional): each with an ``id`` unique in the request
  and ``productOffering.id``; ``action`` if given is "add" (we qualify new connections).
  Without items every offering on sale today is qualified.
- ``relatedParty`` (optional, echoed): entries with ``id`` and ``@referredType``.
- ``description`` (echoed), ``provideOnlyAvailable`` (answer only the qualified items),
  ``instantSyncQualification``, ``provideUnavailabilityReason`` and ``provideAlternative``
  (booleans; we always answer at once, always with reasons, and propose no alternatives).

Attributes the server sets (``id``, ``href``, ``state``, ``qualificationResult``, the dates,
and per item ``state``, ``qualificationItemResult``, ``alternateProductOfferingProposal``) are
refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orders.models import normalize_postcode, postcode_looks_valid
from tmf.errors import Problems
from tmf.reading import path_of, read_array, read_meta, read_text

SERVER_SET = (
    "id",
    "href",
    "state",
    "qualificationResult",
    "effectiveQualificationDate",
    "productOfferingQualificationDate",
    "expectedPOQCompletionDate",
    "expirationDate",
)
ITEM_SERVER_SET = ("state", "qualificationItemResult", "alternateProductOfferingProposal")
ADDRESS_TEXT = {
    "id": 60,
    "href": 500,
    "name": 200,
    "streetNr": 20,
    "streetName": 120,
    "streetType": 30,
    "locality": 120,
    "city": 60,
    "stateOrProvince": 60,
    "country": 60,
    "@type": 60,
    "@referredType": 60,
    "@baseType": 60,
}
PARTY_TEXT = {"id": 100, "href": 500, "name": 200, "role": 60, "@type": 60, "@referredType": 60}
FLAGS = (
    "instantSyncQualification",
    "provideOnlyAvailable",
    "provideUnavailabilityReason",
    "provideAlternative",
)
UK = ("GB", "UK", "GBR", "UNITED KINGDOM")
MAX_ITEMS = 100
MAX_PARTIES = 20  # echoed and kept with the answer
MAX_PLACES = 10
MAX_DESCRIPTION = 1000


@dataclass(frozen=True)
class AskedItem:
    id: str
    offering_id: str
    product_place: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class QualificationAsk:
    postcode: str  # as people write it: upper case, one space ("SW1A 1AA")
    place: list[dict[str, Any]]
    items: list[AskedItem]
    related_party: list[dict[str, Any]]
    description: str = ""
    flags: dict[str, bool] = field(default_factory=dict)

    @property
    def provide_only_available(self) -> bool:
        return self.flags.get("provideOnlyAvailable", False)


def postcode_problem(postcode: str) -> str | None:
    """The sales form's rule (orders.models.postcode_looks_valid)."""
    if not postcode_looks_valid(postcode):
        return "Not a postcode: give a full UK postcode, for example SW1A 1AA."
    return None


def display_postcode(postcode: str) -> str:
    return " ".join(postcode.upper().split())


def _place(entry: Any, path: str, problems: Problems) -> dict[str, Any] | None:
    """One RelatedPlaceRefOrValue, cleaned to the attributes we read."""
    if not isinstance(entry, dict):
        problems.add(path, "Must be an object.")
        return None
    read_meta(entry, path, problems)
    place: dict[str, Any] = {}
    role = read_text(entry, "role", path, problems, max_length=60, required=True)
    if role:
        place["role"] = role
    for key, max_length in ADDRESS_TEXT.items():
        value = read_text(entry, key, path, problems, max_length=max_length)
        if value:
            place[key] = value
    postcode = read_text(entry, "postcode", path, problems, max_length=10)
    if entry.get("postcode") is None:
        problems.add(
            path_of(path, "postcode"),
            "Required: give the address by value (a GeographicAddress with a postcode); "
            "place references cannot be looked up here.",
        )
    elif postcode is not None:
        problem = postcode_problem(postcode)
        if problem:
            problems.add(path_of(path, "postcode"), problem)
        else:
            place["postcode"] = display_postcode(postcode)
    country = place.get("country")
    if country and country.upper() not in UK:
        problems.add(path_of(path, "country"), "We connect addresses in the United Kingdom only.")
    return place


# (attribute path, the place cleaned, or None when it is not an object)
Found = list[tuple[str, dict[str, Any] | None]]


def _places(value: Any, path: str, problems: Problems) -> Found:
    if value is not None and not isinstance(value, list):
        problems.add(path, "Must be an array.")
        return [(path, None)]
    if value is not None and len(value) > MAX_PLACES:
        problems.add(path, f"At most {MAX_PLACES} places: a qualification is for one address.")
        return [(path, None)]
    return [
        (f"{path}[{index}]", _place(entry, f"{path}[{index}]", problems))
        for index, entry in enumerate(value or [])
    ]


def _item(entry: Any, path: str, problems: Problems, places: Found) -> AskedItem | None:
    if not isinstance(entry, dict):
        problems.add(path, "Must be an object.")
        return None
    read_meta(entry, path, problems)
    for key in ITEM_SERVER_SET:
        if key in entry:
            problems.add(path_of(path, key), "Set by the server; leave it out.")
    item_id = read_text(entry, "id", path, problems, max_length=60, required=True)
    action = entry.get("action")
    if action is not None and action != "add":
        problems.add(
            path_of(path, "action"), "Only 'add' (a new connection) can be qualified here."
        )
    offering = entry.get("productOffering")
    offering_id = None
    if offering is None:
        problems.add(path_of(path, "productOffering"), "Required: the offering to qualify.")
    elif not isinstance(offering, dict):
        problems.add(path_of(path, "productOffering"), "Must be an object.")
    else:
        read_meta(offering, path_of(path, "productOffering"), problems)
        offering_id = read_text(
            offering,
            "id",
            path_of(path, "productOffering"),
            problems,
            max_length=200,
            required=True,
        )
    product = entry.get("product")
    product_place: list[dict[str, Any]] = []
    if product is not None and not isinstance(product, dict):
        problems.add(path_of(path, "product"), "Must be an object.")
    elif product is not None:
        read_meta(product, path_of(path, "product"), problems)
        found = _places(product.get("place"), path_of(path, "product.place"), problems)
        places.extend(found)
        product_place = [place for _, place in found if place is not None]
    if item_id is None or offering_id is None:
        return None
    return AskedItem(id=item_id, offering_id=offering_id, product_place=product_place)


def _party(entry: Any, path: str, problems: Problems) -> dict[str, Any] | None:
    if not isinstance(entry, dict):
        problems.add(path, "Must be an object.")
        return None
    read_meta(entry, path, problems)
    party: dict[str, Any] = {}
    for key, max_length in PARTY_TEXT.items():
        required = key in ("id", "@referredType")
        value = read_text(entry, key, path, problems, max_length=max_length, required=required)
        if value:
            party[key] = value
    return party


def parse_qualification(body: dict[str, Any]) -> tuple[QualificationAsk | None, Problems]:
    """The request read, or None and every problem found."""
    problems = Problems()
    for key in SERVER_SET:
        if key in body:
            problems.add(key, "Set by the server; leave it out.")

    places = _places(body.get("place"), "place", problems)
    top_level = [place for _, place in places if place is not None]

    items: list[AskedItem] = []
    entries = read_array(
        body.get("productOfferingQualificationItem"),
        "productOfferingQualificationItem",
        problems,
        required=False,
    )
    if len(entries) > MAX_ITEMS:
        problems.add("productOfferingQualificationItem", f"At most {MAX_ITEMS} items.")
        entries = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        path = f"productOfferingQualificationItem[{index}]"
        item = _item(entry, path, problems, places)
        if item is None:
            continue
        if item.id in seen:
            problems.add(f"{path}.id", f"Item id '{item.id}' is used twice.")
        seen.add(item.id)
        items.append(item)

    related_party = []
    parties = read_array(body.get("relatedParty"), "relatedParty", problems, required=False)
    if len(parties) > MAX_PARTIES:
        problems.add("relatedParty", f"At most {MAX_PARTIES} parties.")
        parties = []
    for index, entry in enumerate(parties):
        party = _party(entry, f"relatedParty[{index}]", problems)
        if party is not None:
            related_party.append(party)

    description = read_text(body, "description", "", problems, max_length=MAX_DESCRIPTION) or ""
    flags: dict[str, bool] = {}
    for key in FLAGS:
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, bool):
            problems.add(key, "Must be true or false.")
        else:
            flags[key] = value

    postcode = _one_postcode(places, problems)
    if problems or postcode is None:
        return None, problems
    return (
        QualificationAsk(
            postcode=postcode,
            place=top_level,
            items=items,
            related_party=related_party,
            description=description,
            flags=flags,
        ),
        problems,
    )


def _one_postcode(places: Found, problems: Problems) -> str | None:
    """The one postcode all the places name; a problem when there is none or several."""
    with_postcode = [
        (path, place["postcode"]) for path, place in places if place and "postcode" in place
    ]
    if not places:
        problems.add(
            "place",
            "Required: the address to qualify, as a place (top level, or each item's "
            "product.place) with role and a GeographicAddress postcode.",
        )
        return None
    if not with_postcode:
        return None  # each place already has its problem
    first_path, first = with_postcode[0]
    for path, postcode in with_postcode[1:]:
        if normalize_postcode(postcode) != normalize_postcode(first):
            problems.add(
                f"{path}.postcode",
                f"A qualification is for one address; this differs from {first} "
                f"({first_path}). Ask once per address.",
            )
    return first
