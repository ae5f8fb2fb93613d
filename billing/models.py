"""Billing accounts, started from a successful activation (DESIGN invariant 6)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from orders.models import Customer, Order, OrderItem, Plan

# The accounts whose billed terms differ from the order's: the worklist's filter and the
# condition of billing_mismatch_idx, one expression so that the planner matches the two.
MISMATCH = (
    Q(ordered_activation_date__isnull=True)
    | ~Q(plan=F("ordered_plan"))
    | ~Q(monthly_price=F("ordered_monthly_price"))
    | ~Q(currency=F("ordered_currency"))
    | ~Q(start_date=F("ordered_activation_date"))
)


class BillingAccount(models.Model):
    """One per activated order. Plan, price and start date are copied from the order record;
    later catalog price changes never touch it.

    The ``ordered_*`` columns keep the order's terms as billing read them when it started (the
    order's plan, locked price and currency, and the local date of its activation: terms the
    lifecycle freezes once an order is activated). An account whose billed terms differ from
    them (``MISMATCH``) is one to correct; the comparison stays within the row, so a partial
    index holds exactly those accounts and the billing worklist reads them without scanning
    every account.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="billing_account")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="billing_accounts"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="billing_accounts")
    monthly_price = models.DecimalField(max_digits=8, decimal_places=2)
    currency = models.CharField(max_length=3)
    start_date = models.DateField()
    first_period_end = models.DateField(help_text="Last day of the first (prorated) period.")
    first_period_amount = models.DecimalField(max_digits=8, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    ordered_plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    ordered_monthly_price = models.DecimalField(max_digits=8, decimal_places=2)
    ordered_currency = models.CharField(max_length=3)
    ordered_activation_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Accounts started on a day, newest first (the worklist's "started today").
            models.Index(fields=["start_date", "created_at", "id"], name="billing_started_on_idx"),
            # The admin's list, by start date.
            models.Index(fields=["start_date", "id"], name="billing_start_date_idx"),
            # Only the accounts that disagree with their order (none, normally).
            models.Index(
                fields=["created_at", "id"],
                condition=MISMATCH,
                name="billing_mismatch_idx",
            ),
        ]
        permissions = [
            # The billing team's worklist (portal.worklists): support may view accounts
            # order by order, but not work the team's queue.
            ("work_billingaccount", "Can work the billing worklist"),
        ]

    def __str__(self) -> str:
        return f"Billing account {self.pk} ({self.order_id})"


class BillingWaiver(models.Model):
    """A privileged decision that an order's billing must not start (a goodwill free period, a
    line given by contract). billing.services.billing_waive_start records it; when the order is
    (or becomes) activated, it completes with no billing account."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="billing_waiver")
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Billing waived for {self.order_id}"


class BillingCharge(models.Model):
    """One delivered order item on its account: its recurring charge from the item's
    activation date (the first period prorated) and its one-time charge on the first bill,
    offering and prices as ordered."""

    account = models.ForeignKey(BillingAccount, on_delete=models.CASCADE, related_name="charges")
    item = models.OneToOneField(OrderItem, on_delete=models.PROTECT, related_name="billing_charge")
    offering = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    recurring_price = models.DecimalField(max_digits=8, decimal_places=2)
    one_time_price = models.DecimalField(max_digits=8, decimal_places=2)
    currency = models.CharField(max_length=3)
    start_date = models.DateField(help_text="The item's activation date.")
    first_period_end = models.DateField()
    first_period_amount = models.DecimalField(
        max_digits=8, decimal_places=2, help_text="The recurring charge, prorated."
    )

    class Meta:
        ordering = ["account", "item__position"]

    def __str__(self) -> str:
        return f"{self.account} {self.offering.name}"

    @property
    def first_bill_amount(self):  # type: ignore[no-untyped-def]
        return self.first_period_amount + self.one_time_price
