"""Reading and checking a legacy export (docs/migration-import.md): every row is checked before
anything is written, and every bad row is reported with its line and field.

Three passes, each reporting all it finds: each row on its own (``row_parse``: required fields,
e-mail, phone, plan, address, dates, state), the rows against each other (``file_check``: the
same order twice, a customer with two e-mail addresses, one e-mail for two customers, the same
live service twice) and the rows against the database (``database_check``: already imported,
a customer here with that e-mail, an open order for the same customer, address and plan).
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from orders.eligibility import Serviceability
from orders.models import (
    Customer,
    Order,
    Plan,
    ProductKind,
    ServiceArea,
    normalize_postcode,
    postcode_looks_valid,
)
from orders.services import normalize_email, normalize_phone
from orders.states import OPEN_STATES


class LegacyState(models.TextChoices):
    """What a legacy row is. Open legacy orders are not imported: they still need the network
    and a bill, so they are taken again as new orders."""

    LIVE = "live", "Live service"
    COMPLETED = "completed", "Completed order (service no longer live)"
    CANCELLED = "cancelled", "Cancelled order"


REQUIRED = (
    "legacy_order_ref",
    "legacy_customer_ref",
    "name",
    "email",
    "phone",
    "address_line1",
    "city",
    "postcode",
    "plan_code",
    "state",
    "ordered_at",
)
OPTIONAL = ("address_line2", "activated_at", "cancelled_at", "monthly_price")
COLUMNS = REQUIRED + OPTIONAL
MAX_LENGTH = {
    "legacy_order_ref": 60,
    "legacy_customer_ref": 60,
    "name": 120,
    "email": 254,
    "address_line1": 120,
    "address_line2": 120,
    "city": 60,
}
MAX_PRICE = Decimal("999999.99")
# Database look-ups per query: a bounded IN list however long the file.
LOOKUP_CHUNK = 500


class FileUnreadable(Exception):
    """The file cannot be read as a legacy export at all (missing, not UTF-8 CSV, wrong header)."""


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


@dataclass
class LegacyRow:
    """One row, parsed and checked on its own."""

    line: int
    order_ref: str
    customer_ref: str
    name: str
    email: str
    phone: str
    address_line1: str
    address_line2: str
    city: str
    postcode: str
    plan: Plan
    area: ServiceArea
    state: LegacyState
    ordered_at: datetime.datetime
    activated_at: datetime.datetime | None
    cancelled_at: datetime.datetime | None
    monthly_price: Decimal


@dataclass
class Catalogue:
    """The plans and service areas the rows name, looked up once for the whole file."""

    plans: dict[str, Plan] = field(default_factory=dict)
    areas: dict[str, ServiceArea] = field(default_factory=dict)

    @classmethod
    def for_records(cls, records: Sequence[tuple[int, dict[str, str]]]) -> Catalogue:
        codes = {(r.get("plan_code") or "").strip() for _, r in records}
        postcodes = {normalize_postcode(r.get("postcode") or "") for _, r in records}
        catalogue = cls()
        for chunk in _chunks(sorted(codes - {""})):
            for plan in Plan.objects.filter(code__in=chunk).select_related("specification"):
                catalogue.plans[plan.code] = plan
        for chunk in _chunks(sorted(postcodes - {""})):
            for area in ServiceArea.objects.filter(postcode__in=chunk):
                catalogue.areas[area.postcode] = area
        return catalogue


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield values[start : start + LOOKUP_CHUNK]


def read_records(path: Path) -> list[tuple[int, dict[str, str]]]:
    """The file's records with the line each starts on (the header is line 1). Raises
    FileUnreadable for a file that is missing, not UTF-8, or whose header lacks a required
    column or has one nobody reads (a misspelt optional column would otherwise be lost)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in reader.fieldnames or []]
            if not header:
                raise FileUnreadable(f"{path}: empty file, no header line.")
            missing = [name for name in REQUIRED if name not in header]
            unknown = [name for name in header if name not in COLUMNS]
            problems = []
            if missing:
                problems.append("missing column(s) " + ", ".join(missing))
            if unknown:
                problems.append(
                    "unknown column(s) "
                    + ", ".join(unknown)
                    + " (known: "
                    + ", ".join(COLUMNS)
                    + ")"
                )
            if problems:
                raise FileUnreadable(f"{path}: " + "; ".join(problems) + ".")
            reader.fieldnames = header
            records = []
            line = reader.line_num + 1
            for record in reader:
                records.append((line, record))
                line = reader.line_num + 1
            return records
    except FileNotFoundError as exc:
        raise FileUnreadable(f"{path}: no such file.") from exc
    except UnicodeDecodeError as exc:
        raise FileUnreadable(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from exc
    except csv.Error as exc:
        raise FileUnreadable(f"{path}: not a CSV file ({exc}).") from exc


def _moment(value: str) -> datetime.datetime | None:
    """An ISO date or date and time; a time without a zone is local time, a date its start."""
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            return None
        moment = datetime.datetime.combine(day, datetime.time())
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def row_parse(
    line: int, record: dict[str, str], catalogue: Catalogue
) -> LegacyRow | list[RowError]:
    """The row, checked on its own; or every problem it has, one per field."""
    errors: list[RowError] = []

    def bad(name: str, message: str) -> None:
        errors.append(RowError(line, name, message))

    if None in record or any(record.get(name) is None for name in REQUIRED):
        # csv puts surplus fields under None and leaves missing ones None.
        return [RowError(line, "row", "the number of fields differs from the header's.")]
    value = {name: (record.get(name) or "").strip() for name in COLUMNS}
    for name in REQUIRED:
        if not value[name]:
            bad(name, "required.")
    for name, limit in MAX_LENGTH.items():
        if len(value[name]) > limit:
            bad(name, f"at most {limit} characters.")
    email = normalize_email(value["email"])
    if email:
        try:
            validate_email(email)
        except ValidationError:
            bad("email", f"'{value['email']}' is not an e-mail address.")
    phone = normalize_phone(value["phone"]) if value["phone"] else ""
    if phone and not 7 <= len(phone.lstrip("+")) <= 15:
        bad("phone", "a phone number has 7 to 15 digits.")
    state: LegacyState | None = None
    if value["state"]:
        try:
            state = LegacyState(value["state"].lower())
        except ValueError:
            bad(
                "state",
                f"'{value['state']}' is not one of {', '.join(LegacyState.values)} (an open "
                "legacy order is not imported: take it again as a new order).",
            )
    plan = catalogue.plans.get(value["plan_code"])
    if value["plan_code"] and plan is None:
        bad("plan_code", f"no offering '{value['plan_code']}' in the catalogue.")
    elif plan is not None and plan.kind != ProductKind.INTERNET_ACCESS:
        bad("plan_code", f"{plan.name} is an add-on, not a line's plan.")
        plan = None
    postcode = normalize_postcode(value["postcode"])
    area = catalogue.areas.get(postcode)
    if postcode and not postcode_looks_valid(postcode):
        bad("postcode", f"'{value['postcode']}' is not a full postcode.")
    elif postcode and area is None:
        bad("postcode", f"{value['postcode']} is not in any service area.")
    elif area is not None and state == LegacyState.LIVE:
        # A live line must be one the network can deliver there, as at intake.
        check = Serviceability(postcode=postcode, area=area)
        if not check.serviceable:
            bad("postcode", check.message)
        elif plan is not None and not area.supports(plan):
            bad(
                "plan_code",
                f"{plan.name} ({plan.speed_tier}) is not available at {value['postcode']} "
                f"({area.get_technology_display()}, up to {area.max_download_mbps} Mbps).",
            )
    moments: dict[str, datetime.datetime | None] = {}
    for name in ("ordered_at", "activated_at", "cancelled_at"):
        moments[name] = None
        if value[name]:
            moments[name] = _moment(value[name])
            if moments[name] is None:
                bad(name, f"'{value[name]}' is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM).")
    now = timezone.now()
    for name, moment in moments.items():
        if moment is not None and moment > now:
            bad(name, "in the future.")
    ordered_at, activated_at, cancelled_at = (
        moments["ordered_at"],
        moments["activated_at"],
        moments["cancelled_at"],
    )
    if state in (LegacyState.LIVE, LegacyState.COMPLETED):
        if not value["activated_at"]:
            bad("activated_at", f"required for a {state.value} row.")
        if value["cancelled_at"]:
            bad("cancelled_at", f"a {state.value} row was not cancelled; leave it empty.")
        if ordered_at and activated_at and activated_at < ordered_at:
            bad("activated_at", "before the order was taken (ordered_at).")
    elif state == LegacyState.CANCELLED:
        if not value["cancelled_at"]:
            bad("cancelled_at", "required for a cancelled row.")
        if value["activated_at"]:
            bad(
                "activated_at",
                "a cancelled order never went live; a line that did and was ceased is a "
                "'completed' row.",
            )
        if ordered_at and cancelled_at and cancelled_at < ordered_at:
            bad("cancelled_at", "before the order was taken (ordered_at).")
    monthly = plan.monthly_price if plan is not None else Decimal("0.00")
    if value["monthly_price"]:
        try:
            monthly = Decimal(value["monthly_price"])
        except InvalidOperation:
            bad("monthly_price", f"'{value['monthly_price']}' is not an amount.")
        else:
            if not monthly.is_finite() or monthly < 0 or monthly > MAX_PRICE:
                bad("monthly_price", f"an amount from 0 to {MAX_PRICE}.")
            elif monthly != monthly.quantize(Decimal("0.01")):
                bad("monthly_price", "at most two decimal places.")
    if errors:
        return errors
    assert plan is not None and area is not None and state is not None and ordered_at is not None
    return LegacyRow(
        line=line,
        order_ref=value["legacy_order_ref"],
        customer_ref=value["legacy_customer_ref"],
        name=value["name"],
        email=email,
        phone=phone,
        address_line1=value["address_line1"],
        address_line2=value["address_line2"],
        city=value["city"],
        postcode=postcode,
        plan=plan,
        area=area,
        state=state,
        ordered_at=ordered_at,
        activated_at=activated_at,
        cancelled_at=cancelled_at,
        monthly_price=monthly.quantize(Decimal("0.01")),
    )


def _service_key(row: LegacyRow) -> tuple[str, str, str, int]:
    return (row.customer_ref, row.postcode, row.address_line1.casefold(), row.plan.pk)


def file_check(rows: Iterable[LegacyRow]) -> list[RowError]:
    """The rows against each other: each legacy order once (every copy is refused: which is
    right is for the legacy team to say), one e-mail per legacy customer and one customer per
    e-mail (as the first row says), one live service per customer, address and plan."""
    rows = list(rows)
    errors: list[RowError] = []
    lines_of: dict[str, list[int]] = {}
    for row in rows:
        lines_of.setdefault(row.order_ref, []).append(row.line)
    email_of: dict[str, tuple[str, int]] = {}
    customer_of: dict[str, tuple[str, int]] = {}
    live: dict[tuple[str, str, str, int], int] = {}
    for row in rows:
        lines = lines_of[row.order_ref]
        if len(lines) > 1:
            others = ", ".join(str(n) for n in lines if n != row.line)
            errors.append(
                RowError(
                    row.line,
                    "legacy_order_ref",
                    f"{row.order_ref} is also on line(s) {others}: each order once.",
                )
            )
            continue
        first_email = email_of.setdefault(row.customer_ref, (row.email, row.line))
        if first_email[0] != row.email:
            errors.append(
                RowError(
                    row.line,
                    "email",
                    f"legacy customer {row.customer_ref} has e-mail {first_email[0]} on line "
                    f"{first_email[1]}.",
                )
            )
            continue
        first_customer = customer_of.setdefault(row.email, (row.customer_ref, row.line))
        if first_customer[0] != row.customer_ref:
            errors.append(
                RowError(
                    row.line,
                    "email",
                    f"{row.email} is legacy customer {first_customer[0]}'s e-mail (line "
                    f"{first_customer[1]}); one customer per e-mail address.",
                )
            )
            continue
        if row.state == LegacyState.LIVE:
            first_live = live.setdefault(_service_key(row), row.line)
            if first_live != row.line:
                errors.append(
                    RowError(
                        row.line,
                        "legacy_order_ref",
                        f"the same live service as line {first_live} (customer, address and plan).",
                    )
                )
    return errors


@dataclass
class DatabaseCheck:
    """What the database says of the rows: those imported already (order ref -> order ID),
    and the rows it refuses."""

    imported: dict[str, str] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)


