"""Measured cycle times (orders.models.CycleTimeEstimate) and the promise an order gets from
them.

- Measure: ``cycle_times_refresh`` (Celery beat, ``orders.cycle_times_refresh``) reads the new
  lines activated in the last CYCLE_TIME_WINDOW_DAYS (one bounded query over an index), counts
  for each the working days from its start (the day it was submitted, or its requested day when
  that is later) to the day it went live, and keeps the CYCLE_TIME_PERCENTILE (80th,
  nearest-rank: that share of them were live within so many working days) of every group with
  at least CYCLE_TIME_MIN_SAMPLES activations: per area and plan, per area (its technology),
  per technology. The percentile is computed here, in Python, so that SQLite (the embedded
  default) and PostgreSQL give the same answer; the rows are replaced in one transaction.
- Look up: the rows are few (a group needs MIN_SAMPLES activations in the window to have one),
  so each process holds them all in memory for CYCLE_TIME_CACHE_SECONDS and an order's
  estimate is three dictionary look-ups, never a query: a list of orders costs no more than
  before. ``estimate_for`` answers the narrowest level that has a row: area and plan, then
  area, then technology; None means "our standard lead time" (the rule).
"""

from __future__ import annotations

import datetime
import math
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from orders.models import CycleTimeEstimate, EstimateLevel, Order, Plan, ServiceArea
from orders.states import EventSource


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """The working days (Monday to Friday) after ``start`` up to and including ``end``: the
    inverse of orders.selectors.add_working_days (0 when ``end`` is not after ``start``)."""
    if end <= start:
        return 0
    weeks, extra = divmod((end - start).days, 7)
    days = weeks * 5
    for offset in range(1, extra + 1):
        if (start + datetime.timedelta(days=offset)).weekday() < 5:
            days += 1
    return days


def nearest_rank(values: list[int], percentile: int) -> int:
    """The smallest value that ``percentile`` % of ``values`` are at most (nearest-rank)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(percentile * len(ordered) / 100))
    return ordered[rank - 1]


def start_day(submitted_at: datetime.datetime, requested: datetime.date | None) -> datetime.date:
    """The day an order's clock starts: its submission, or a later requested day."""
    submitted = timezone.localdate(submitted_at)
    return max(submitted, requested) if requested else submitted


# --- measuring --------------------------------------------------------------------------------
Key = tuple[str, int | None, str, int | None]  # level, area, technology, plan


def activations_since(since: datetime.datetime) -> QuerySet[Order, tuple[Any, ...]]:
    """The new lines activated since ``since``, as the measure reads them: a range of the
    order_line_activated_idx index (changes to live lines have cycles of their own). Not the
    lines imported from the legacy system (imports): their cycle was the legacy process's, not
    ours, and the promise to a new customer is about ours."""
    return (
        Order.objects.filter(
            activated_at__gte=since, activated_at__isnull=False, product_ref__isnull=True
        )
        .exclude(channel=EventSource.MIGRATION)
        .order_by()
        .values_list(
            "service_area_id",
            "service_area__technology",
            "plan_id",
            "submitted_at",
            "requested_activation_date",
            "activated_at",
        )
    )


def _samples(since: datetime.datetime) -> dict[Key, list[int]]:
    groups: dict[Key, list[int]] = defaultdict(list)
    rows = activations_since(since)
    for area, technology, plan, submitted_at, requested, activated_at in rows.iterator(2000):
        days = working_days_between(
            start_day(submitted_at, requested), timezone.localdate(activated_at)
        )
        groups[(EstimateLevel.AREA_PLAN, area, technology, plan)].append(days)
        groups[(EstimateLevel.AREA, area, technology, None)].append(days)
        groups[(EstimateLevel.TECHNOLOGY, None, technology, None)].append(days)
    return groups


def cycle_times_refresh(now: datetime.datetime | None = None) -> int:
    """Replace the estimates with those of the activations of the last CYCLE_TIME_WINDOW_DAYS,
    one row per group with at least CYCLE_TIME_MIN_SAMPLES of them. Returns the rows kept.
    Safe to run again at any time: it only ever rewrites the whole table at once."""
    now = now or timezone.now()
    window = settings.CYCLE_TIME_WINDOW_DAYS
    percentile = settings.CYCLE_TIME_PERCENTILE
    minimum = settings.CYCLE_TIME_MIN_SAMPLES
    rows = [
        CycleTimeEstimate(
            level=level,
            service_area_id=area,
            technology=technology,
            plan_id=plan,
            percentile=percentile,
            working_days=nearest_rank(days, percentile),
            sample_size=len(days),
            window_days=window,
            computed_at=now,
        )
        for (level, area, technology, plan), days in _samples(
            now - datetime.timedelta(days=window)
        ).items()
        if len(days) >= minimum
    ]
    with transaction.atomic():
        CycleTimeEstimate.objects.all().delete()
        CycleTimeEstimate.objects.bulk_create(rows)
    # This process reads the new table next (and again once it is committed, in case another
    # thread re-read the old one meanwhile); other processes within CYCLE_TIME_CACHE_SECONDS.
    estimates_forget()
    transaction.on_commit(estimates_forget)
    return len(rows)


# --- looking up -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Measured:
    """One row of the table, as the promise needs it."""

    level: str
    working_days: int
    sample_size: int
    technology: str


_lock = threading.Lock()
_table: dict[Key, Measured] | None = None
_loaded_at = 0.0


def _load() -> dict[Key, Measured]:
    return {
        (row.level, row.service_area_id, row.technology, row.plan_id): Measured(
            level=row.level,
            working_days=row.working_days,
            sample_size=row.sample_size,
            technology=row.technology,
        )
        for row in CycleTimeEstimate.objects.order_by()
    }


def estimates_table() -> dict[Key, Measured]:
    """Every estimate, read at most once per CYCLE_TIME_CACHE_SECONDS in this process."""
    global _table, _loaded_at
    with _lock:
        fresh = time.monotonic() - _loaded_at < settings.CYCLE_TIME_CACHE_SECONDS
        if _table is None or not fresh:
            _table, _loaded_at = _load(), time.monotonic()
        return _table


def estimates_forget() -> None:
    """Read the table again on next use (after a refresh in this process, and between tests)."""
    global _table
    with _lock:
        _table = None


def estimate_for(area: ServiceArea, plan: Plan | int) -> Measured | None:
    """The narrowest measured estimate for an order of ``plan`` in ``area``, or None when no
    level has enough recent activations (the standard lead time applies)."""
    plan_id = plan if isinstance(plan, int) else plan.pk
    table = estimates_table()
    keys: Iterable[Key] = (
        (EstimateLevel.AREA_PLAN, area.pk, area.technology, plan_id),
        (EstimateLevel.AREA, area.pk, area.technology, None),
        (EstimateLevel.TECHNOLOGY, None, area.technology, None),
    )
    return next((table[key] for key in keys if key in table), None)
