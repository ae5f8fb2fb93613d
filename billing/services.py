"""Starting the bill. Idempotent: an order gets exactly one billing account, or, for add-ons on
a live line, its charges on that line's account; a change to a live line changes that line's
charges once (billing.changes)."""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from billing import changes
from billing.models import BillingAccount, BillingCharge, BillingWaiver
from billing.periods import first_period as first_period  # callers import it from here
from orders import events as order_events
from orders import overrides
from orders import services as order_services
from orders.models import Order, OrderItem
from orders.states import FINAL_STATES, EventSource, ItemAction, ItemState, OrderStatus
from orders.system_actors import audit_actor

logger = logging.getLogger(__name__)
START_BILLING_TASK = "billing.start_billing"


def billing_account_start(order_id: str) -> BillingAccount | None:
    """Open the billing account for an activated order and complete the order.

    Billing starts per delivered item: each item's recurring charge from its own activation
    date (the first period prorated), its one-time charge on the first bill, offering and
    prices as ordered (BillingCharge). Items not delivered (cancelled) are not billed and the
    order completes as partial. The account keeps the line's plan, the start date (the line's
    activation) and the monthly total of what is billed. Does nothing for an order that is not
    activated; returns the existing account if billing already started. An order changing a
    live line changes that line's account instead (billing.changes.billing_change_apply)."""
    with transaction.atomic():
        order = order_services.order_lock(order_id)
        existing = BillingAccount.objects.filter(order_id=order.pk).first()
        if existing is not None:
            return existing
        change = changes.is_change(order)
        if change and order.status == OrderStatus.COMPLETED:  # the line's bill changed already
            assert order.product_ref is not None
            return changes.line_account(order.product_ref)
        charged = BillingCharge.objects.filter(item__order_id=order.pk).first()
        if charged is not None:  # add-ons billed on their line's account already
            return charged.account
        if order.status != OrderStatus.ACTIVATED or order.activation_date is None:
            logger.warning("billing not started for %s: order is %s", order.pk, order.status)
            return None
        waiver = BillingWaiver.objects.filter(order_id=order.pk).select_related("waived_by").first()
        if waiver is not None:
            _complete_without_billing(order, waiver)
            return None
        all_items = list(order.items.select_related("offering").order_by("position"))
        if change:
            return changes.billing_change_apply(order, all_items)
        # What the order delivers, less what an amendment took off (not owed, not partial).
        items = [i for i in all_items if i.delivers and i.state != ItemState.REMOVED]
        delivered = [item for item in items if item.state == ItemState.COMPLETED]
        start = order.activation_date
        charges = [_charge(item, default_start=start) for item in delivered]
        line_account = _live_line_account(all_items)
        if line_account is not None:
            return _add_to_account(
                order, line_account, charges, not_delivered=len(items) - len(delivered)
            )
        monthly = sum((charge.recurring_price for charge in charges), Decimal("0.00"))
        account = BillingAccount.objects.create(
            order=order,
            customer=order.customer,
            plan=order.plan,
            monthly_price=monthly,
            currency=order.currency,
            start_date=start,
            first_period_end=first_period(start, monthly)[0],
            # Each item prorated from its own activation date, summed.
            first_period_amount=sum(
                (charge.first_period_amount for charge in charges), Decimal("0.00")
            ),
            ordered_plan=order.plan,
            ordered_monthly_price=sum(
                (item.recurring_price for item in delivered), Decimal("0.00")
            ),
            ordered_currency=order.currency,
            ordered_activation_date=start,
        )
        for charge in charges:
            charge.account = account
        BillingCharge.objects.bulk_create(charges)
        order_events.billing_started(
            order=order, account_id=account.pk, start_date=start.isoformat()
        )
        once = sum((charge.one_time_price for charge in charges), Decimal("0.00"))
        partial = len(delivered) < len(items)
        order_services.order_complete(
            order,
            reason=f"Billing account {account.pk} started {start.isoformat()} at "
            f"{monthly} {order.currency}/month"
            + (f" plus {once} {order.currency} one-time on the first bill" if once else "")
            + (
                f"; {len(items) - len(delivered)} item(s) not delivered, not billed."
                if partial
                else "."
            ),
            partial=partial,
        )
        return account


def billing_account_import(order: Order) -> BillingAccount:
    """The billing account of a live service brought in from the legacy system (imports),
    already billed there: the account and its charges as they stand, from the line's
    (historical) activation date at its price as ordered, so that later changes to the line
    (a plan change, a cease) find its bill. Nothing starts: no 'billing started' event, no
    completion (the import closed the order), no charge run. Idempotent: an order's existing
    account is returned as it is. Call in the import's transaction."""
    existing = BillingAccount.objects.filter(order_id=order.pk).first()
    if existing is not None:
        return existing
    start = order.activation_date
    if order.status != OrderStatus.COMPLETED or start is None:
        raise ValueError(f"order {order.pk} is not a completed, activated order")
    delivered = [
        item
        for item in order.items.select_related("offering").order_by("position")
        if item.delivers and item.state == ItemState.COMPLETED
    ]
    charges = [_charge(item, default_start=start) for item in delivered]
    monthly = sum((charge.recurring_price for charge in charges), Decimal("0.00"))
    account = BillingAccount.objects.create(
        order=order,
        customer_id=order.customer_id,
        plan_id=order.plan_id,
        monthly_price=monthly,
        currency=order.currency,
        start_date=start,
        first_period_end=first_period(start, monthly)[0],
        first_period_amount=sum(
            (charge.first_period_amount for charge in charges), Decimal("0.00")
        ),
        ordered_plan_id=order.plan_id,
        ordered_monthly_price=monthly,
        ordered_currency=order.currency,
        ordered_activation_date=start,
    )
    for charge in charges:
        charge.account = account
    BillingCharge.objects.bulk_create(charges)
    return account


