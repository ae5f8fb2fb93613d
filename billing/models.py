"""Billing accounts, started from a successful activation (DESIGN invariant 6)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from orders.models import Customer, Order, Plan


class BillingAccount(models.Model):
    """One per activated order. Plan, price and start date are copied from the order record;
    later catalog price changes never touch it."""

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

    class Meta:
        ordering = ["-created_at"]
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
