"""Errors in the TM Forum body (TMF630): ``code``, ``reason``, ``message``, ``status``.

Every exception a TMF view raises, DRF's own (parse errors, validation, authentication,
throttling) included, leaves as one of these with the matching HTTP status. A validation error
lists every problem, each with the path of the attribute it is about.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from orders.outages import is_database_unavailable
from tmf.wire import BodyTooLarge

logger = logging.getLogger(__name__)


# While the database cannot be reached, every answer says to come back after this long.
DATABASE_RETRY_AFTER_SECONDS = 30


def database_unavailable_body() -> dict[str, Any]:
    return error_body(
        503,
        "SERVICE_UNAVAILABLE",
        "Service unavailable",
        "The service cannot reach its database just now. Try again in "
        f"{DATABASE_RETRY_AFTER_SECONDS} seconds.",
    )


class TmfError(exceptions.APIException):
    """An error with an explicit TMF code and reason. ``field_errors`` maps attribute paths
    (``productOrderItem[0].productOffering.id``) to what is wrong with them."""

    def __init__(
        self,
        http_status: int,
        code: str,
        reason: str,
        message: str = "",
        *,
        field_errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status_code = http_status
        self.code = code
        self.reason = reason
        self.message = message or reason
        self.field_errors = field_errors or {}
        self.headers = headers or {}
        super().__init__(detail=self.message, code=code)


class Problems(dict[str, str]):
    """Attribute path -> what is wrong with it (the first problem found per path), collected
    while reading a body so that one 400 lists them all."""

    def add(self, path: str, message: str) -> None:
        self.setdefault(path, message)

    def error(self, reason: str) -> TmfError:
        """The 400 naming every problem."""
        return TmfError(
            400, "INVALID_VALUE", reason, problems_message(self), field_errors=dict(self)
        )


def bad_request(message: str, *, code: str = "INVALID_VALUE", **fields: str) -> TmfError:
    return TmfError(400, code, "Invalid request", message, field_errors=fields or None)


def validation_error(detail: Any, reason: str) -> TmfError:
    """A serializer's errors as the 400 naming every problem at its attribute path."""
    field_errors = _flatten(detail)
    message = problems_message(field_errors) or "The request is not valid."
    return TmfError(400, "INVALID_VALUE", reason, message, field_errors=field_errors)


def not_found(what: str, *, field: str | None = None) -> TmfError:
    """A 404; ``field`` names the attribute of the body that refers to what is missing."""
    return TmfError(
        404, "NOT_FOUND", "Resource not found", what, field_errors={field: what} if field else None
    )


def error_body(
    http_status: int,
    code: str,
    reason: str,
    message: str,
    field_errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "reason": reason,
        "message": message,
        "status": str(http_status),
        "@type": "Error",
    }
    if field_errors:
        body["fieldErrors"] = field_errors
    return body


def _flatten(detail: Any, prefix: str = "") -> dict[str, str]:
    """DRF's nested validation detail as {attribute path: message}."""
    out: dict[str, str] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # a ListField's child, by its index
                out.update(_flatten(value, f"{prefix}[{key}]"))
                continue
            name = "" if key == "non_field_errors" else str(key)
            path = f"{prefix}.{name}" if prefix and name else (name or prefix)
            out.update(_flatten(value, path))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            text = " ".join(str(item) for item in detail if str(item))
            if text:
                out[prefix or "body"] = text
        else:
            for index, value in enumerate(detail):
                out.update(_flatten(value, f"{prefix}[{index}]"))
    elif detail is not None and str(detail):
        out[prefix or "body"] = str(detail)
    return out


def problems_message(field_errors: dict[str, str]) -> str:
    """Every problem in one line: 'path: what is wrong.' for each."""
    return " ".join(
        f"{path}: {text}" if path != "body" else text for path, text in field_errors.items()
    )


_DRF_CODES: dict[type[exceptions.APIException], tuple[str, str]] = {
    exceptions.ParseError: ("MALFORMED_BODY", "Malformed request body"),
    exceptions.NotAuthenticated: ("UNAUTHORIZED", "Authentication required"),
    exceptions.AuthenticationFailed: ("UNAUTHORIZED", "Authentication failed"),
    exceptions.PermissionDenied: ("FORBIDDEN", "Not allowed"),
    exceptions.NotFound: ("NOT_FOUND", "Resource not found"),
    exceptions.MethodNotAllowed: ("METHOD_NOT_ALLOWED", "Method not allowed"),
    exceptions.NotAcceptable: ("NOT_ACCEPTABLE", "Not acceptable"),
    exceptions.UnsupportedMediaType: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"),
    exceptions.Throttled: ("TOO_MANY_REQUESTS", "Too many requests"),
    BodyTooLarge: ("PAYLOAD_TOO_LARGE", "Request body too large"),
}


def tmf_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "No such resource.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    headers: dict[str, str] = {}
    if isinstance(exc, TmfError):
        http_status, code, reason, message = exc.status_code, exc.code, exc.reason, exc.message
        field_errors = exc.field_errors
        headers.update(exc.headers)
    elif isinstance(exc, exceptions.ValidationError):
        field_errors = _flatten(exc.detail)
        http_status, code, reason = 400, "INVALID_VALUE", "Invalid request"
        message = problems_message(field_errors) or "The request is not valid."
    elif isinstance(exc, exceptions.APIException):
        http_status = exc.status_code
        code, reason = _DRF_CODES.get(type(exc), ("ERROR", "Error"))
        message = str(exc.detail)
        field_errors = {}
        if isinstance(exc, exceptions.UnsupportedMediaType):
            field_errors = {"Content-Type": message}
        elif isinstance(exc, BodyTooLarge | exceptions.ParseError):
            field_errors = {"body": message}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            # The seconds until the oldest counted call leaves the window, rounded up.
            headers["Retry-After"] = str(max(1, math.ceil(exc.wait)))
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    elif is_database_unavailable(exc):
        logger.warning("database unavailable in a TMF API view: %s", exc)
        return Response(
            database_unavailable_body(),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    else:
        logger.exception("unhandled error in a TMF API view", exc_info=exc)
        http_status, code, reason = 500, "INTERNAL_ERROR", "Internal error"
        message = "The server could not complete the request; nothing was changed."
        field_errors = {}

    if http_status == status.HTTP_401_UNAUTHORIZED and "WWW-Authenticate" not in headers:
        headers["WWW-Authenticate"] = 'Bearer realm="tmf-api"'
    return Response(
        error_body(http_status, code, reason, message, field_errors),
        status=http_status,
        headers=headers,
    )
