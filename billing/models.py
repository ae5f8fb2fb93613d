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
    """One period of an item's recurring charge on its account, offering and prices as ordered:
    from ``start_date`` (the first period prorated) until ``end_date`` (null while it runs),
    the last period prorated (``last_period_amount``), and its one-time charge on the first bill.

    A delivered item has its charge from its activation date. A change to the live line ends
    and starts charges (billing.changes): a plan change ends the old plan's charge the day
    before and starts one for the plan change's item; a cease or an add-on taken off ends the
    product's charge on the day; a suspension, where suspended lines are not charged
    (``BILLING_SUSPENDED_LINES = "pause"``), ends the line's charges and the resumption starts
    them again (``started_by`` the resumption's item, the item billed the same)."""

    account = models.ForeignKey(BillingAccount, on_delete=models.CASCADE, related_name="charges")
    item = models.ForeignKey(
        OrderItem,
        on_delete=models.PROTECT,
        related_name="billing_charges",
        help_text="The order item billed: the one that delivered the product, or a plan change.",
    )
    offering = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    recurring_price = models.DecimalField(max_digits=8, decimal_places=2)
    one_time_price = models.DecimalField(max_digits=8, decimal_places=2)
    currency = models.CharField(max_length=3)
    start_date = models.DateField(help_text="The item's activation date.")
    first_period_end = models.DateField()
    first_period_amount = models.DecimalField(
        max_digits=8, decimal_places=2, help_text="The recurring charge, prorated."
    )
    started_by = models.ForeignKey(
        OrderItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The change that started this charge (a plan change, a resumption).",
    )
    end_date = models.DateField(
        null=True, blank=True, help_text="The last day charged; empty while the charge runs."
    )
    ended_by = models.ForeignKey(
        OrderItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The change that ended this charge (a plan change, suspension, cease).",
    )
    last_period_amount = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The recurring charge for the month it ends in, to its end date, prorated.",
    )
    changed_on = models.DateField(
        null=True,
        blank=True,
        help_text="The date of the change to the line that last started or ended this charge.",
    )

    class Meta:
        ordering = ["account", "start_date", "item__position", "id"]
        indexes = [
            # The charges changes to live lines started or ended on a day (the billing
            # worklist's "charges changed today"), newest first.
            models.Index(
                fields=["changed_on", "id"],
                condition=models.Q(changed_on__isnull=False),
                name="billing_charge_changed_idx",
            ),
        ]
        constraints = [
            # An item is billed once from its delivery, and once per change that restarts it.
            models.UniqueConstraint(
                fields=["item"],
                condition=models.Q(started_by__isnull=True),
                name="billing_charge_one_per_item",
            ),
            models.UniqueConstraint(
                fields=["item", "started_by"],
                condition=models.Q(started_by__isnull=False),
                name="billing_charge_one_per_item_and_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.offering.name}"

    @property
    def first_bill_amount(self):  # type: ignore[no-untyped-def]
        return self.first_period_amount + self.one_time_price
