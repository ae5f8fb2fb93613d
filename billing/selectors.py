"""Reads about billing: one order's account, and the billing analyst's worklist."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from billing.models import MISMATCH, BillingAccount, BillingCharge
from orders.access import restrict_by_order, restrict_orders
from orders.models import Order
from orders.selectors import WORKLIST_PAGE, Worklist, worklist
from orders.states import OrderStatus


def billing_account_for(order: Order) -> BillingAccount | None:
    return BillingAccount.objects.filter(order=order).select_related("plan").first()


def _visible_accounts(user: User | AnonymousUser) -> QuerySet[BillingAccount]:
    return restrict_by_order(BillingAccount.objects.all(), user)


def billing_accounts_started_on(
    user: User | AnonymousUser,
    *,
    day: datetime.date,
    limit: int = WORKLIST_PAGE,
    after: str | None = None,
) -> Worklist[BillingAccount]:
    """Accounts whose billing starts on ``day``, newest first, on orders ``user`` may see."""
    return worklist(
        _visible_accounts(user)
        .filter(start_date=day)
        .select_related("order", "customer", "plan")
        .order_by("-created_at", "-pk"),
        limit=limit,
        after=after,
    )


@dataclass(frozen=True)
class ChargeChange:
    """A charge a change to a live line started or ended on the day, and that change's order."""

    charge: BillingCharge
    order: Order
    started: bool
    ended: bool


def billing_charges_changed_on(
    user: User | AnonymousUser,
    *,
    day: datetime.date,
    limit: int = WORKLIST_PAGE,
    after: str | None = None,
) -> Worklist[ChargeChange]:
    """Charges that a change to a live line (a plan change, suspension, resumption, cease, an
    add-on taken off) started or ended on ``day``, newest first, on accounts ``user`` may see:
    the bill changes that ``billing_accounts_started_on`` does not list."""
    found = worklist(
        restrict_by_order(BillingCharge.objects.filter(changed_on=day), user, via="account__order")
        .select_related("account__customer", "offering", "started_by__order", "ended_by__order")
        .order_by("-changed_on", "-pk"),
        limit=limit,
        after=after,
    )
    rows = []
    for charge in found.items:
        ended = charge.ended_by is not None  # an ended charge changes no more
        change = charge.ended_by if ended else charge.started_by
        assert change is not None  # changed_on is set only by a change
        rows.append(
            ChargeChange(
                charge=charge,
                order=change.order,
                started=charge.started_by is not None and charge.start_date == day,
                ended=ended,
            )
        )
    return Worklist(
        items=rows,
        total=found.total,
        next_cursor=found.next_cursor,
        total_exact=found.total_exact,
    )


def activated_orders_without_billing(
    user: User | AnonymousUser, *, limit: int = WORKLIST_PAGE, after: str | None = None
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
        after=after,
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
    user: User | AnonymousUser, *, limit: int = WORKLIST_PAGE, after: str | None = None
) -> Worklist[BillingMismatch]:
    """Accounts whose plan, monthly price (or currency) or start date differ from their
    order's terms as billing read them (``BillingAccount.ordered_*``: the plan and price the
    order was taken at, and the local date of its activation). None in normal operation,
    since billing copies them; each one found is a correction to make. Oldest account first.
    The filter is ``billing.models.MISMATCH``, which a partial index holds: the page reads
    the mismatching accounts only, not every account."""
    queryset = (
        _visible_accounts(user)
        .filter(MISMATCH)
        .select_related("order", "order__plan", "customer", "plan")
        .order_by("created_at", "pk")
    )
    found = worklist(queryset, limit=limit, after=after)
    return Worklist(
        items=[BillingMismatch(account=a, differences=_differences(a)) for a in found.items],
        total=found.total,
        next_cursor=found.next_cursor,
        total_exact=found.total_exact,
    )
