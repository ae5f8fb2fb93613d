from __future__ import annotations

from billing.models import BillingAccount
from orders.models import Order


def billing_account_for(order: Order) -> BillingAccount | None:
    return BillingAccount.objects.filter(order=order).select_related("plan").first()
