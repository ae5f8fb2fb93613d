"""The open mismatches page (for the provisioning lead, billing and the operations manager) and
its CSV export: the same filtered list, the export streamed whole."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from itertools import islice
from typing import Any

from asgiref.sync import sync_to_async
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from orders.selectors import Worklist
from reconciliation.checks import chunks
from reconciliation.models import Mismatch, MismatchKind
from reconciliation.selectors import (
    VIEW_MISMATCH,
    open_mismatch_counts,
    open_mismatch_page,
    open_mismatches,
)

EXPORT_CHUNK = 500
CSV_HEADER = ["kind", "what", "order", "first_seen_at", "last_seen_at", "detail", "link"]


class MismatchFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "Every kind"), *MismatchKind.choices],
        error_messages={"invalid_choice": "No such kind of mismatch: %(value)s."},
    )


def _filter(request: HttpRequest) -> tuple[MismatchFilterForm, str | None, bool]:
    """The filter asked for: (its form, the kind or None, whether it is valid)."""
    form = MismatchFilterForm(request.GET or None)
    if not request.GET.get("kind"):
        return MismatchFilterForm(initial={"kind": ""}), None, True
    if not form.is_valid():
        return form, None, False
    return form, form.cleaned_data["kind"] or None, True


def _linked(request: HttpRequest, page: Worklist[Mismatch]) -> Worklist[Mismatch]:
    """``page`` with its links to the next page and back to the first, the filter kept."""
    query = request.GET.copy()
    next_url = first_url = ""
    if page.next_cursor:
        query["after"] = page.next_cursor
        next_url = f"?{query.urlencode()}"
    if request.GET.get("after"):
        query.pop("after", None)
        first_url = f"?{query.urlencode()}" if query else request.path
    return replace(page, next_url=next_url, first_url=first_url)


@login_required
@permission_required(VIEW_MISMATCH, raise_exception=True)
@require_GET
def mismatch_list(request: HttpRequest) -> HttpResponse:
    form, kind, valid = _filter(request)
    context: dict[str, Any] = {
        "form": form,
        "kind": kind or "",
        "counts": [],
        "interval_minutes": settings.RECONCILIATION_INTERVAL_MINUTES,
    }
    if valid:
        page = open_mismatch_page(request.user, kind=kind, after=request.GET.get("after") or None)
        counts = open_mismatch_counts()
        context.update(
            mismatches=_linked(request, page),
            counts=[(value, label, counts[value]) for value, label in MismatchKind.choices],
            export_query=f"?kind={kind}" if kind else "",
        )
    return render(request, "reconciliation/mismatches.html", context, status=200 if valid else 400)


def _csv_rows(request: HttpRequest, kind: str | None) -> Iterator[list[str]]:
    yield CSV_HEADER
    for chunk in chunks(open_mismatches(request.user, kind=kind), size=EXPORT_CHUNK):
        for mismatch in chunk:
            yield [
                mismatch.get_kind_display(),
                mismatch.subject,
                mismatch.order.display_id if mismatch.order else "",
                mismatch.first_seen_at.isoformat(),
                mismatch.last_seen_at.isoformat(),
                mismatch.detail,
                request.build_absolute_uri(reverse("orders:detail", args=[mismatch.order_id]))
                if mismatch.order_id
                else "",
            ]


class _Echo:
    """A file-like object whose write returns what it was given (csv.writer over a stream)."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(request: HttpRequest, kind: str | None) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in _csv_rows(request, kind):
        yield writer.writerow(row)


async def _csv_lines_async(request: HttpRequest, kind: str | None) -> AsyncIterator[str]:
    """The same lines for an ASGI server (uvicorn), which streams only an async iterator (a
    sync one it would read whole first): the database is read off the event loop, a chunk of
    lines at a time."""
    lines = _csv_lines(request, kind)
    take = sync_to_async(lambda: list(islice(lines, EXPORT_CHUNK)), thread_sensitive=True)
    while batch := await take():
        for line in batch:
            yield line


@login_required
@permission_required(VIEW_MISMATCH, raise_exception=True)
@require_GET
def mismatch_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The page's list (the same filter) as CSV, every page of it, streamed a chunk at a
    time: memory holds one chunk, whatever the list's length."""
    form, kind, valid = _filter(request)
    if not valid:
        errors = "; ".join(str(e) for e in form.errors.get("kind", []))
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    lines = (
        _csv_lines_async(request, kind)
        if isinstance(request, ASGIRequest)
        else _csv_lines(request, kind)
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    name = f"mismatches-{kind}.csv" if kind else "mismatches.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
