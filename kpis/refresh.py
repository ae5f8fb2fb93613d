"""Computing the KPI summary rows of a day (kpis.models) from the records the system keeps.

Each day is recomputed whole from its sources, each read over an index range of that day:
orders by ``submitted_at``, new lines by ``activated_at`` (order_line_activated_idx), task
attempts by ``finished_at``, tickets by ``created_at``, duplicate entries by ``at``, CSAT answers
by ``answered_at``. A day's old rows are replaced in one transaction, under the lock of its
KpiRefresh row, so a reader sees the day before or after a refresh, never half of it, and two
refreshes of the same day (beat's and a person's ``refresh_kpis``) take turns. In the same
transaction the day's week is summed again from its seven days (``kpis_rollup_week``), so the
week's rows always add up to its days'.

When: every few minutes for today and yesterday (``kpis.refresh_recent``), once a day for the last
KPI_REFRESH_DAILY_DAYS (late changes to an order's slice: an amended plan or address), and
``manage.py refresh_kpis --since`` after a bulk load. Orders brought in by the migration import
(channel ``migration``) are another system's history and count in no figure.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict

from django.db import models, transaction
from django.db.models import Sum
from django.utils import timezone

from kpis.models import (
    HOURS_CAP,
    KpiActivationHours,
    KpiActivationHoursWeek,
    KpiDay,
    KpiFailureDay,
    KpiFailureWeek,
    KpiRefresh,
    KpiWeek,
    KpiWeekRefresh,
)
from orders.milestones import start_of_day, work_anchor
from orders.models import DuplicateEntry, Order, OrderEvent
from orders.models.duplicates import DuplicateKind
from orders.states import EventSource, OrderStatus
from provisioning.models import TaskAttempt
from support.models import CsatResponse, SupportTicket

# A line live within this long of its start is within the case study's target of one day.
TARGET_SECONDS = 24 * 3600
# A person had to provision a line that was ever in one of these states.
PEOPLE_STATES = (OrderStatus.AWAITING_MANUAL, OrderStatus.EXCEPTION)
DUPLICATE_FIELDS = {
    DuplicateKind.REFUSED: "duplicates_refused",
    DuplicateKind.REPLAYED: "duplicates_replayed",
    DuplicateKind.CUSTOMER_MATCHED: "customers_matched",
}
CHUNK = 2000

Key = tuple[int, str, int]  # service area, channel, plan


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The local day's first instant and the next day's."""
    return start_of_day(day), start_of_day(day + datetime.timedelta(days=1))


def activation_seconds(
    submitted_at: datetime.datetime,
    requested: datetime.date | None,
    activated_at: datetime.datetime,
) -> int:
    """From the order's work anchor (as its milestones count) to its line being live."""
    return max(0, int((activated_at - work_anchor(submitted_at, requested)).total_seconds()))


# Each day model and the week model its rows are summed into.
ROLLUPS: tuple[tuple[type[models.Model], type[models.Model]], ...] = (
    (KpiDay, KpiWeek),
    (KpiFailureDay, KpiFailureWeek),
    (KpiActivationHours, KpiActivationHoursWeek),
)
# What a row is per besides its day: the slice, and the reason code or the hours.
_KEYS = {"service_area", "channel", "plan", "reason_code", "hours"}


def week_of(day: datetime.date) -> datetime.date:
    """The Monday of ``day``'s week."""
    return day - datetime.timedelta(days=day.weekday())


def kpis_rollup_week(monday: datetime.date) -> None:
    """Sum the week's day rows into its week rows, per slice (and reason code, and hours),
    replacing them whole under the week's lock. Call it in a transaction."""
    sunday = monday + datetime.timedelta(days=6)
    KpiWeekRefresh.objects.get_or_create(day=monday)
    KpiWeekRefresh.objects.select_for_update().filter(day=monday).update(
        refreshed_at=timezone.now()
    )
    for day_model, week_model in ROLLUPS:
        fields = {f.name: f.attname for f in day_model._meta.concrete_fields}
        keys = [attname for name, attname in fields.items() if name in _KEYS]
        summed = [name for name in fields if name not in _KEYS and name not in ("id", "day")]
        rows = (
            day_model._default_manager.filter(day__gte=monday, day__lte=sunday)
            .order_by()
            .values(*keys)
            .annotate(**{name: Sum(name) for name in summed})
        )
        week_model._default_manager.filter(day=monday).delete()
        week_model._default_manager.bulk_create(week_model(day=monday, **row) for row in rows)


