"""Views shared by the three APIs."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from tmf.common import TmfView
from tmf.errors import not_found


class UnknownPath(TmfView):
    """Any path under an API's base that names no resource: a TMF 404, not an HTML page."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    schema = None

    def dispatch_any(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise not_found(f"No resource at {request.path}.")

    get = post = patch = put = delete = dispatch_any
