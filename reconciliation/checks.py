"""The checks: one function per pair of systems that must agree, each yielding a Finding for
every disagreement it sees. Read-only; reconciliation.services records what they find.

Every check walks its population in chunks paged by an index (orders by status and the time
they entered it, products by status and creation, accounts by the billing mismatch index,
the network's holdings by their key), and compares each chunk with the other system in a few
queries by primary or foreign key: the cost per chunk is the same at a thousand orders and at
a million, and memory holds one chunk.

Nothing that changed within the grace period (``RECONCILIATION_GRACE_MINUTES``) is a mismatch
yet: an order (or a product, or a change to it) still moving, such as an activated order whose
bill starts a second later, would otherwise be reported while the systems catch up. A product
with a change in flight (an open order about it) is left alone for the same reason.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from billing.models import MISMATCH, BillingAccount, BillingCharge, BillingWaiver
from inventory.models import Product, ProductStatus
from orders.fulfilment import TaskMode, TaskType
from orders.models import Order, OrderItem
from orders.paging import keyset_page
from orders.states import OPEN_STATES, EventSource, ItemAction, ItemState, OrderStatus
from provisioning.adapters import NetworkAdapter, NetworkHolding
from provisioning.models import FulfilmentTask, TaskState
from reconciliation.checks_radius import RADIUS_CHECKS
from reconciliation.models import MismatchKind

CHUNK = 500

# Orders whose line is live on the network (new lines and add-ons) and must be billed.
LIVE_STATES = (OrderStatus.ACTIVATED, OrderStatus.COMPLETED, OrderStatus.PARTIAL)
DELIVERED_STATES = (OrderStatus.COMPLETED, OrderStatus.PARTIAL)
CLOSED_STATES = (OrderStatus.CANCELLED, OrderStatus.REJECTED)
# Orders still being worked: a product they are about may change under the check.
IN_FLIGHT = sorted(OPEN_STATES | {OrderStatus.CANCELLING})


@dataclass(frozen=True)
class Finding:
    """One disagreement: its kind, the subject it is about (unique per kind while open), what
    each system says, and the order and product concerned where there is one."""

    kind: MismatchKind
    subject: str
    detail: str
    order_id: str | None = None
    product_ref: uuid.UUID | None = None


@dataclass(frozen=True)
class CheckContext:
    """What every check is given: the time before which a change counts as settled (now less
    the grace period), the network adapter to ask, and the chunk size."""

    settled_before: datetime.datetime
    adapter: NetworkAdapter
    chunk: int = CHUNK


Check = Callable[[CheckContext], Iterator[Finding]]


def chunks(queryset: QuerySet[Any], *, size: int) -> Iterator[list[Any]]:
    """``queryset`` (ordered by plain fields ending in a unique one) as lists of at most
    ``size`` rows, each one keyset page: one query per chunk, an index range each."""
    after: str | None = None
    while True:
        page = keyset_page(queryset, limit=size, after=after)
        if page.items:
            yield page.items
        if page.next_cursor is None:
            return
        after = page.next_cursor


def _when(moment: datetime.datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "an unknown time"


def _settled_orders(
    ctx: CheckContext, statuses: Iterable[str], **filters: Any
) -> Iterator[list[Order]]:
    """Orders in ``statuses`` that have not changed within the grace period, in chunks: per
    status, by the time they entered it (order_status_since_idx). Orders brought in by the
    migration import are another system's history (a past order closed there has no bill or
    product here by design); their live products are checked like any by the product checks."""
    for status in statuses:
        queryset = (
            Order.objects.filter(
                status=status,
                status_changed_at__lte=ctx.settled_before,
                updated_at__lte=ctx.settled_before,
                **filters,
            )
            .exclude(channel=EventSource.MIGRATION)
            .only("id", "status", "status_changed_at", "updated_at", "customer_id")
            .order_by("status_changed_at", "pk")
        )
        yield from chunks(queryset, size=ctx.chunk)


def _products(ctx: CheckContext, statuses: Sequence[str] | None = None) -> Iterator[list[Product]]:
    """Products (of ``statuses``, else all), with their order and item, in chunks by their
    creation (product_status_idx, product_created_idx)."""
    base = Product.objects.select_related("order", "order_item").order_by("created_at", "pk")
    if statuses is None:
        yield from chunks(base, size=ctx.chunk)
        return
    for status in statuses:
        yield from chunks(base.filter(status=status), size=ctx.chunk)


def _settled_products(ctx: CheckContext, products: list[Product]) -> list[Product]:
    """``products`` less those that changed within the grace period, whose order did, or that
    an order still in flight (or changed within the grace period) is about."""
    cutoff = ctx.settled_before
    fresh = [p for p in products if p.updated_at > cutoff or p.order.updated_at > cutoff]
    moving = set(
        OrderItem.objects.filter(product_ref__in=[p.pk for p in products])
        .filter(Q(order__status__in=IN_FLIGHT) | Q(order__updated_at__gt=cutoff))
        .values_list("product_ref", flat=True)
    )
    skip = {p.pk for p in fresh} | moving
    return [p for p in products if p.pk not in skip]


def _running_charges(products: list[Product]) -> dict[uuid.UUID, list[BillingCharge]]:
    """The charges running (no end date) for each of ``products``: on the item that delivered
    it, or on a change's item about it (a plan change bills the line on the change's item)."""
    by_item = {p.order_item_id: p.pk for p in products}
    for item_pk, product_ref in OrderItem.objects.filter(
        product_ref__in=[p.pk for p in products]
    ).values_list("pk", "product_ref"):
        if product_ref is not None:
            by_item[item_pk] = product_ref
    running: dict[uuid.UUID, list[BillingCharge]] = defaultdict(list)
    for charge in BillingCharge.objects.filter(
        item_id__in=list(by_item), end_date__isnull=True
    ).only("pk", "item_id", "account_id", "start_date", "recurring_price", "currency"):
        running[by_item[charge.item_id]].append(charge)
    return running


def _held_by_order(
    adapter: NetworkAdapter, order_ids: Iterable[str]
) -> dict[str, list[NetworkHolding]]:
    held: dict[str, list[NetworkHolding]] = defaultdict(list)
    for holding in adapter.lookup(sorted(set(order_ids))):
        held[holding.order_id].append(holding)
    return held


def _held_list(holdings: Iterable[NetworkHolding]) -> str:
    return ", ".join(
        f"{TaskType(h.task_type).label.lower() if h.task_type in TaskType.values else h.task_type}"
        f" of item {h.item_id}" + (f" ({h.reference})" if h.reference else "")
        for h in holdings
    )


# --- orders against billing accounts -----------------------------------------------------------
def order_active_without_billing_account(ctx: CheckContext) -> Iterator[Finding]:
    """A new line live on the network (activated, completed, partly completed) with no billing
    account, no charge on another account and no waiver: a service given for nothing."""
    for chunk in _settled_orders(ctx, LIVE_STATES, product_ref__isnull=True):
        ids = [order.pk for order in chunk]
        billed = set(
            BillingAccount.objects.filter(order_id__in=ids).values_list("order_id", flat=True)
        )
        billed |= set(
            BillingWaiver.objects.filter(order_id__in=ids).values_list("order_id", flat=True)
        )
        billed |= set(
            BillingCharge.objects.filter(item__order_id__in=ids).values_list(
                "item__order_id", flat=True
            )
        )
        for order in chunk:
            if order.pk in billed:
                continue
            yield Finding(
                kind=MismatchKind.ORDER_ACTIVE_WITHOUT_BILLING_ACCOUNT,
                subject=order.pk,
                order_id=order.pk,
                detail=f"Order {order.display_id} is {order.get_status_display().lower()} since "
                f"{_when(order.status_changed_at)}; billing has no account or charge for it and "
                "it was not waived.",
            )


def billing_running_for_cancelled_order(ctx: CheckContext) -> Iterator[Finding]:
    """A cancelled or rejected order with an active billing account or a charge still running:
    a bill for a service never delivered."""
    for chunk in _settled_orders(ctx, CLOSED_STATES):
        ids = [order.pk for order in chunk]
        accounts = dict(
            BillingAccount.objects.filter(
                order_id__in=ids, status=BillingAccount.Status.ACTIVE
            ).values_list("order_id", "pk")
        )
        charges: dict[str, int] = defaultdict(int)
        for order_pk in BillingCharge.objects.filter(
            item__order_id__in=ids, end_date__isnull=True
        ).values_list("item__order_id", flat=True):
            charges[order_pk] += 1
        for order in chunk:
            if order.pk not in accounts and order.pk not in charges:
                continue
            said = []
            if order.pk in accounts:
                said.append(f"billing account {accounts[order.pk]} is active")
            if order.pk in charges:
                said.append(f"{charges[order.pk]} charge(s) on its items still running")
            yield Finding(
                kind=MismatchKind.BILLING_RUNNING_FOR_CANCELLED_ORDER,
                subject=order.pk,
                order_id=order.pk,
                detail=f"Order {order.display_id} is {order.get_status_display().lower()} since "
                f"{_when(order.status_changed_at)}, but " + " and ".join(said) + ".",
            )


def billing_terms_differ_from_order(ctx: CheckContext) -> Iterator[Finding]:
    """An account whose plan, monthly price, currency or start date differ from the order's
    terms as billing read them (``billing.models.MISMATCH``, read through its partial index)."""
    queryset = (
        BillingAccount.objects.filter(MISMATCH)
        .select_related("order", "plan", "ordered_plan")
        .order_by("created_at", "pk")
    )
    for chunk in chunks(queryset, size=ctx.chunk):
        for account in chunk:
            if account.order.updated_at > ctx.settled_before:
                continue
            differences = []
            if account.plan_id != account.ordered_plan_id:
                differences.append(
                    f"plan {account.plan.name} billed, {account.ordered_plan.name} ordered"
                )
            if (
                account.monthly_price != account.ordered_monthly_price
                or account.currency != account.ordered_currency
            ):
                differences.append(
                    f"{account.monthly_price} {account.currency}/month billed, "
                    f"{account.ordered_monthly_price} {account.ordered_currency} ordered"
                )
            if account.start_date != account.ordered_activation_date:
                activated = account.ordered_activation_date or "never"
                differences.append(f"billing starts {account.start_date}, activated {activated}")
            yield Finding(
                kind=MismatchKind.BILLING_TERMS_DIFFER_FROM_ORDER,
                subject=f"account:{account.pk}",
                order_id=account.order_id,
                detail=f"Billing account {account.pk} of order {account.order.display_id}: "
                + "; ".join(differences)
                + ".",
            )


# --- provisioning tasks against the network --------------------------------------------------
def task_done_but_network_missing(ctx: CheckContext) -> Iterator[Finding]:
    """A live (or suspended) product whose delivering order's automatic tasks are done, not
    undone, yet the network holds nothing for one of them: the line is in the books and not
    on the network. Manual tasks are left out: a person did them outside the adapter, which
    cannot vouch for them."""
    for chunk in _products(ctx, (ProductStatus.ACTIVE, ProductStatus.SUSPENDED)):
        products = _settled_products(ctx, chunk)
        if not products:
            continue
        by_item = {p.order_item_id: p for p in products}
        tasks = list(
            FulfilmentTask.objects.filter(
                item_id__in=list(by_item),
                state=TaskState.DONE,
                undo=False,
                mode=TaskMode.AUTOMATIC,
            ).only("pk", "order_id", "item_id", "task_type", "finished_at")
        )
        undone = set(
            FulfilmentTask.objects.filter(
                undoes_id__in=[t.pk for t in tasks], state=TaskState.DONE
            ).values_list("undoes_id", flat=True)
        )
        held = {h.key for h in ctx.adapter.lookup(sorted({p.order_id for p in products}))}
        for task in tasks:
            if task.pk in undone:
                continue
            product = by_item[task.item_id]
            item_id = product.order_item.item_id
            if (task.order_id, item_id, task.task_type) in held:
                continue
            yield Finding(
                kind=MismatchKind.TASK_DONE_BUT_NETWORK_MISSING,
                subject=f"{task.order_id}:{item_id}:{task.task_type}",
                order_id=task.order_id,
                product_ref=product.pk,
                detail=f"{task.get_task_type_display()} of item {item_id} was done "
                f"{_when(task.finished_at)} for {product.name} "
                f"({product.get_status_display().lower()}), but the network holds nothing "
                "for it.",
            )


def network_has_unknown_subscriber(ctx: CheckContext) -> Iterator[Finding]:
    """A subscriber the network holds for an order ID no order of ours has: a line someone set
    up outside the system, or whose order was lost."""
    after: tuple[str, str, str] | None = None
    while True:
        page = ctx.adapter.holdings(
            task_type=TaskType.CREATE_SUBSCRIBER, after=after, limit=ctx.chunk
        )
        if not page:
            return
        known = set(
            Order.objects.filter(pk__in={h.order_id for h in page}).values_list("pk", flat=True)
        )
        for holding in page:
            if holding.order_id in known:
                continue
            if holding.since is not None and holding.since > ctx.settled_before:
                continue
            name = holding.identifiers.get("subscriber") or holding.reference or "(unnamed)"
            yield Finding(
                kind=MismatchKind.NETWORK_HAS_UNKNOWN_SUBSCRIBER,
                subject=f"{holding.order_id}:{holding.item_id}",
                detail=f"The network holds subscriber {name} since {_when(holding.since)} for "
                f"order ID {holding.order_id} (item {holding.item_id}), which no order has.",
            )
        if len(page) < ctx.chunk:
            return
        after = page[-1].key


def network_holds_for_closed_order(ctx: CheckContext) -> Iterator[Finding]:
    """A cancelled or rejected order for which the network still holds something (a port, a
    subscriber, an address): its compensation left it behind."""
    for chunk in _settled_orders(ctx, CLOSED_STATES):
        held = _held_by_order(ctx.adapter, [order.pk for order in chunk])
        for order in chunk:
            if not held.get(order.pk):
                continue
            yield Finding(
                kind=MismatchKind.NETWORK_HOLDS_FOR_CLOSED_ORDER,
                subject=order.pk,
                order_id=order.pk,
                detail=f"Order {order.display_id} is {order.get_status_display().lower()} since "
                f"{_when(order.status_changed_at)}, but the network still holds: "
                f"{_held_list(held[order.pk])}.",
            )


def network_holds_for_terminated_product(ctx: CheckContext) -> Iterator[Finding]:
    """A ceased product for which the network still holds what its order made: the cease did
    not take it all down."""
    for chunk in _products(ctx, (ProductStatus.TERMINATED,)):
        products = _settled_products(ctx, chunk)
        if not products:
            continue
        held = _held_by_order(ctx.adapter, [p.order_id for p in products])
        for product in products:
            item_id = product.order_item.item_id
            left = [h for h in held.get(product.order_id, []) if h.item_id == item_id]
            if not left:
                continue
            yield Finding(
                kind=MismatchKind.NETWORK_HOLDS_FOR_TERMINATED_PRODUCT,
                subject=str(product.pk),
                order_id=product.order_id,
                product_ref=product.pk,
                detail=f"{product.name} was ceased {_when(product.termination_date)}, but the "
                f"network still holds: {_held_list(left)}.",
            )


# --- the installed base against billing -------------------------------------------------------
def product_live_without_charge(ctx: CheckContext) -> Iterator[Finding]:
    """An active product with no charge running for it, whose order's billing was not waived:
    the customer has a service that is not on their bill."""
    for chunk in _products(ctx, (ProductStatus.ACTIVE,)):
        products = _settled_products(ctx, chunk)
        if not products:
            continue
        waived = set(
            BillingWaiver.objects.filter(order_id__in={p.order_id for p in products}).values_list(
                "order_id", flat=True
            )
        )
        running = _running_charges(products)
        for product in products:
            if product.order_id in waived or running.get(product.pk):
                continue
            yield Finding(
                kind=MismatchKind.PRODUCT_LIVE_WITHOUT_CHARGE,
                subject=str(product.pk),
                order_id=product.order_id,
                product_ref=product.pk,
                detail=f"{product.name} ({product.recurring_price} {product.currency}/month) is "
                f"active since {_when(product.start_date)}; no charge for it is running.",
            )


def charge_running_for_terminated_product(ctx: CheckContext) -> Iterator[Finding]:
    """A ceased product with a charge still running: the customer pays for what they gave up."""
    for chunk in _products(ctx, (ProductStatus.TERMINATED,)):
        products = _settled_products(ctx, chunk)
        if not products:
            continue
        running = _running_charges(products)
        for product in products:
            charges = running.get(product.pk)
            if not charges:
                continue
            yield Finding(
                kind=MismatchKind.CHARGE_RUNNING_FOR_TERMINATED_PRODUCT,
                subject=str(product.pk),
                order_id=product.order_id,
                product_ref=product.pk,
                detail=f"{product.name} was ceased {_when(product.termination_date)}, but "
                + ", ".join(
                    f"charge {c.pk} ({c.recurring_price} {c.currency}/month from {c.start_date})"
                    for c in charges
                )
                + " still runs.",
            )


def product_without_order(ctx: CheckContext) -> Iterator[Finding]:
    """A product in the installed base whose order (or order item) did not deliver it: the
    order is not completed, the item not completed, or the item is another order's."""
    for chunk in _products(ctx):
        for product in chunk:
            order, item = product.order, product.order_item
            if order.updated_at > ctx.settled_before:
                continue
            wrong = []
            if order.status not in DELIVERED_STATES:
                wrong.append(f"order {order.display_id} is {order.get_status_display().lower()}")
            if item.order_id != order.pk:
                wrong.append(f"its item belongs to order {item.order_id}")
            elif item.state != ItemState.COMPLETED:
                wrong.append(f"item {item.item_id} is {item.get_state_display().lower()}")
            if not wrong:
                continue
            yield Finding(
                kind=MismatchKind.PRODUCT_WITHOUT_ORDER,
                subject=str(product.pk),
                order_id=order.pk,
                product_ref=product.pk,
                detail=f"{product.name} ({product.get_status_display().lower()}) is in the "
                f"installed base, but {' and '.join(wrong)}.",
            )


