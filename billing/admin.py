"""Billing accounts in the back office: read-only. Accounts are opened only by
billing.services.billing_account_start, from a successful activation (DESIGN invariant 6)."""

from __future__ import annotations

from django.contrib import admin

from billing.models import BillingAccount
from orders.admin import OrderIdSearchMixin, ReadOnlyAdmin, order_link


@admin.register(BillingAccount)
class BillingAccountAdmin(OrderIdSearchMixin, ReadOnlyAdmin):
    list_display = (
        "pk",
        "order_display",
        "customer",
        "plan",
        "monthly_price",
        "currency",
        "start_date",
        "first_period_end",
        "first_period_amount",
        "status",
    )
    list_display_links = ("pk",)
    list_select_related = ("order", "customer", "plan")
    list_filter = ("start_date", "status")
    date_hierarchy = "start_date"
    search_fields = ("^order__id", "customer__name", "customer__email")
    ordering = ("-start_date", "-pk")
    fields = (
        "order_display",
        "customer",
        "plan",
        ("monthly_price", "currency"),
        "start_date",
        ("first_period_end", "first_period_amount"),
        "status",
        "created_at",
    )
    readonly_fields = ("order_display",)

    @admin.display(description="order", ordering="order__id")
    def order_display(self, account: BillingAccount) -> str:
        return order_link(account.order)