def database_check(rows: Sequence[LegacyRow]) -> DatabaseCheck:
    """The rows against what is here: an order imported already (not an error: it is left as
    it is); a legacy customer imported with another e-mail; an e-mail that is a customer's here
    who is not that legacy customer (taken on here, or another legacy customer: merge by hand);
    a live service for which the customer has an open order for the same address and plan."""
    result = DatabaseCheck()
    for chunk in _row_chunks(rows):
        refs = [row.order_ref for row in chunk]
        result.imported.update(
            Order.objects.filter(legacy_ref__in=refs).values_list("legacy_ref", "id")
        )
        by_ref = {
            c.legacy_ref: c
            for c in Customer.objects.filter(legacy_ref__in={row.customer_ref for row in chunk})
        }
        by_email: dict[str, Customer] = {
            c.email_ci: c
            for c in Customer.objects.annotate(email_ci=Lower("email")).filter(
                email_ci__in={row.email for row in chunk}
            )
        }
        open_orders = _open_orders([c.pk for c in by_ref.values()])
        for row in chunk:
            if row.order_ref in result.imported:
                continue
            error = _customer_problem(row, by_ref, by_email)
            if error is None and row.state == LegacyState.LIVE:
                customer = by_ref.get(row.customer_ref)
                key = (
                    customer.pk if customer else None,
                    row.postcode,
                    row.address_line1.casefold(),
                    row.plan.pk,
                )
                order_id = open_orders.get(key)
                if order_id is not None:
                    error = RowError(
                        row.line,
                        "plan_code",
                        f"the customer has an open order {order_id} for this address and plan.",
                    )
            if error is not None:
                result.errors.append(error)
    return result


