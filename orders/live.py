"""Live status for open pages (US-02: visible within 60 s; the pages ask every 2 s).

A page renders its status fragment with the id of the newest OrderEvent (its version) and then
polls the fragment URL with ``?since=<version>``: one indexed query answers 204 when nothing
happened, otherwise the fresh fragment comes back with its new version in ``X-Live-Version``.
Polling rather than a held connection keeps web processes stateless and works behind any
proxy; the cost is one cheap query per open page every two seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from orders.models import Order
from orders.selectors import order_last_event_id


def live_fragment_response(
    request: HttpRequest,
    order: Order,
    *,
    template: str,
    context: Callable[[], dict[str, Any]],
) -> HttpResponse:
    version = order_last_event_id(order)
    since = request.GET.get("since", "")
    if since.isdigit() and int(since) >= version:
        response = HttpResponse(status=204)
    else:
        response = HttpResponse(render_to_string(template, context(), request=request))
    response["X-Live-Version"] = str(version)
    response["Cache-Control"] = "no-store"
    return response
