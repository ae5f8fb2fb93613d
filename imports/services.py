"""Bringing a legacy export in (docs/migration-import.md): customers, their live services and
their historical orders, with no side effects.

An imported order is written as it stands in the legacy system, never run through the
lifecycle: a live service is a completed order with its product in the installed base and its
billing account; a completed or cancelled order keeps its dates. Nothing is queued in the
outbox, so nothing is provisioned, billed, mailed or published on the event hub: the business
signals (orders.signals, inventory.signals) that those react to are not sent. The history is
written (two status events whose source is the migration, dated as in the legacy system) and the
audit log names the migration's system user.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.services import billing_account_import
from imports.rows import (
    Catalogue,
    LegacyRow,
    LegacyState,
    RowError,
    database_check,
    file_check,
    read_records,
    row_parse,
)
from inventory.services import products_import
from orders import events
from orders.models import Customer, Order, OrderItem
from orders.states import EventSource, ItemAction, ItemState, OrderStatus
from orders.system_actors import SystemComponent, acting_as_system

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 200


class ImportInterrupted(Exception):
    """A batch could not be written (the database refused it twice); the batches before it
    are imported, the rest is not."""


# Progress: (rows done, rows in all).
Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What a run did (or, in a dry run, would do): rows imported, rows imported before (left
    as they are: legacy order ref -> order ID, by line) and rows refused with every reason."""

    dry_run: bool
    rows: int = 0
    imported: list[int] = field(default_factory=list)
    already_imported: dict[int, str] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)

    @property
    def refused_lines(self) -> list[int]:
        return sorted({error.line for error in self.errors})

    @property
    def summary(self) -> str:
        imported = "would import" if self.dry_run else "imported"
        return (
            f"{self.rows} row(s): {imported} {len(self.imported)}, already imported "
            f"{len(self.already_imported)}, refused {len(self.refused_lines)}."
        )


