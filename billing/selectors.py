"""Reads about billing: one order's account, and the billing analyst's worklist."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import F, Q, QuerySet
from django.db.models.functions import TruncDate

from billing.models import BillingAccount
from orders.access import restrict_by_order, restrict_orders
from orders.models import Order
from orders.selectors import Worklist, worklist
from orders.states import OrderStatus


def billing_account_for(order: Order) -> BillingAccount | None:
    return BillingAccount.objects.filter(order=order).select_related("plan").first()


def _visible_accounts(user: User | AnonymousUser) -> QuerySet[BillingAccount]:
    return restrict_by_order(BillingAccount.objects.all(), user)


def billing_accounts_started_on(
    user: User | AnonymousUser, *, day: datetime.date, limit: int = 200
) -> Worklist[BillingAccount]:
    """Accounts whose billing starts on ``day``, newest first, on orders ``user`` may see."""
    return worklist(
        _visible_accounts(user)
        .filter(start_date=day)
        .select_related("order", "customer", "plan")
        .order_by("-created_at", "-pk"),
        limit=limit,
    )


def activated_orders_without_billing(
    user: User | AnonymousUser, *, limit: int = 100
) -> Worklist[Order]:
    """Orders live on the network whose bill has not started, longest waiting first. Normally
    a few seconds' worth (billing starts right after activation); anything older means the
    billing start is stuck."""
    return worklist(
        restrict_orders(
            Order.objects.filter(status=OrderStatus.ACTIVATED, billing_account__isnull=True), user
        )
        .select_related("customer", "plan")
        .order_by("activated_at", "pk"),
        limit=limit,
    )


@dataclass(frozen=True)
class BillingMismatch:
    """An account that disagrees with its order record, and on what (DESIGN invariant 6)."""

    account: BillingAccount
    differences: list[str]


def _differences(account: BillingAccount) -> list[str]:
    order = account.order
    found = []
    if account.plan_id != order.plan_id:
        found.append(f"plan {account.plan.name} on the bill, {order.plan.name} ordered")
    if account.monthly_price != order.monthly_price or account.currency != order.currency:
        found.append(
            f"price {account.monthly_price} {account.currency} on the bill, "
            f"{order.monthly_price} {order.currency} ordered"
        )
    if account.start_date != order.activation_date:
        activated = order.activation_date.isoformat() if order.activation_date else "never"
        found.append(f"starts {account.start_date.isoformat()}, activated {activated}")
    return found


def billing_mismatches(
    user: User | AnonymousUser, *, limit: int = 100
) -> Worklist[BillingMismatch]:
    """Accounts whose plan, monthly price (or currency) or start date differ from their order
    record: the plan and price the order was taken at, and the local date of its activation.
    None in normal operation, since billing copies them; each one found is a correction to
    make. Oldest account first."""
    queryset = (
        _visible_accounts(user)
        .annotate(activation_day=TruncDate("order__activated_at"))
        .filter(
            ~Q(plan_id=F("order__plan_id"))
            | ~Q(monthly_price=F("order__monthly_price"))
            | ~Q(currency=F("order__currency"))
            | Q(activation_day__isnull=True)
            | ~Q(start_date=F("activation_day"))
        )
        .select_related("order", "order__plan", "customer", "plan")
        .order_by("created_at", "pk")
    )
    found = worklist(queryset, limit=limit)
    return Worklist(
        items=[BillingMismatch(account=a, differences=_differences(a)) for a in found.items],
        total=found.total,
    )
