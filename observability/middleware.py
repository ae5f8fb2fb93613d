"""Middleware of the observability app.

``HealthMiddleware`` comes first of all: the probes and Prometheus' scrape are answered before
host validation, the HTTPS redirect, sessions and the database outage page, so that an
orchestrator (or Prometheus) may reach each web process by its address, over plain HTTP, and
the probe sees the database's state in the answer itself.

``RequestObservabilityMiddleware`` comes next: it times every request into
``http_request_duration_seconds`` (labelled by the URL's route name, never the raw path, so
the label values are bounded), opens the request's log context (the order of the URL, if any;
services bind the order they work on) and writes one access line with it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from observability.health import readiness
from observability.metrics import observe_request
from observability.views import metrics
from orders.log_context import log_context_bind, log_context_pop, log_context_push
from orders.outages import DATABASE_ERRORS

logger = logging.getLogger("observability.request")

LIVE_PATHS = frozenset({"/health/live", "/health/live/"})
READY_PATHS = frozenset({"/health/ready", "/health/ready/"})
PROBE_HEADERS = {"Cache-Control": "no-store"}
METRICS_PATH = "/metrics"
ORDER_ID_MAX = 40


class HealthMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path in LIVE_PATHS:
            return JsonResponse({"status": "ok"}, headers=PROBE_HEADERS)
        if path in READY_PATHS:
            ready, checks = readiness()
            return JsonResponse(
                {"status": "ok" if ready else "unavailable", "checks": checks},
                status=200 if ready else 503,
                headers=PROBE_HEADERS,
            )
        if path == METRICS_PATH:
            # Prometheus scrapes each web process by its address, over the internal network:
            # neither an allowed host nor HTTPS. The bearer token is the guard (views.metrics).
            try:
                return metrics(request)
            except DATABASE_ERRORS:
                logger.warning("metrics: database unavailable")
                return HttpResponse(
                    "Database unavailable.\n", status=503, content_type="text/plain"
                )
        return self.get_response(request)


class RequestObservabilityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        token = log_context_push()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            elapsed = time.perf_counter() - started
            route = observe_request(request, status=status, seconds=elapsed)
            logger.info(
                "%s %s %d %.1f ms",
                request.method,
                route,
                status,
                elapsed * 1000,
                extra={"route": route, "status": status, "duration_ms": round(elapsed * 1000, 1)},
            )
            log_context_pop(token)

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        order_id = kwargs.get("order_id")
        if isinstance(order_id, str) and order_id:
            log_context_bind(order_id=order_id[:ORDER_ID_MAX])
