"""Running the reconciliation and recording what it finds: the one place that writes
Mismatch rows."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from provisioning.adapters import NetworkAdapter, get_adapter
from reconciliation.checks import CHECKS, CheckContext, Finding
from reconciliation.models import OPEN, Mismatch, MismatchKind
from reconciliation.repairs import repairs_request

logger = logging.getLogger(__name__)
T = TypeVar("T")
BATCH = 500


@dataclass
class KindResult:
    """What one check's run did to its kind's open mismatches."""

    found: int = 0
    new: int = 0
    resolved: int = 0
    failed: bool = False
    repairs: int = 0


@dataclass
class RunSummary:
    started_at: datetime.datetime
    kinds: dict[MismatchKind, KindResult] = field(default_factory=dict)

    @property
    def failed(self) -> list[MismatchKind]:
        return [kind for kind, result in self.kinds.items() if result.failed]

    @property
    def found(self) -> int:
        return sum(result.found for result in self.kinds.values())

    def lines(self) -> list[str]:
        """The run in words, one line per kind (what ``manage.py reconcile`` prints)."""
        out = [f"Reconciliation run at {self.started_at:%Y-%m-%d %H:%M:%S} UTC"]
        for kind, result in self.kinds.items():
            if result.failed:
                out.append(f"  {kind.value}: check FAILED (its open mismatches left as they were)")
            else:
                out.append(
                    f"  {kind.value}: {result.found} open ({result.new} new, "
                    f"{result.resolved} resolved"
                    + (f", {result.repairs} repair(s) requested" if result.repairs else "")
                    + ")"
                )
        out.append(
            f"Open mismatches: {self.found}"
            + (f"; {len(self.failed)} check(s) failed" if self.failed else "")
        )
        return out


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _record(kind: MismatchKind, findings: list[Finding], *, seen_at: datetime.datetime) -> int:
    """Write one batch of a kind's findings: an open mismatch found again is seen again (and
    its detail brought up to date), a new one is opened. Returns how many were new."""
    by_subject = {finding.subject: finding for finding in findings}
    with transaction.atomic():
        known = list(
            Mismatch.objects.filter(
                OPEN, kind=kind, subject__in=list(by_subject)
            ).select_for_update()
        )
        for mismatch in known:
            finding = by_subject[mismatch.subject]
            mismatch.last_seen_at = seen_at
            mismatch.detail = finding.detail
            mismatch.order_id = finding.order_id
            mismatch.product_ref = finding.product_ref
        Mismatch.objects.bulk_update(known, ["last_seen_at", "detail", "order", "product_ref"])
        seen = {mismatch.subject for mismatch in known}
        new = [
            Mismatch(
                kind=kind,
                subject=finding.subject,
                order_id=finding.order_id,
                product_ref=finding.product_ref,
                detail=finding.detail,
                first_seen_at=seen_at,
                last_seen_at=seen_at,
            )
            for subject, finding in by_subject.items()
            if subject not in seen
        ]
        # A run beside this one may have opened the same mismatch meanwhile: one row stays
        # (the open-mismatch constraint), the other insert is dropped.
        Mismatch.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def reconciliation_run(
    *, now: datetime.datetime | None = None, adapter: NetworkAdapter | None = None
) -> RunSummary:
    """Run every check (reconciliation.checks.CHECKS) and record its findings: each mismatch
    found is open (one row per kind and subject, its ``last_seen_at`` this run), and each open
    mismatch of that kind the run did not find again is resolved. A check that fails (the
    network does not answer, a defect) is logged and leaves its kind's open mismatches as they
    were: not being able to look is not the same as finding everything in order."""
    started = now or timezone.now()
    context = CheckContext(
        settled_before=started - datetime.timedelta(minutes=settings.RECONCILIATION_GRACE_MINUTES),
        adapter=adapter or get_adapter(),
    )
    summary = RunSummary(started_at=started)
    for kind, check in CHECKS.items():
        result = summary.kinds[kind] = KindResult()
        try:
            for batch in _batched(check(context), BATCH):
                result.new += _record(kind, batch, seen_at=started)
        except SoftTimeLimitExceeded:
            raise  # the run is out of time: stop here, the next run starts again from the top
        except Exception:
            logger.exception("reconciliation check %s failed", kind.value)
            result.failed = True
            continue
        result.resolved = Mismatch.objects.filter(OPEN, kind=kind, last_seen_at__lt=started).update(
            resolved_at=started
        )
        result.found = Mismatch.objects.filter(OPEN, kind=kind).count()
        # What this run found with a clear fix is handed to a repair task (only RADIUS's now).
        result.repairs = repairs_request(kind, seen_at=started)
    logger.info(
        "reconciliation: %d open mismatch(es), %d check(s) failed",
        summary.found,
        len(summary.failed),
    )
    return summary
