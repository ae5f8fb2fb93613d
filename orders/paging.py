"""Paging by a stable key, and counts that never scan a whole table (DESIGN invariant 10).

A page is "the first ``limit`` rows after this key" in the list's own order (keyset or "seek"
paging): the database reads an index range from the key on, however deep the page, where
OFFSET would read and discard every row before it. The key of a page's last row is handed to
the next request as an opaque cursor.

Counts are exact up to a cap (``bounded_count``): beyond it, what a person or a client needs is
"more than N", and an exact figure would cost a scan of everything that matches.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import EmptyResultSet, FieldDoesNotExist, ValidationError
from django.db import connections
from django.db.models import Model, Q, QuerySet

T = TypeVar("T")
COUNT_CAP = 10_000


class BadCursor(ValueError):
    """The cursor was not one this list handed out."""


def ordering_of(queryset: QuerySet[Any]) -> list[tuple[str, bool]]:
    """The queryset's ordering as (field, descending); only plain fields of the model (else
    TypeError)."""
    terms = queryset.query.order_by or queryset.model._meta.ordering
    result = []
    for term in terms:
        if not isinstance(term, str):
            raise TypeError(f"keyset paging needs plain field names, not {term!r}")
        descending = term.startswith("-")
        result.append((term.lstrip("-"), descending))
    return result


def field_of(model: type[Model], name: str) -> Any:
    if name == "pk":
        return model._meta.pk
    return model._meta.get_field(name)


def _value_of(row: Any, name: str) -> Any:
    field = field_of(type(row), name)
    return getattr(row, field.attname)


def pages_by_key(queryset: QuerySet[Any]) -> bool:
    """Whether ``queryset`` is ordered by plain fields ending in a unique one: what keyset
    paging needs (each row's key is distinct, so a page after a key misses and repeats none)."""
    try:
        ordering = ordering_of(queryset)
    except TypeError:
        return False
    if not ordering:
        return False
    last = ordering[-1][0]
    return last == "pk" or bool(getattr(field_of(queryset.model, last), "unique", False))


def encode_cursor(row: Any, ordering: Sequence[tuple[str, bool]]) -> str:
    values = []
    for name, _ in ordering:
        value = _value_of(row, name)
        values.append(value.isoformat() if hasattr(value, "isoformat") else value)
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(
    model: type[Model], cursor: str, ordering: Sequence[tuple[str, bool]]
) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadCursor("Not a cursor of this list.") from exc
    if not isinstance(values, list) or len(values) != len(ordering):
        raise BadCursor("Not a cursor of this list.")
    decoded = []
    for (name, _), value in zip(ordering, values, strict=True):
        try:
            field = field_of(model, name)
            target = getattr(field, "target_field", field)
            decoded.append(None if value is None else target.to_python(value))
        except (FieldDoesNotExist, ValidationError, TypeError) as exc:
            raise BadCursor("Not a cursor of this list.") from exc
    return decoded


def after_key(queryset: QuerySet[Any], cursor: str) -> QuerySet[Any]:
    """``queryset`` from the row after the one ``cursor`` names, in the queryset's order.

    Spelled ``a >= x AND (a > x OR (a = x AND b > y) ...)``: the first term is a range an index
    on the ordering columns starts from; the rest only sorts out the rows that tie on ``a``.
    """
    ordering = ordering_of(queryset)
    values = _decode_cursor(queryset.model, cursor, ordering)
    if any(value is None for value in values):
        raise BadCursor("Not a cursor of this list.")

    def beyond(i: int, *, inclusive: bool = False) -> Q:
        name, descending = ordering[i]
        op = ("lte" if inclusive else "lt") if descending else ("gte" if inclusive else "gt")
        return Q(**{f"{name}__{op}": values[i]})

    tie_break = Q()
    for i in range(len(ordering)):
        step = beyond(i)
        for j in range(i):
            step &= Q(**{ordering[j][0]: values[j]})
        tie_break |= step
    return queryset.filter(beyond(0, inclusive=True)).filter(tie_break)


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    items: list[T]
    next_cursor: str | None


def keyset_page(queryset: QuerySet[Any], *, limit: int, after: str | None = None) -> KeysetPage:  # type: ignore[type-arg]
    """The first ``limit`` rows of ``queryset`` (after ``after``), and the cursor of the next
    page when there is one. One query."""
    ordering = ordering_of(queryset)
    page = after_key(queryset, after) if after else queryset
    rows = list(page[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return KeysetPage(items=rows, next_cursor=encode_cursor(rows[-1], ordering) if more else None)


def bounded_count(queryset: QuerySet[Any], *, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many rows ``queryset`` has, counted up to ``cap`` + 1: (count, exact). Beyond the
    cap, (cap + 1, False). One query, reading at most cap + 1 index entries."""
    found = queryset.order_by().values("pk")[: cap + 1].count()
    return (found, True) if found <= cap else (cap + 1, False)


def planner_estimate(queryset: QuerySet[Any]) -> int | None:
    """PostgreSQL's estimate of the rows ``queryset`` returns (EXPLAIN, no execution); None on
    other databases."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing (an empty IN list)
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def list_count(queryset: QuerySet[Any]) -> tuple[int, bool]:
    """How many rows ``queryset`` has, as a list header or a paginator shows it: (count,
    exact). On PostgreSQL: exact up to COUNT_CAP, else the planner's estimate (never below
    COUNT_CAP + 1); two queries always (the estimate, then a count reading at most
    COUNT_CAP + 1 rows), so the cost is the same for a short list and a long one. Other
    databases (SQLite, the embedded default, small by nature) count exactly, in one query."""
    estimate = planner_estimate(queryset)
    if estimate is None:
        return queryset.count(), True
    found, exact = bounded_count(queryset)
    return (found, True) if exact else (max(found, estimate), False)
