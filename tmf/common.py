"""The conventions every TM Forum API here shares (TMF630 REST guidelines):

- JSON in and out (``application/json;charset=utf-8``; PATCH also takes merge-patch+json);
- ``fields=a,b`` keeps those first-level attributes (plus the ones a representation always
  carries);
- ``?attr=value`` filters, several combined with AND, ``a,b`` meaning either value, and
  ``attr.gt`` / ``.gte`` / ``.lt`` / ``.lte`` for dates and times;
- ``offset`` / ``limit`` paging, with ``X-Total-Count`` and ``X-Result-Count``;
- ``href`` is absolute, and equal to ``Location`` on a 201.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders import paging
from tmf.auth import ClientPrincipal
from tmf.errors import Problems, TmfError, bad_request, not_found
from tmf.reading import read_meta

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Query parameters with a meaning of their own; every other parameter is a filter.
RESERVED_PARAMS = frozenset({"fields", "offset", "limit", "sort", "cursor"})
DATE_OPERATORS = {"gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}
JSON_MEDIA_TYPE = "application/json; charset=utf-8"


class TmfView(APIView):
    """Base of every TMF endpoint. Subclasses declare ``required_scopes`` per method."""

    required_scopes: dict[str, str] = {}

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        for value in kwargs.values():
            if isinstance(value, str) and _UNSTORABLE.search(value):
                raise not_found(f"No resource at {_shown(request.path)}.")
        for name, values in request.query_params.lists():
            if any(_UNSTORABLE.search(text) for text in (name, *values)):
                where = _shown(name)
                raise bad_request(f"{where}: {_UNSTORABLE_TEXT}", **{where: _UNSTORABLE_TEXT})

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code == 204:
            # DRF drops Content-Type from an empty body; the TMF swaggers declare every answer,
            # a 204 included, as produced in JSON, and clients check it.
            response.add_post_render_callback(_declare_json)
        return response

    def body_object(self, request: Request) -> dict[str, Any]:
        """The JSON body, which must be an object of text we can store, its meta attributes
        (``@type``, ...) text."""
        data = request.data
        if not isinstance(data, dict):
            raise bad_request("The request body must be a JSON object.", code="MALFORMED_BODY")
        where = unstorable_text(data)
        if where is not None:
            raise bad_request(
                f"{where}: {_UNSTORABLE_TEXT}", code="MALFORMED_BODY", **{where: _UNSTORABLE_TEXT}
            )
        problems = Problems()
        read_meta(data, "", problems)
        if problems:
            raise problems.error("Invalid request")
        return data


def _declare_json(response: Any) -> None:
    response["Content-Type"] = JSON_MEDIA_TYPE


# JSON may carry NUL characters and unpaired UTF-16 surrogates (\u0000, \ud800): PostgreSQL
# cannot store the first, nothing can encode the second as UTF-8. Refused up front (400), else
# the first write or the rendered answer would fail (500).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_UNSTORABLE_TEXT = "Text must not contain NUL or unpaired surrogate characters."


def _shown(text: str) -> str:
    return _UNSTORABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def unstorable_text(data: Any, path: str = "") -> str | None:
    """The attribute path of the first text in ``data`` (keys included) that cannot be stored."""
    if isinstance(data, str):
        return (path or "body") if _UNSTORABLE.search(data) else None
    children: Iterable[tuple[str, Any]] = ()
    if isinstance(data, dict):
        for key in data:
            if _UNSTORABLE.search(str(key)):
                return _shown(f"{path}.{key}" if path else str(key))
        children = ((f"{path}.{key}" if path else str(key), value) for key, value in data.items())
    elif isinstance(data, list):
        children = ((f"{path}[{index}]", value) for index, value in enumerate(data))
    for where, value in children:
        found = unstorable_text(value, where)
        if found is not None:
            return found
    return None


class RefusesOtherMethods(TmfView):
    """A method the view has no handler for is a 405 in the TMF body, with ``refusal`` as its
    message and an ``Allow`` header, once the caller has shown a valid token (an anonymous
    caller gets the 401 first, learning nothing). Without this, the scope check would answer
    403 for a method nobody may use."""

    refusal = "This resource does not support that method."

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if getattr(self, request.method.lower(), None) is None:
            self.format_kwarg = self.get_format_suffix(**kwargs)
            if not isinstance(request.user, ClientPrincipal):
                raise exceptions.NotAuthenticated("Send 'Authorization: Bearer <token>'.")
            self.check_throttles(request)
            raise TmfError(
                405,
                "METHOD_NOT_ALLOWED",
                "Method not allowed",
                f"{request.method} is not allowed here. {self.refusal}",
                headers={"Allow": ", ".join(self.allowed_methods)},
            )
        super().initial(request, *args, **kwargs)


# --- href ---------------------------------------------------------------------------------------
def absolute(request: Request | None, path: str) -> str:
    """``path`` as an absolute URL: on the host the caller used, or the configured site."""
    if request is not None:
        return request.build_absolute_uri(path)
    from django.conf import settings

    return f"{settings.SITE_URL}{path}"


# --- fields= ------------------------------------------------------------------------------------
def requested_fields(request: Request) -> list[str] | None:
    raw = request.query_params.get("fields")
    if raw is None:
        return None
    names = [name.strip() for name in raw.split(",") if name.strip()]
    return names or None


def select_fields(
    representation: dict[str, Any], fields: Sequence[str] | None, always: Iterable[str]
) -> dict[str, Any]:
    """Keep the first-level attributes asked for, and the ones every representation has."""
    if not fields:
        return representation
    keep = set(fields) | set(always)
    return {key: value for key, value in representation.items() if key in keep}


# --- offset / limit -----------------------------------------------------------------------------
def _non_negative(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(
            f"{name} must be a whole number.", **{name: "Not a whole number."}
        ) from None
    if value < 0:
        raise bad_request(f"{name} must not be negative.", **{name: "Negative."})
    return value


def page_bounds(request: Request) -> tuple[int, int]:
    offset = _non_negative(request, "offset", 0)
    limit = _non_negative(request, "limit", DEFAULT_LIMIT)
    return offset, min(limit, MAX_LIMIT)


# Beyond this an offset names no row any table here holds (and 10**20 would overflow the
# database's integers): the page is empty without asking.
MAX_OFFSET = 2**62


def total_count(queryset: QuerySet[Any]) -> str:
    """X-Total-Count: exact up to ``paging.COUNT_CAP`` (10,000) matching rows; beyond that,
    on PostgreSQL, the query planner's estimate of the matching rows (never below 10,001),
    since an exact figure would cost reading every one of them (``paging.list_count``)."""
    return str(paging.list_count(queryset)[0])


def list_response(
    request: Request,
    queryset: QuerySet[Any],
    render: Callable[[Any], dict[str, Any]],
    *,
    always: Iterable[str],
) -> Response:
    """One page of ``queryset`` rendered, with X-Total-Count (see ``total_count``),
    X-Result-Count and, when a next page exists, a ``Link: <...>; rel="next"`` whose URL
    carries a ``cursor``: the key of this page's last row, from which the next page is read as
    an index range (as fast as the first page, however deep).

    ``offset`` keeps working: the rows it skips are read as keys only (an index), and the
    page's rows, annotations and all, are computed for the page alone. ``cursor`` and
    ``offset`` together page from the cursor, skipping ``offset`` rows after it.
    """
    offset, limit = page_bounds(request)
    cursor = request.query_params.get("cursor") or None
    keyset = paging.pages_by_key(queryset)
    if cursor is not None and not keyset:
        raise bad_request("This list does not page by cursor.", cursor="Not supported here.")
    total = total_count(queryset)
    page: list[Any] = []
    if limit and offset <= MAX_OFFSET:
        source = queryset
        if cursor is not None:
            try:
                source = paging.after_key(queryset, cursor)
            except paging.BadCursor:
                raise bad_request(
                    "cursor is not one this list handed out.", cursor="Unknown cursor."
                ) from None
        if keyset:
            # The keys of the page first (the skipped rows read from an index, nothing
            # computed for them), then the page's rows by those keys, in the list's order:
            # one query.
            keys = source.values("pk")[offset : offset + limit + 1]
            page = list(queryset.filter(pk__in=keys))
        else:
            page = list(source[offset : offset + limit + 1])
    more = len(page) > limit
    page = page[:limit]
    fields = requested_fields(request)
    always = tuple(always)
    body = [select_fields(render(item), fields, always) for item in page]
    headers = {"X-Total-Count": total, "X-Result-Count": str(len(body))}
    if more and keyset:
        query = request.query_params.copy()
        query.pop("offset", None)
        query["cursor"] = paging.encode_cursor(page[-1], paging.ordering_of(queryset))
        headers["Link"] = f'<{absolute(request, request.path)}?{query.urlencode()}>; rel="next"'
    return Response(body, headers=headers)


# --- ?attr=value filters ------------------------------------------------------------------------
Filter = Callable[[QuerySet[Any], list[str], str | None], QuerySet[Any]]


def apply_filters(
    request: Request, queryset: QuerySet[Any], filters: dict[str, Filter]
) -> QuerySet[Any]:
    """Apply each ``attr[.op]=value`` query parameter through ``filters[attr]`` (AND). A
    parameter naming an attribute we cannot filter on is a 400, never silently ignored: a
    client that believes it filtered would act on the wrong orders."""
    for param in request.query_params:
        if param in RESERVED_PARAMS:
            continue
        attr, op = param, None
        head, _, tail = param.rpartition(".")
        if head and tail in DATE_OPERATORS:
            attr, op = head, tail
        if attr not in filters:
            supported = ", ".join(sorted(filters))
            raise bad_request(
                f"Cannot filter on '{param}'. Filters: {supported}.", **{param: "Not a filter."}
            )
        values: list[str] = []
        for raw in request.query_params.getlist(param):
            values.extend(value.strip() for value in raw.split(",") if value.strip())
        if not values:
            raise bad_request(f"Filter '{param}' has no value.", **{param: "Empty."})
        try:
            queryset = filters[attr](queryset, values, op)
        except TmfError as exc:
            # A filter refuses a value without knowing what the caller called it.
            exc.field_errors = exc.field_errors or {param: exc.message}
            raise
    return queryset


def exact(field: str, convert: Callable[[list[str]], list[Any]] | None = None) -> Filter:
    """Filter on ``field`` equal to any of the values (no operators). ``convert`` turns the
    values into the column's: it may normalize them, drop those that cannot match anything,
    or refuse them with a 400."""

    def apply(queryset: QuerySet[Any], values: list[str], op: str | None) -> QuerySet[Any]:
        if op is not None:
            raise bad_request(f"'{op}' does not apply to this attribute.")
        converted = convert(values) if convert else values
        return queryset.filter(**{f"{field}__in": converted})

    return apply


def _day_of(text: str) -> datetime.date | None:
    """The date when ``text`` is a bare date (not a date-time)."""
    try:
        return parse_date(text.strip())
    except ValueError:  # well formed but impossible (month 13): not a date either
        return None


def parse_when(value: str, *, end_of_day: bool = False) -> datetime.datetime:
    """An ISO 8601 date-time (``+`` decoded as a space is taken back), or a date (its first
    instant, or its last with ``end_of_day``)."""
    text = value.strip().replace(" ", "+")
    # A bare date first: parse_datetime also reads "2026-11-02" (as midnight).
    day = _day_of(text)
    if day is not None:
        moment = datetime.datetime.combine(
            day, datetime.time.max if end_of_day else datetime.time.min
        )
    else:
        try:
            parsed = parse_datetime(text)
        except ValueError:  # well formed but impossible (hour 25)
            parsed = None
        if parsed is None:
            raise bad_request(f"'{value}' is not an ISO 8601 date or date-time.")
        moment = parsed
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, datetime.UTC)
    try:
        return moment.astimezone(datetime.UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00 is before the first representable instant
        raise bad_request(f"'{value}' is out of range.") from None


def _span(value: str) -> tuple[datetime.datetime, datetime.datetime]:
    """The instants ``value`` names, as [start, end): a whole day for a date; for a date-time,
    the millisecond it names (our representations give milliseconds while the database keeps
    microseconds, so an orderDate read from an order finds that order again)."""
    start = parse_when(value)
    if _day_of(value) is not None:
        return start, start + datetime.timedelta(days=1)
    if start.microsecond % 1000 == 0:
        return start, start + datetime.timedelta(milliseconds=1)
    return start, start + datetime.timedelta(microseconds=1)


def timestamp(field: str) -> Filter:
    """``attr=2026-11-30`` (that day), ``attr=<date-time>`` (that instant, to the millisecond),
    or with an operator ``attr.gte=...`` (``.gt`` / ``.lte`` / ``.lt``), each meaning the whole
    day or millisecond named."""

    def apply(queryset: QuerySet[Any], values: list[str], op: str | None) -> QuerySet[Any]:
        if op is not None:
            if len(values) != 1:
                raise bad_request(f"A '.{op}' filter takes one value, not a list.")
            start, end = _span(values[0])
            bound = {"gte": ("gte", start), "gt": ("gte", end), "lte": ("lt", end)}
            lookup, moment = bound.get(op, ("lt", start))
            return queryset.filter(**{f"{field}__{lookup}": moment})
        from django.db.models import Q

        match = Q()
        for value in values:
            start, end = _span(value)
            match |= Q(**{f"{field}__gte": start, f"{field}__lt": end})
        return queryset.filter(match)

    return apply


# --- values on the wire -------------------------------------------------------------------------
def iso(moment: datetime.datetime | datetime.date | None) -> str | None:
    """ISO 8601 with a Z suffix for instants; dates as midnight UTC instants."""
    if moment is None:
        return None
    if not isinstance(moment, datetime.datetime):
        moment = datetime.datetime.combine(moment, datetime.time.min, tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def drop_empty(representation: dict[str, Any]) -> dict[str, Any]:
    """TMF representations leave absent attributes out rather than sending null."""
    return {key: value for key, value in representation.items() if value not in (None, "", [], {})}
