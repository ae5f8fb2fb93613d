"""Billing for orders that change a live line (orders.changes), on the line's account: the
account of the order that delivered the line. From the change's date (the day its item was
done, which is the order's activation date):

- a plan change ends the line's charge the day before and starts one at the new plan's price,
  both periods prorated; the account moves to the new plan;
- a suspension, where suspended lines are not charged (``BILLING_SUSPENDED_LINES = "pause"``),
  ends the charges of the line and its add-ons the day before, and the resumption starts them
  again on its day (no one-time charge again); with ``"charge"`` (the default) the bill runs on;
- a cease ends the charges of the line and of each add-on on its day (the day is charged), with
  a prorated last period, and closes the account; an add-on taken off ends its charge alike.

The account's monthly total moves by what started less what ended, and so do the order terms
billing keeps on it (``ordered_*``): a change ordered is no mismatch. The order completes with
the figures in its reason, and its billing event says the same."""

from __future__ import annotations

import datetime
import logging
import uuid
from decimal import Decimal

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from billing.models import BillingAccount, BillingCharge
from billing.periods import first_period, last_period
from inventory.models import Product, ProductStatus
from orders import events as order_events
from orders import services as order_services
from orders.models import Order, OrderItem
from orders.states import ItemAction, ItemChange, ItemState

logger = logging.getLogger(__name__)

CHANGE_ACTIONS = (ItemAction.MODIFY, ItemAction.DELETE)
# BILLING_SUSPENDED_LINES values.
CHARGE_SUSPENDED = "charge"
PAUSE_SUSPENDED = "pause"
ZERO = Decimal("0.00")


def is_change(order: Order) -> bool:
    """The order changes a live line (a plan change, suspension, resumption, cease, an add-on
    taken off), as opposed to a new line or add-ons put on one."""
    return order.product_ref is not None and order.items.filter(action__in=CHANGE_ACTIONS).exists()


def line_account(product_id: uuid.UUID, *, lock: bool = False) -> BillingAccount | None:
    """The billing account of the live line ``product_id``: its delivering order's."""
    line = Product.objects.filter(pk=product_id).only("order_id").first()
    if line is None:
        return None
    accounts = BillingAccount.objects.filter(order_id=line.order_id)
    return (accounts.select_for_update() if lock else accounts).first()


def billing_change_apply(order: Order, items: list[OrderItem]) -> BillingAccount | None:
    """Apply the activated change order ``order`` (locked, in the caller's transaction) to its
    line's bill and complete the order. The caller has checked that billing has not run for it
    (the order is still activated), so each charge is ended or started once."""
    assert order.product_ref is not None and order.activation_date is not None
    changes = [item for item in items if item.action in CHANGE_ACTIONS]
    done = [item for item in changes if item.state == ItemState.COMPLETED]
    not_done = len(changes) - len(done)
    account = line_account(order.product_ref, lock=True)
    if account is None:
        order_services.order_complete(
            order,
            reason=f"Line {order.product_ref} has no billing account (its billing was waived): "
            "nothing to change on a bill.",
            partial=not_done > 0,
        )
        return None
    change = _BillChange(account)
    for item in done:
        day = timezone.localdate(item.completed_at) if item.completed_at else order.activation_date
        if item.action == ItemAction.DELETE:
            change.cease(item, day=day)
        elif item.change == ItemChange.PLAN:
            change.plan(item, day=day)
        elif item.change == ItemChange.SUSPEND:
            change.suspend(item, day=day)
        elif item.change == ItemChange.RESUME:
            change.resume(item, day=day)
    line_ceased = any(
        item.action == ItemAction.DELETE and item.product_ref == order.product_ref for item in done
    )
    summary = change.save(close=line_ceased)
    reason = (
        f"Billing account {account.pk} (order {account.order_id}) changed from "
        f"{order.activation_date.isoformat()}: {summary}"
        + (f" {not_done} item(s) not done, not billed." if not_done else "")
    )
    order_events.billing_started(
        order=order,
        account_id=account.pk,
        start_date=order.activation_date.isoformat(),
        reason=reason,
    )
    order_services.order_complete(order, reason=reason, partial=not_done > 0)
    logger.info("order %s: billing account %s changed", order.pk, account.pk)
    return account


