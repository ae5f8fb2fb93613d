"""Reads for customer contacts."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from orders.models import Customer, Order
from orders.services import normalize_phone
from support.models import SupportTicket

# A phone number is searched when the text has at least this many digits.
MIN_PHONE_DIGITS = 6


def order_tickets(order: Order) -> list[SupportTicket]:
    """The order's tickets, newest first (one query)."""
    return list(SupportTicket.objects.filter(order=order).order_by("-created_at", "-id"))


def customers_matching(text: str) -> QuerySet[Any]:
    """Customers whose name contains ``text``, whose e-mail is ``text`` (in any case) or whose
    phone is ``text`` (normalised), as ids for a subquery. Each condition is one the customer
    table's own indexes answer (a trigram index on UPPER(name) on PostgreSQL, the unique index
    on LOWER(email), the phone index), so the database combines three index reads instead of
    reading every customer beside the orders."""
    match = Q(name__icontains=text) | Q(email_lower=text.lower())
    phone = normalize_phone(text)
    if len(phone.lstrip("+")) >= MIN_PHONE_DIGITS:
        match |= Q(phone=phone)
    return Customer.objects.alias(email_lower=Lower("email")).filter(match).values("pk")