def _live_line_account(items: list[OrderItem]) -> BillingAccount | None:
    """The billing account of the live line the order's add-ons went on, if the line is
    billed: add-ons are charged on their line's bill."""
    refs = [item.product_ref for item in items if not item.delivers and item.product_ref]
    return changes.line_account(refs[0], lock=True) if refs else None


def _add_to_account(
    order: Order, account: BillingAccount, charges: list[BillingCharge], *, not_delivered: int
) -> BillingAccount:
    """Bill an add-on order's delivered items on their line's account: each charge from its own
    activation date, the account's monthly total raised by theirs, and the order completed."""
    for charge in charges:
        charge.account = account
    BillingCharge.objects.bulk_create(charges)
    added = sum((charge.recurring_price for charge in charges), Decimal("0.00"))
    once = sum((charge.one_time_price for charge in charges), Decimal("0.00"))
    account.monthly_price += added
    # The add-ons are ordered terms too: an account that bills them is no mismatch.
    account.ordered_monthly_price += added
    account.save(update_fields=["monthly_price", "ordered_monthly_price"])
    start = order.activation_date
    assert start is not None
    order_events.billing_started(order=order, account_id=account.pk, start_date=start.isoformat())
    order_services.order_complete(
        order,
        reason=f"Added to billing account {account.pk} (order {account.order_id}) from "
        f"{start.isoformat()}: {added} {order.currency}/month more, "
        f"{account.monthly_price} {order.currency}/month in all"
        + (f", plus {once} {order.currency} one-time on the next bill" if once else "")
        + (f"; {not_delivered} item(s) not delivered, not billed." if not_delivered else "."),
        partial=not_delivered > 0,
    )
    return account


def _charge(item: OrderItem, *, default_start: datetime.date) -> BillingCharge:
    """An item's charges as ordered, from its own activation date."""
    start = timezone.localdate(item.completed_at) if item.completed_at else default_start
    end, amount = first_period(start, item.recurring_price)
    return BillingCharge(
        item=item,
        offering=item.offering,
        recurring_price=item.recurring_price,
        one_time_price=item.one_time_price,
        currency=item.currency,
        start_date=start,
        first_period_end=end,
        first_period_amount=amount,
    )


def _complete_without_billing(order: Order, waiver: BillingWaiver) -> None:
    who = waiver.waived_by.get_username() if waiver.waived_by else "a person no longer here"
    ordered = order.items.filter(action=ItemAction.ADD).exclude(state=ItemState.REMOVED)
    delivered = ordered.filter(state=ItemState.COMPLETED).count()
    order_services.order_complete(
        order,
        actor=waiver.waived_by,
        source=EventSource.BILLING,
        reason=f"Activated; billing waived by {who}: {waiver.reason} No billing account.",
        partial=delivered < ordered.count(),
    )


def billing_waive_start(
    order: Order | str,
    *,
    actor: User,
    reason: str,
    expected_version: int | None = None,
) -> BillingWaiver:
    """An override (orders.overrides rules: privileged role, mandatory reason, the version the
    person saw): this order's billing must not start. Any open order whose bill has not started
    may be waived; an activated one completes now, one not yet activated completes without a
    bill when it is, and the billing worker never opens its account. Refused once an account
    exists (close the account instead) or when the order is closed."""
    reason = overrides.override_check(actor, reason)
    with audit_actor(actor), transaction.atomic():
        locked = overrides.order_lock_for_override(order, expected_version=expected_version)
        account = BillingAccount.objects.filter(order_id=locked.pk).first()
        if account is not None:
            raise order_services.OrderConflict(
                f"Billing for order {locked.display_id} already started on "
                f"{account.start_date:%-d %B %Y} (account {account.pk}); it can no longer be "
                "waived."
            )
        if locked.status in FINAL_STATES:
            raise order_services.OrderConflict(
                f"Order {locked.display_id} is {locked.get_status_display().lower()}; there is "
                "no billing start to waive."
            )
        if BillingWaiver.objects.filter(order_id=locked.pk).exists():
            raise order_services.OrderConflict(
                f"Billing for order {locked.display_id} is already waived."
            )
        waiver = BillingWaiver.objects.create(order=locked, waived_by=actor, reason=reason)
        with overrides.override_audit_note(locked, override="waive_billing", reason=reason):
            locked.version += 1
            locked.save(update_fields=["version", "updated_at"])
            order_events.billing_waived(
                order=locked, actor=actor, source=EventSource.ADMIN, reason=reason
            )
            if locked.status == OrderStatus.ACTIVATED:
                _complete_without_billing(locked, waiver)
    logger.info("billing waived for order %s by %s", locked.pk, actor)
    return waiver