def order_delivered_without_product(ctx: CheckContext) -> Iterator[Finding]:
    """A completed order with a delivered item that is not in the installed base: support and
    maintenance do not see what the customer has."""
    for chunk in _settled_orders(ctx, DELIVERED_STATES):
        ids = [order.pk for order in chunk]
        items = list(
            OrderItem.objects.filter(
                order_id__in=ids, action=ItemAction.ADD, state=ItemState.COMPLETED
            ).values_list("pk", "order_id", "item_id")
        )
        recorded = set(
            Product.objects.filter(order_item_id__in=[pk for pk, _, _ in items]).values_list(
                "order_item_id", flat=True
            )
        )
        missing: dict[str, list[str]] = defaultdict(list)
        for pk, order_pk, item_id in items:
            if pk not in recorded:
                missing[order_pk].append(item_id)
        for order in chunk:
            if order.pk not in missing:
                continue
            yield Finding(
                kind=MismatchKind.ORDER_DELIVERED_WITHOUT_PRODUCT,
                subject=order.pk,
                order_id=order.pk,
                detail=f"Order {order.display_id} is {order.get_status_display().lower()} since "
                f"{_when(order.status_changed_at)}; its delivered item(s) "
                f"{', '.join(missing[order.pk])} are not in the installed base.",
            )


