"""What ``/metrics`` exposes (Prometheus text format, prometheus_client).

* ``http_request_duration_seconds`` (histogram): each web request, by URL route name, method and
  status class; kept in the web processes (across uvicorn's processes when
  PROMETHEUS_MULTIPROC_DIR is set).
* Everything else is read from the database when Prometheus scrapes, so it is the same whichever
  web process answers and counts the workers' and the hub's work too: the tallies
  (observability.tallies: orders by state, task attempts and failures by reason, e-mails sent
  and failed, hub delivery attempts and give-ups) and a few bounded, indexed queries (queue
  depth and lag of the outbox, the manual task pool, the hub's pending deliveries and lag).
* Gauges other apps registered (observability.registry).
"""

from __future__ import annotations

import datetime
import logging
import os
from collections.abc import Iterator
from typing import Any

from django.db.models import Count, Min, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from observability.registry import registered_gauges
from observability.tallies import Metric as Tallied
from observability.tallies import tally_pending, tally_values

logger = logging.getLogger(__name__)

# A count at scrape time reads at most this many rows: beyond it the gauge says "at least".
SCRAPE_COUNT_CAP = 100_000
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUEST_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer a web request, by URL route name, method and status class.",
    ["route", "method", "status"],
)


def route_of(request: HttpRequest) -> str:
    """The URL pattern's name (namespaced), else its route; "unmatched" for a 404 of the
    resolver. Never the path itself: order IDs in paths would make a series per order."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unnamed"


def observe_request(request: HttpRequest, *, status: int, seconds: float) -> str:
    route = route_of(request)
    method = request.method if request.method in METHODS else "other"
    REQUEST_DURATION.labels(route=route, method=method, status=f"{status // 100}xx").observe(
        seconds
    )
    return route


def _capped_count(queryset: QuerySet[Any]) -> int:
    return queryset.order_by()[:SCRAPE_COUNT_CAP].count()


def _age(since: datetime.datetime | None, now: datetime.datetime) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


class DatabaseCollector:
    """The metrics read from the database at scrape time."""

    def collect(self) -> Iterator[Metric]:
        yield from self._tallied()
        yield from self._outbox()
        yield from self._tasks()
        yield from self._hub()
        yield from self._registered()

    def _tallied(self) -> Iterator[Metric]:
        from orders.states import OrderStatus

        tallies = tally_values()
        by_state = tallies[Tallied.ORDERS_BY_STATE]
        orders = GaugeMetricFamily("orders_by_state", "Orders now in each state.", labels=["state"])
        for state in OrderStatus.values:
            orders.add_metric([state], by_state.get(state, 0))
        yield orders
        counters = (
            (
                Tallied.TASK_ATTEMPTS,
                "task_attempts",
                "Fulfilment task attempts started.",
                "task_type",
            ),
            (
                Tallied.TASK_FAILURES,
                "task_failures",
                "Failed task attempts, by reason code.",
                "reason",
            ),
            (Tallied.EMAILS_SENT, "emails_sent", "Customer e-mails sent, by notice kind.", "kind"),
            (
                Tallied.EMAILS_FAILED,
                "emails_failed",
                "Customer e-mail sends that failed: retrying (tried again later) or given_up.",
                "outcome",
            ),
            (
                Tallied.OUTBOX_GIVEN_UP,
                "outbox_given_up",
                "Outbox work given up after its last try, by task (for a person to look at).",
                "task",
            ),
            (
                Tallied.HUB_ATTEMPTS,
                "hub_delivery_attempts",
                "Event hub delivery tries: delivered (2xx) or failed.",
                "outcome",
            ),
            (
                Tallied.HUB_GIVEN_UP,
                "hub_deliveries_failed",
                "Event hub deliveries given up (or refused), by event type.",
                "event_type",
            ),
        )
        for key, name, doc, label in counters:
            family = CounterMetricFamily(name, doc, labels=[label])
            for value, count in sorted(tallies[key].items()):
                family.add_metric([value], count)
            yield family
        yield GaugeMetricFamily(
            "metrics_tally_pending_deltas",
            "Tally changes not folded yet (grows while the fold task does not run).",
            value=tally_pending(),
        )

    def _outbox(self) -> Iterator[Metric]:
        from orders.models import OutboxMessage

        now = timezone.now()
        open_messages = OutboxMessage.objects.filter(
            completed_at__isnull=True, failed_at__isnull=True
        )
        depth = GaugeMetricFamily(
            "outbox_queue_depth",
            f"Outbox work not done yet, by task (at most {SCRAPE_COUNT_CAP} counted).",
            labels=["task"],
        )
        # The open messages (index outbox_open_idx), at most the cap, grouped by task.
        window = open_messages.order_by("created_at", "id").values("pk")[:SCRAPE_COUNT_CAP]
        rows = (
            OutboxMessage.objects.filter(pk__in=Subquery(window))
            .order_by()
            .values_list("task_name")
            .annotate(n=Count("pk"))
        )
        for task_name, n in sorted(rows):
            depth.add_metric([task_name], n)
        yield depth
        waiting = open_messages.filter(dispatched_at__isnull=True, not_before__lte=now).aggregate(
            oldest=Min("not_before")
        )["oldest"]
        in_flight = open_messages.filter(dispatched_at__isnull=False).aggregate(
            oldest=Min("dispatched_at")
        )["oldest"]
        lag = GaugeMetricFamily(
            "outbox_lag_seconds",
            "Age of the oldest outbox work not done: waiting since it was due, or handed to "
            "the broker and not finished.",
            labels=["state"],
        )
        lag.add_metric(["waiting"], _age(waiting, now))
        lag.add_metric(["in_flight"], _age(in_flight, now))
        yield lag

    def _tasks(self) -> Iterator[Metric]:
        from provisioning.models import FulfilmentTask, TaskState

        ready = GaugeMetricFamily(
            "fulfilment_tasks_ready",
            "Tasks ready for a person in the manual pool (automatic ready tasks wait in the "
            'outbox: outbox_queue_depth{task="provisioning.run_task"}).',
            labels=["mode"],
        )
        ready.add_metric(
            ["manual"],
            _capped_count(FulfilmentTask.objects.filter(mode="manual", state=TaskState.READY)),
        )
        yield ready

    def _hub(self) -> Iterator[Metric]:
        from tmf.models import EventDelivery

        now = timezone.now()
        pending = EventDelivery.objects.filter(status=EventDelivery.Status.PENDING)
        yield GaugeMetricFamily(
            "hub_deliveries_pending",
            f"Event hub deliveries not delivered or given up yet (at most {SCRAPE_COUNT_CAP}).",
            value=_capped_count(pending),
        )
        overdue = pending.filter(next_attempt_at__lte=now).aggregate(oldest=Min("next_attempt_at"))
        yield GaugeMetricFamily(
            "hub_delivery_lag_seconds",
            "How long the most overdue pending hub delivery has been due.",
            value=_age(overdue["oldest"], now),
        )

    def _registered(self) -> Iterator[Metric]:
        for gauge in registered_gauges():
            try:
                value = gauge.fn()
            except Exception:  # one broken gauge must not take the endpoint down
                logger.exception("metrics: gauge %s failed", gauge.name)
                continue
            family = GaugeMetricFamily(gauge.name, gauge.doc, labels=list(gauge.labels))
            if isinstance(value, int | float):
                family.add_metric([], value)
            else:
                for labels, number in sorted(value.items()):
                    family.add_metric(list(labels), number)
            yield family


def process_registry() -> CollectorRegistry:
    """The web processes' own metrics: this process's, or, with PROMETHEUS_MULTIPROC_DIR, those
    of every process writing to that folder added up (uvicorn --workers)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


def metrics_text() -> bytes:
    """The whole exposition: the web processes' own metrics, then the database's."""
    database_registry = CollectorRegistry(auto_describe=False)
    database_registry.register(DatabaseCollector())
    return generate_latest(process_registry()) + generate_latest(database_registry)
