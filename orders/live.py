"""Live status for open pages (US-02: visible within 60 s; pushed, within a second).

A page renders its status fragment with the id of the newest OrderEvent (its version). It then
asks its fragment URL with ``?since=<version>``: one indexed query answers 204 when nothing
happened, otherwise the fresh fragment comes back with its new version in ``X-Live-Version``.

The same URL asked with ``Accept: text/event-stream`` from an ASGI server (uvicorn, as
``make run`` and the image serve) answers, once the view has checked that the user may see the
order, a stream of server-sent events that says "changed" the moment a change commits
(orders.live_push, orders.live_notifier); the page then asks for the fragment as above. Where
the push is unavailable (a WSGI server, a proxy that cuts streams, LIVE_PUSH_ENABLED off) the
page polls every LIVE_STATUS_POLL_MS instead, as it did before the push.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.template.loader import render_to_string

from orders.live_notifier import order_event_stream, stream_headers
from orders.models import Order
from orders.selectors import order_last_event_id


def push_available(request: HttpRequest) -> bool:
    """Whether this server can hold a stream open for the page: only an ASGI server can, at
    no cost; a WSGI worker would be taken for as long as the page is open."""
    return bool(settings.LIVE_PUSH_ENABLED) and isinstance(request, ASGIRequest)


def wants_stream(request: HttpRequest) -> bool:
    return "text/event-stream" in request.headers.get("Accept", "") and push_available(request)


def live_fragment_response(
    request: HttpRequest,
    order: Order,
    *,
    template: str,
    context: Callable[[], dict[str, Any]],
    until: float | None = None,
) -> HttpResponseBase:
    """The fragment (or 204) for a poll, or the order's event stream for a page that asks for
    one on a server that can push; ``until`` (a wall-clock time) ends the stream when the
    caller's right to it ends (a tracking token's expiry)."""
    version = order_last_event_id(order)
    if wants_stream(request):
        return StreamingHttpResponse(
            order_event_stream(order.pk, version=version, until=until), headers=stream_headers()
        )
    since = request.GET.get("since", "")
    if since.isdigit() and int(since) >= version:
        response: HttpResponse = HttpResponse(status=204)
    else:
        # The view read the order before its version: a change committed in between would be
        # announced (the version) without being shown (the order), and the page would then wait
        # for the next change. Read after the version, the order shows at least that much.
        order.refresh_from_db()
        response = HttpResponse(render_to_string(template, context(), request=request))
    response["X-Live-Version"] = str(version)
    response["Cache-Control"] = "no-store"
    return response