# Every check, by the kind it finds (reconciliation.services runs them all).
CHECKS: dict[MismatchKind, Check] = {
    MismatchKind.ORDER_ACTIVE_WITHOUT_BILLING_ACCOUNT: order_active_without_billing_account,
    MismatchKind.BILLING_RUNNING_FOR_CANCELLED_ORDER: billing_running_for_cancelled_order,
    MismatchKind.BILLING_TERMS_DIFFER_FROM_ORDER: billing_terms_differ_from_order,
    MismatchKind.TASK_DONE_BUT_NETWORK_MISSING: task_done_but_network_missing,
    MismatchKind.NETWORK_HAS_UNKNOWN_SUBSCRIBER: network_has_unknown_subscriber,
    MismatchKind.NETWORK_HOLDS_FOR_CLOSED_ORDER: network_holds_for_closed_order,
    MismatchKind.NETWORK_HOLDS_FOR_TERMINATED_PRODUCT: network_holds_for_terminated_product,
    MismatchKind.PRODUCT_LIVE_WITHOUT_CHARGE: product_live_without_charge,
    MismatchKind.CHARGE_RUNNING_FOR_TERMINATED_PRODUCT: charge_running_for_terminated_product,
    MismatchKind.PRODUCT_WITHOUT_ORDER: product_without_order,
    MismatchKind.ORDER_DELIVERED_WITHOUT_PRODUCT: order_delivered_without_product,
    **RADIUS_CHECKS,  # only when the subscribers are in RADIUS
}
