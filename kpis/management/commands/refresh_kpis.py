"""``manage.py refresh_kpis [--since YYYY-MM-DD] [--until YYYY-MM-DD]``: recompute the KPI
summary rows of those days (after a bulk load, a migration import, or to rebuild them)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Min
from django.utils import timezone

from kpis.refresh import kpis_refresh
from orders.models import Order


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from exc


class Command(BaseCommand):
    help = "Recompute the KPI dashboard's summary rows, a day at a time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=_date, help="First day (default: the first order's).")
        parser.add_argument("--until", type=_date, help="Last day (default: today).")

    def handle(
        self, *args: Any, since: datetime.date | None, until: datetime.date | None, **options: Any
    ) -> None:
        until = until or timezone.localdate()
        if since is None:
            first = Order.objects.aggregate(first=Min("submitted_at"))["first"]
            since = timezone.localdate(first) if first else until
        if since > until:
            raise CommandError("--since must be on or before --until.")
        days = kpis_refresh(since, until)
        self.stdout.write(
            self.style.SUCCESS(f"KPIs refreshed for {days} days ({since} to {until}).")
        )