def legacy_file_import(
    path: Path,
    *,
    dry_run: bool,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> ImportReport:
    """Check every row of the file (imports.rows), then, unless ``dry_run``, import the good
    ones, ``batch_size`` rows per transaction. A dry run writes nothing. Rows imported before
    are left as they are, so importing a file again changes nothing. Raises FileUnreadable for
    a file that cannot be read as a legacy export."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    records = read_records(path)
    report = ImportReport(dry_run=dry_run, rows=len(records))
    catalogue = Catalogue.for_records(records)
    parsed: list[LegacyRow] = []
    for line, record in records:
        outcome = row_parse(line, record, catalogue)
        if isinstance(outcome, LegacyRow):
            parsed.append(outcome)
        else:
            report.errors += outcome
    report.errors += file_check(parsed)
    refused = {error.line for error in report.errors}
    checked = database_check([row for row in parsed if row.line not in refused])
    report.errors += checked.errors
    report.errors.sort(key=lambda error: error.line)
    refused = set(report.refused_lines)
    good: list[LegacyRow] = []
    for row in parsed:
        if row.line in refused:
            continue
        if row.order_ref in checked.imported:
            report.already_imported[row.line] = checked.imported[row.order_ref]
        else:
            good.append(row)
    if dry_run:
        report.imported = [row.line for row in good]
        return report
    done = len(records) - len(good)
    if progress is not None:
        progress(done, len(records))
    # A customer is with us since their first legacy order.
    since: dict[str, datetime.datetime] = {}
    for row in good:
        first = since.get(row.customer_ref)
        since[row.customer_ref] = row.ordered_at if first is None else min(first, row.ordered_at)
    with acting_as_system(SystemComponent.MIGRATION) as actor:
        for start in range(0, len(good), batch_size):
            batch = good[start : start + batch_size]
            imported, already = _batch_import(batch, actor=actor, since=since, report=report)
            report.imported += imported
            report.already_imported.update(already)
            done += len(batch)
            if progress is not None:
                progress(done, len(records))
    report.imported.sort()
    logger.info("legacy import of %s: %s", path, report.summary)
    return report


def _batch_import(
    batch: Sequence[LegacyRow],
    *,
    actor: User,
    since: dict[str, datetime.datetime],
    report: ImportReport,
) -> tuple[list[int], dict[int, str]]:
    """One batch, once more if a concurrent writer (another run of the same file) won a
    unique constraint first: the second try finds what it wrote."""
    try:
        return legacy_rows_import(batch, actor=actor, since=since)
    except IntegrityError:
        logger.info("legacy import: batch from line %s lost a race; retrying", batch[0].line)
    try:
        return legacy_rows_import(batch, actor=actor, since=since)
    except IntegrityError as exc:
        raise ImportInterrupted(
            f"The rows from line {batch[0].line} to line {batch[-1].line} could not be written "
            f"({exc}); {len(report.imported)} row(s) before them were imported. Nothing after "
            "them was: run the file again once the cause is fixed."
        ) from exc


def legacy_rows_import(
    rows: Sequence[LegacyRow],
    *,
    actor: User,
    since: dict[str, datetime.datetime] | None = None,
) -> tuple[list[int], dict[int, str]]:
    """Import checked rows in one transaction: the lines imported, and those whose order is
    here already (imported meanwhile), with its ID. A customer is found by legacy reference,
    else taken on from the row, as a customer since ``since[their legacy ref]`` (default: the
    row's order date)."""
    imported: list[int] = []
    already: dict[int, str] = {}
    with transaction.atomic():
        existing = dict(
            Order.objects.filter(legacy_ref__in=[row.order_ref for row in rows]).values_list(
                "legacy_ref", "id"
            )
        )
        customers = {
            c.legacy_ref: c
            for c in Customer.objects.filter(legacy_ref__in={row.customer_ref for row in rows})
        }
        for row in rows:
            if row.order_ref in existing:
                already[row.line] = existing[row.order_ref]
                continue
            customer = customers.get(row.customer_ref)
            if customer is None:
                customer = customers[row.customer_ref] = _customer_create(
                    row, since=(since or {}).get(row.customer_ref, row.ordered_at)
                )
            legacy_order_import(row, customer=customer, actor=actor)
            imported.append(row.line)
    return imported, already


def _customer_create(row: LegacyRow, *, since: datetime.datetime) -> Customer:
    return Customer.objects.create(
        name=row.name,
        email=row.email,
        phone=row.phone,
        address_line1=row.address_line1,
        address_line2=row.address_line2,
        city=row.city,
        postcode=row.postcode,
        legacy_ref=row.customer_ref,
        created_at=since,
    )


CLOSED_AS = {
    LegacyState.LIVE: OrderStatus.COMPLETED,
    LegacyState.COMPLETED: OrderStatus.COMPLETED,
    LegacyState.CANCELLED: OrderStatus.CANCELLED,
}


def legacy_order_import(row: LegacyRow, *, customer: Customer, actor: User) -> Order:
    """One legacy order, as it stands there, in the caller's transaction: the order and its
    line item, its history (taken, then closed as imported, each dated as in the legacy
    system), and for a live service its product and its billing account. Sends none of the
    business signals: nothing is provisioned, billed, mailed or published."""
    closed_as = CLOSED_AS[row.state]
    order = Order.objects.create(
        customer=customer,
        plan=row.plan,
        service_address_line1=row.address_line1,
        service_address_line2=row.address_line2,
        service_city=row.city,
        service_postcode=row.postcode,
        service_area=row.area,
        monthly_price=row.monthly_price,
        currency=row.plan.currency,
        channel=EventSource.MIGRATION,
        legacy_ref=row.order_ref,
        submitted_at=row.ordered_at,
        status_changed_at=row.ordered_at,
    )
    closed_at = row.activated_at if closed_as == OrderStatus.COMPLETED else row.cancelled_at
    assert closed_at is not None
    OrderItem.objects.create(
        order=order,
        item_id="1",
        offering=row.plan,
        action=ItemAction.ADD,
        recurring_price=row.monthly_price,
        currency=row.plan.currency,
        state=ItemState.COMPLETED if closed_as == OrderStatus.COMPLETED else ItemState.CANCELLED,
        state_changed_at=closed_at,
        completed_at=row.activated_at,
    )
    events.order_imported(
        order=order,
        from_status="",
        to_status=OrderStatus.SUBMITTED,
        actor=actor,
        at=row.ordered_at,
        reason=f"Order {row.order_ref} taken in the legacy system.",
        data={"legacy_ref": row.order_ref},
    )
    order.close_as_imported(closed_as, activated_at=row.activated_at, closed_at=row.cancelled_at)
    order.version += 1
    order.save(
        update_fields=[
            "status",
            "activated_at",
            "completed_at",
            "closed_at",
            "updated_at",
            "version",
        ]
    )
    events.order_imported(
        order=order,
        from_status=OrderStatus.SUBMITTED,
        to_status=order.status,
        actor=actor,
        at=closed_at,
        reason=f"Imported from the legacy system: {_history(row)}",
        data={
            "legacy_ref": row.order_ref,
            "legacy_state": row.state.value,
            "imported_at": timezone.now().isoformat(),
        },
    )
    if row.state == LegacyState.LIVE:
        products_import(order)
        billing_account_import(order)
    return order


def _history(row: LegacyRow) -> str:
    if row.state == LegacyState.LIVE:
        assert row.activated_at is not None
        return f"live service since {timezone.localdate(row.activated_at).isoformat()}."
    if row.state == LegacyState.COMPLETED:
        assert row.activated_at is not None
        return (
            f"completed {timezone.localdate(row.activated_at).isoformat()}; the service is no "
            "longer live."
        )
    assert row.cancelled_at is not None
    return f"cancelled {timezone.localdate(row.cancelled_at).isoformat()}."