def kpis_refresh_day(day: datetime.date, *, rollup: bool = True) -> int:
    """Recompute ``day``'s summary rows (and, with ``rollup``, its week's); returns how many
    slices the day has."""
    start, end = day_bounds(day)
    days: dict[Key, Counter[str]] = defaultdict(Counter)
    failures: Counter[tuple[Key, str]] = Counter()
    hours: Counter[tuple[Key, int]] = Counter()
    orders = Order.objects.exclude(channel=EventSource.MIGRATION)

    submitted = orders.filter(submitted_at__gte=start, submitted_at__lt=end).order_by()
    for area, channel, plan in submitted.values_list(
        "service_area_id", "channel", "plan_id"
    ).iterator(CHUNK):
        days[(area, channel, plan)]["orders_submitted"] += 1

    lines = (
        orders.filter(activated_at__gte=start, activated_at__lt=end, product_ref__isnull=True)
        .order_by()
        .values_list(
            "pk",
            "service_area_id",
            "channel",
            "plan_id",
            "submitted_at",
            "requested_activation_date",
            "activated_at",
        )
    )
    activated = list(lines.iterator(CHUNK))
    by_people: set[str] = set()
    for first in range(0, len(activated), 500):  # within every database's parameter limit
        by_people.update(
            OrderEvent.objects.filter(
                order_id__in=[row[0] for row in activated[first : first + 500]],
                to_status__in=PEOPLE_STATES,
            )
            .order_by()
            .values_list("order_id", flat=True)
            .distinct()
        )
    for pk, area, channel, plan, submitted_at, requested, activated_at in activated:
        key = (area, channel, plan)
        seconds = activation_seconds(submitted_at, requested, activated_at)
        counts = days[key]
        counts["activated"] += 1
        counts["activation_seconds"] += seconds
        counts["activated_within_target"] += seconds <= TARGET_SECONDS
        counts["auto_provisioned"] += pk not in by_people
        hours[(key, min(seconds // 3600, HOURS_CAP))] += 1

    attempts = (
        TaskAttempt.objects.filter(finished_at__gte=start, finished_at__lt=end)
        .order_by()
        .values_list(
            "order__service_area_id", "order__channel", "order__plan_id", "outcome", "error_code"
        )
    )
    for area, channel, plan, outcome, error_code in attempts.iterator(CHUNK):
        key = (area, channel, plan)
        days[key]["attempts"] += 1
        if outcome == TaskAttempt.Outcome.FAILED:
            days[key]["attempts_failed"] += 1
            failures[(key, error_code or "UNKNOWN")] += 1

    tickets = (
        SupportTicket.objects.filter(created_at__gte=start, created_at__lt=end)
        .order_by()
        .values_list("order__service_area_id", "order__channel", "order__plan_id")
    )
    for key in tickets.iterator(CHUNK):
        days[key]["tickets_opened"] += 1

    duplicates = (
        DuplicateEntry.objects.filter(at__gte=start, at__lt=end)
        .order_by()
        .values_list("order__service_area_id", "order__channel", "order__plan_id", "kind")
    )
    for area, channel, plan, kind in duplicates.iterator(CHUNK):
        days[(area, channel, plan)][DUPLICATE_FIELDS[DuplicateKind(kind)]] += 1

    answers = (
        CsatResponse.objects.filter(answered_at__gte=start, answered_at__lt=end)
        .order_by()
        .values_list("order__service_area_id", "order__channel", "order__plan_id", "score")
    )
    for area, channel, plan, score in answers.iterator(CHUNK):
        counts = days[(area, channel, plan)]
        counts["csat_answers"] += 1
        counts["csat_score_sum"] += score
        counts[f"csat_{score}"] += 1

    with transaction.atomic():
        KpiRefresh.objects.get_or_create(day=day)
        KpiRefresh.objects.select_for_update().filter(day=day).update(refreshed_at=timezone.now())
        KpiDay.objects.filter(day=day).delete()
        KpiFailureDay.objects.filter(day=day).delete()
        KpiActivationHours.objects.filter(day=day).delete()
        KpiDay.objects.bulk_create(
            KpiDay(day=day, service_area_id=a, channel=c, plan_id=p, **counts)
            for (a, c, p), counts in days.items()
        )
        KpiFailureDay.objects.bulk_create(
            KpiFailureDay(
                day=day, service_area_id=a, channel=c, plan_id=p, reason_code=code, failures=n
            )
            for ((a, c, p), code), n in failures.items()
        )
        KpiActivationHours.objects.bulk_create(
            KpiActivationHours(
                day=day, service_area_id=a, channel=c, plan_id=p, hours=h, activations=n
            )
            for ((a, c, p), h), n in hours.items()
        )
        if rollup:
            kpis_rollup_week(week_of(day))
    return len(days)


def kpis_refresh(since: datetime.date, until: datetime.date | None = None) -> int:
    """Recompute every day from ``since`` to ``until`` (today when not given); returns the
    number of days."""
    last = until or timezone.localdate()
    day, done = since, 0
    weeks: list[datetime.date] = []
    while day <= last:
        kpis_refresh_day(day, rollup=False)  # each week summed once, below
        if not weeks or weeks[-1] != week_of(day):
            weeks.append(week_of(day))
        day += datetime.timedelta(days=1)
        done += 1
    for monday in weeks:
        with transaction.atomic():
            kpis_rollup_week(monday)
    return done


def kpis_refresh_recent(days: int = 2) -> int:
    """Today and the days before it (the beat task's few minutes' refresh)."""
    today = timezone.localdate()
    return kpis_refresh(today - datetime.timedelta(days=days - 1), today)
