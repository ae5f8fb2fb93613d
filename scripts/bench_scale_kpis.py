"""The KPI dashboard's summary rows in the bench-scale dataset (kpis.refresh): computed once,
by the same code beat runs, for every day of a dataset, generated or reused, that has none;
the time it took is printed (the cost of rebuilding two years of figures with
``manage.py refresh_kpis``). Then the dashboard pages are measured like every other page."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Any


def kpi_summary_ensure() -> int:
    """Refresh every day of the dataset unless some day has been; returns the days done."""
    from django.db.models import Max, Min
    from django.utils import timezone

    from kpis.models import KpiRefresh
    from kpis.refresh import kpis_refresh
    from orders.models import Order

    if KpiRefresh.objects.exists():
        return 0
    bounds = Order.objects.aggregate(first=Min("submitted_at"), last=Max("activated_at"))
    if bounds["first"] is None:
        return 0
    started = time.monotonic()
    since = timezone.localdate(bounds["first"])
    days = kpis_refresh(since, timezone.localdate())
    took = time.monotonic() - started
    print(
        f"  KPI summary rows for {days} days in {took:.0f} s ({took / days * 1000:.0f} ms a day)",
        flush=True,
    )
    return days


def kpi_pages(
    staff: dict[str, Any], get: Callable[[Any, str], Callable[[], Any]]
) -> list[tuple[str, Callable[[], Any]]]:
    """The dashboard as the operations manager, support and billing open it, filtered, over
    two years, and one figure's CSV."""
    from django.utils import timezone

    from orders.models import Plan, ServiceArea

    today = timezone.localdate()
    two_years = (today - datetime.timedelta(days=730)).isoformat()
    area = ServiceArea.objects.order_by("pk").first()
    plan = Plan.objects.filter(download_mbps__gt=0).order_by("pk").first()
    sliced = f"/work/kpis/?area={area.postcode if area else ''}&plan={plan.pk if plan else ''}"
    return [
        ("kpis: dashboard (12 weeks)", get(staff["ops-0"], "/work/kpis/")),
        ("kpis: dashboard, area and plan", get(staff["ops-0"], sliced)),
        ("kpis: dashboard, two years", get(staff["ops-0"], f"/work/kpis/?since={two_years}")),
        ("kpis: support's figures", get(staff["support"], "/work/kpis/")),
        ("kpis: billing's figures", get(staff["billing"], "/work/kpis/")),
        ("kpis: CSV, error reasons", get(staff["ops-0"], "/work/kpis/error-reasons.csv")),
    ]


def kpi_refresh_today() -> None:
    """What beat runs every five minutes: today and yesterday."""
    from kpis.refresh import kpis_refresh_recent

    kpis_refresh_recent(2)
