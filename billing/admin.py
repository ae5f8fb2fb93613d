"""Billing accounts in the back office: read-only. Accounts are opened only by
billing.services.billing_account_start, from a successful activation (DESIGN invariant 6).

Billing also offers its override on the order's admin page: waive the billing start."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from billing.models import BillingAccount, BillingCharge, BillingWaiver
from billing.services import billing_waive_start
from orders.access import restrict_by_order
from orders.admin_helpers import (
    OrderIdSearchMixin,
    ReadOnlyAdmin,
    ReadOnlyTabularInline,
    order_link,
)
from orders.admin_overrides import OrderOverride, OverrideForm, register_order_override
from orders.models import Order
from orders.states import FINAL_STATES, OrderStatus


def _waive(order: Order, actor: User, form: OverrideForm) -> str:
    billing_waive_start(
        order,
        actor=actor,
        reason=form.cleaned_data["reason"],
        expected_version=form.cleaned_data["version"],
    )
    if order.status == OrderStatus.ACTIVATED:
        return f"Billing waived: order {order.display_id} is complete with no billing account."
    return (
        f"Billing waived: order {order.display_id} will complete with no billing account when "
        "it is activated."
    )


register_order_override(
    OrderOverride(
        slug="waive-billing",
        label="Waive billing start",
        intro="The order completes without a billing account (for example a goodwill free "
        "period): now if it is activated, otherwise when it is. Not possible once billing "
        "has started.",
        form_class=OverrideForm,
        apply=_waive,
        available=lambda order: (
            order.status not in FINAL_STATES
            and not BillingAccount.objects.filter(order_id=order.pk).exists()
            and not BillingWaiver.objects.filter(order_id=order.pk).exists()
        ),
    )
)


class BillingChargeInline(ReadOnlyTabularInline):
    """What the account bills, item by item: each delivered item's charges as ordered."""

    model = BillingCharge
    fields = (
        "item_display",
        "offering",
        "recurring_price",
        "one_time_price",
        "currency",
        "start_date",
        "first_period_end",
        "first_period_amount",
        "first_bill",
        "end_date",
        "last_period_amount",
    )
    readonly_fields = fields
    verbose_name = "charge"
    verbose_name_plural = "charges per delivered item and per change to the line"

    def get_queryset(self, request: HttpRequest) -> QuerySet[BillingCharge]:
        return (
            super()
            .get_queryset(request)
            .select_related("item__order", "offering")
            .order_by("start_date", "item__position", "pk")
        )

    @admin.display(description="item")
    def item_display(self, charge: BillingCharge) -> str:
        # Charges come from the line's order and from the changes to it: say which.
        return f"Item {charge.item.item_id} of {charge.item.order.display_id}"

    @admin.display(description="first bill")
    def first_bill(self, charge: BillingCharge) -> Decimal:
        return charge.first_bill_amount  # type: ignore[no-any-return]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The charges are part of the account: whoever may see the account sees them.
        return request.user.has_perm("billing.view_billingaccount")


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
    inlines = (BillingChargeInline,)

    @admin.display(description="order", ordering="order__id")
    def order_display(self, account: BillingAccount) -> str:
        return order_link(account.order)

    def get_queryset(self, request: HttpRequest) -> QuerySet[BillingAccount]:
        return restrict_by_order(super().get_queryset(request), request.user)
