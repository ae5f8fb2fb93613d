"""What the periodic reconciliation found: one row per disagreement between two systems of
record, open from the run that first found it until a run no longer finds it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from orders.models import Order


class MismatchKind(models.TextChoices):
    """What disagrees with what. Staff words: the page lists them under these labels."""

    # Orders against billing accounts.
    ORDER_ACTIVE_WITHOUT_BILLING_ACCOUNT = (
        "order_active_without_billing_account",
        "Line live, no billing account",
    )
    BILLING_RUNNING_FOR_CANCELLED_ORDER = (
        "billing_running_for_cancelled_order",
        "Billing running for a cancelled or rejected order",
    )
    BILLING_TERMS_DIFFER_FROM_ORDER = (
        "billing_terms_differ_from_order",
        "Billed plan, price or start differ from the order",
    )
    # Provisioning tasks against the network.
    TASK_DONE_BUT_NETWORK_MISSING = (
        "task_done_but_network_missing",
        "Task done, the network does not hold what it made",
    )
    NETWORK_HAS_UNKNOWN_SUBSCRIBER = (
        "network_has_unknown_subscriber",
        "Subscriber on the network for no order we know",
    )
    NETWORK_HOLDS_FOR_CLOSED_ORDER = (
        "network_holds_for_closed_order",
        "Network still holds resources of a cancelled or rejected order",
    )
    NETWORK_HOLDS_FOR_TERMINATED_PRODUCT = (
        "network_holds_for_terminated_product",
        "Network still holds resources of a ceased product",
    )
    # The installed base against billing (and its orders).
    PRODUCT_LIVE_WITHOUT_CHARGE = "product_live_without_charge", "Product live, no charge running"
    CHARGE_RUNNING_FOR_TERMINATED_PRODUCT = (
        "charge_running_for_terminated_product",
        "Charge running for a ceased product",
    )
    PRODUCT_WITHOUT_ORDER = (
        "product_without_order",
        "Product whose order did not deliver it",
    )
    ORDER_DELIVERED_WITHOUT_PRODUCT = (
        "order_delivered_without_product",
        "Delivered item missing from the installed base",
    )
    # The installed base against RADIUS (reconciliation.checks_radius), when subscribers are there.
    RADIUS_SUBSCRIBER_MISSING = (
        "radius_subscriber_missing",
        "Line live, its subscriber missing from RADIUS",
    )
    RADIUS_WRONG_PLAN_GROUP = (
        "radius_wrong_plan_group",
        "Subscriber in another plan's RADIUS group",
    )
    RADIUS_BARRED_STATE_DIFFERS = (
        "radius_barred_state_differs",
        "RADIUS bars (or lets in) a subscriber against the line's status",
    )
    RADIUS_SESSION_FOR_INACTIVE_SUBSCRIBER = (
        "radius_session_for_inactive_subscriber",
        "Session open for a suspended or ceased subscriber",
    )


OPEN = Q(resolved_at__isnull=True)


class Mismatch(models.Model):
    """One disagreement found by reconciliation (reconciliation.checks), about one subject: an
    order, an account, a product, or what the network holds for one task of an order's item.

    At most one open row per (kind, subject): a run that finds it again moves ``last_seen_at``;
    a run that no longer finds it sets ``resolved_at``. A later recurrence is a new row."""

    kind = models.CharField(max_length=48, choices=MismatchKind.choices)
    subject = models.CharField(
        max_length=120, help_text="What disagrees: an order ID, an account, a product, a task."
    )
    order = models.ForeignKey(
        Order,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mismatches",
        help_text="The order concerned, where we have one (a subscriber may have none).",
    )
    product_ref = models.UUIDField(
        null=True, blank=True, help_text="The product of the installed base concerned, if any."
    )
    detail = models.TextField(help_text="What each system says, in words.")
    repair = models.TextField(
        blank=True,
        default="",
        help_text="What the last repair task did about it (reconciliation.repairs), if any.",
    )
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["first_seen_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject"], condition=OPEN, name="one_open_mismatch_per_subject"
            ),
        ]
        indexes = [
            # The open list, oldest first, whole or of one kind (the page, its CSV, the counts).
            models.Index(fields=["first_seen_at", "id"], condition=OPEN, name="mismatch_open_idx"),
            models.Index(
                fields=["kind", "first_seen_at", "id"],
                condition=OPEN,
                name="mismatch_open_kind_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