def _row_chunks(rows: Sequence[LegacyRow]) -> Iterator[Sequence[LegacyRow]]:
    for start in range(0, len(rows), LOOKUP_CHUNK):
        yield rows[start : start + LOOKUP_CHUNK]


def _customer_problem(
    row: LegacyRow, by_ref: dict[str | None, Customer], by_email: dict[str, Customer]
) -> RowError | None:
    known = by_ref.get(row.customer_ref)
    if known is not None and normalize_email(known.email) != row.email:
        return RowError(
            row.line,
            "email",
            f"legacy customer {row.customer_ref} was imported with e-mail {known.email}.",
        )
    holder = by_email.get(row.email)
    if holder is not None and holder.legacy_ref != row.customer_ref:
        whose = (
            f"legacy customer {holder.legacy_ref}'s"
            if holder.legacy_ref
            else "a customer's taken on here (not imported)"
        )
        return RowError(
            row.line,
            "email",
            f"{row.email} is already {whose}: one customer per e-mail address, merge them by hand.",
        )
    return None


def _open_orders(customer_ids: list[int]) -> dict[tuple[int | None, str, str, int], str]:
    """The open new-line orders of these customers, by customer, address and plan."""
    if not customer_ids:
        return {}
    rows = Order.objects.filter(
        customer_id__in=customer_ids, status__in=OPEN_STATES, product_ref__isnull=True
    ).values_list("customer_id", "service_postcode", "service_address_line1", "plan_id", "id")
    return {
        (customer, postcode, line1.casefold(), plan): order_id
        for customer, postcode, line1, plan, order_id in rows
    }
