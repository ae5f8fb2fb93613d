"""Answers for the whole site that no single app owns."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from orders.outages import is_database_unavailable
from tmf.errors import DATABASE_RETRY_AFTER_SECONDS, database_unavailable_body

logger = logging.getLogger(__name__)

API_PREFIX = "/tmf-api/"
_OUTAGE = "database_unavailable"


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: a TMF error body under /tmf-api/, a plain page elsewhere. Built
    without the database: no session, no user, no context processors."""
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    if request.path.startswith(API_PREFIX):
        return JsonResponse(database_unavailable_body(), status=503, headers=headers)
    page = render_to_string("503.html", {"retry_after": DATABASE_RETRY_AFTER_SECONDS})
    return HttpResponse(page, status=503, headers=headers)


def _note_database_outage(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    # Sent by Django while it turns an exception into a 500 (sys.exc_info() is that exception),
    # whether a view or a middleware raised it.
    exc = sys.exc_info()[1]
    if request is not None and exc is not None and is_database_unavailable(exc):
        setattr(request, _OUTAGE, True)


class DatabaseUnavailableMiddleware:
    """While the database is down, answer 503 "come back in N seconds" instead of 500.

    A view's error is answered directly (process_exception). An error raised by another
    middleware (the session's user loaded by the audit log's middleware, say) has already
    become a 500 when it reaches this one, the outermost: the signal Django sends on the way
    marks the request, and the 500 is replaced here."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        got_request_exception.connect(_note_database_outage, dispatch_uid="database-outage")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, _OUTAGE, False):
            return database_unavailable_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_unavailable(exception):
            return None
        logger.warning("database unavailable: %s %s: %s", request.method, request.path, exception)
        return database_unavailable_response(request)
