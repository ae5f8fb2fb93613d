"""Proration: the first and the last period of a recurring charge, by day of the calendar month."""

from __future__ import annotations

import calendar
import datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def _prorated(monthly_price: Decimal, days: int, days_in_month: int) -> Decimal:
    return (monthly_price * days / days_in_month).quantize(CENT, rounding=ROUND_HALF_UP)


def first_period(start: datetime.date, monthly_price: Decimal) -> tuple[datetime.date, Decimal]:
    """The first period runs from the start date to the end of that calendar month, charged
    for the days it covers (start day included)."""
    days_in_month = calendar.monthrange(start.year, start.month)[1]
    end = start.replace(day=days_in_month)
    return end, _prorated(monthly_price, days_in_month - start.day + 1, days_in_month)


def last_period(
    end: datetime.date, monthly_price: Decimal, *, start: datetime.date
) -> tuple[datetime.date, Decimal]:
    """The last period of a charge that ends on ``end`` (its last day charged): from the first
    of that month, or the charge's ``start`` if later, to ``end``, charged for the days it
    covers (both included). A charge that ended before it started (changed on its first day)
    has a last period of nothing."""
    days_in_month = calendar.monthrange(end.year, end.month)[1]
    begins = max(end.replace(day=1), start)
    if end < begins:
        return begins, Decimal("0.00")
    return begins, _prorated(monthly_price, (end - begins).days + 1, days_in_month)