class _BillChange:
    """What one change order does to an account: the charges it ends and starts, and the
    sentences that say so."""

    def __init__(self, account: BillingAccount) -> None:
        self.account = account
        self.currency = account.currency
        self.delta = ZERO
        self.notes: list[str] = []

    def plan(self, item: OrderItem, *, day: datetime.date) -> None:
        self.notes.append("plan change:")
        for charge in self._running(item.product_ref):
            self._end(charge, last_day=day - datetime.timedelta(days=1), on=day, by=item)
        started = self._start(
            BillingCharge(
                item=item,
                offering=item.offering,
                recurring_price=item.recurring_price,
                one_time_price=item.one_time_price,
                currency=item.currency,
            ),
            day=day,
            by=item,
        )
        self.account.plan = self.account.ordered_plan = started.offering

    def suspend(self, item: OrderItem, *, day: datetime.date) -> None:
        if settings.BILLING_SUSPENDED_LINES != PAUSE_SUSPENDED:
            self.notes.append("suspended; the line is charged while suspended;")
            return
        self.notes.append("suspended, not charged while suspended:")
        ended = 0
        for product_id in self._line_and_add_ons(item.product_ref):
            for charge in self._running(product_id):
                self._end(charge, last_day=day - datetime.timedelta(days=1), on=day, by=item)
                ended += 1
        if not ended:
            self.notes.append("nothing was being charged;")

    def resume(self, item: OrderItem, *, day: datetime.date) -> None:
        suspension = (
            OrderItem.objects.filter(
                product_ref=item.product_ref,
                action=ItemAction.MODIFY,
                change=ItemChange.SUSPEND,
                state=ItemState.COMPLETED,
            )
            .exclude(order_id=item.order_id)
            .order_by("-completed_at", "-pk")
            .first()
        )
        paused = (
            list(
                self.account.charges.filter(ended_by=suspension).select_related("item", "offering")
            )
            if suspension is not None
            else []
        )
        ceased = self._ceased(paused)
        self.notes.append("resumed:")
        restarted = 0
        for charge in paused:
            if charge.pk in ceased:
                continue
            self._start(
                BillingCharge(
                    item=charge.item,
                    offering=charge.offering,
                    recurring_price=charge.recurring_price,
                    one_time_price=ZERO,  # charged once, on the first bill
                    currency=charge.currency,
                ),
                day=day,
                by=item,
            )
            restarted += 1
        if not restarted:
            self.notes.append("nothing was paused, the charges ran on;")

    def cease(self, item: OrderItem, *, day: datetime.date) -> None:
        if "ceased:" not in self.notes:
            self.notes.append("ceased:")
        for charge in self._running(item.product_ref):
            self._end(charge, last_day=day, on=day, by=item)

    def save(self, *, close: bool) -> str:
        account = self.account
        account.monthly_price += self.delta
        account.ordered_monthly_price += self.delta
        fields = ["monthly_price", "ordered_monthly_price", "plan", "ordered_plan"]
        if close:
            account.status = BillingAccount.Status.CLOSED
            fields.append("status")
        account.save(update_fields=fields)
        sign = "+" if self.delta >= 0 else "-"
        total = f"{account.monthly_price} {self.currency}/month in all " + (
            f"({sign}{abs(self.delta)} {self.currency})" if self.delta else "(unchanged)"
        )
        return " ".join(
            [
                *self.notes,
                total + ("; the account is closed." if close else "."),
            ]
        )

    def _running(self, product_id: uuid.UUID | None) -> list[BillingCharge]:
        """The product's running charges on the account: from the item that delivered it,
        or from a change to it (a plan change, a resumption)."""
        if product_id is None:
            return []
        product = Product.objects.filter(pk=product_id).only("order_item_id").first()
        billed = Q(item__product_ref=product_id)
        if product is not None:
            billed |= Q(item_id=product.order_item_id)
        return list(
            self.account.charges.filter(billed, end_date__isnull=True)
            .select_related("offering")
            .order_by("start_date", "pk")
        )

    def _line_and_add_ons(self, line_id: uuid.UUID | None) -> list[uuid.UUID]:
        if line_id is None:
            return []
        add_ons = (
            Product.objects.filter(parent_id=line_id)
            .exclude(status=ProductStatus.TERMINATED)
            .order_by("order_item__order__submitted_at", "order_item__position")
        )
        return [line_id, *add_ons.values_list("pk", flat=True)]

    def _ceased(self, charges: list[BillingCharge]) -> set[int]:
        """Of these charges, those whose product is terminated (an add-on taken off while the
        line was suspended): not started again."""
        by_item = {charge.item_id: charge.pk for charge in charges}
        by_ref = {
            charge.item.product_ref: charge.pk for charge in charges if charge.item.product_ref
        }
        gone = Product.objects.filter(status=ProductStatus.TERMINATED).filter(
            Q(order_item_id__in=list(by_item)) | Q(pk__in=list(by_ref))
        )
        found = set()
        for pk, order_item_id in gone.values_list("pk", "order_item_id"):
            found.add(by_item.get(order_item_id) or by_ref.get(pk))
        return {pk for pk in found if pk is not None}

    def _end(
        self, charge: BillingCharge, *, last_day: datetime.date, on: datetime.date, by: OrderItem
    ) -> None:
        _, amount = last_period(last_day, charge.recurring_price, start=charge.start_date)
        charge.end_date = last_day
        charge.ended_by = by
        charge.last_period_amount = amount
        charge.changed_on = on
        charge.save(update_fields=["end_date", "ended_by", "last_period_amount", "changed_on"])
        self.delta -= charge.recurring_price
        self.notes.append(
            f"{charge.offering.name} at {charge.recurring_price} {self.currency}/month ends "
            f"{last_day.isoformat()}, last period {amount} {self.currency};"
        )

    def _start(self, charge: BillingCharge, *, day: datetime.date, by: OrderItem) -> BillingCharge:
        end, amount = first_period(day, charge.recurring_price)
        charge.account = self.account
        charge.start_date = day
        charge.first_period_end = end
        charge.first_period_amount = amount
        charge.started_by = by
        charge.changed_on = day
        charge.save()
        self.delta += charge.recurring_price
        self.notes.append(
            f"{charge.offering.name} at {charge.recurring_price} {self.currency}/month starts "
            f"{day.isoformat()}, first period to {end.isoformat()}: {amount} {self.currency};"
        )
        return charge
