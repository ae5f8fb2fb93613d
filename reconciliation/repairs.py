"""Repairs of what the RADIUS checks find (reconciliation.checks_radius), where the fix is clear:

- a live line's subscriber missing from RADIUS is made again: create_subscriber,
  apply_speed_profile and, for each live static IP add-on, bind_address of its recorded
  address, as the line's own order's tasks (so the same subscriber name and password);
- a subscriber in the wrong plan group is put in its plan's (apply_speed_profile, with a CoA to
  its open sessions);
- a barred state that differs from the line's: an active line's bar is lifted
  (resume_service), a suspended line is barred again (suspend_service), a ceased line's
  subscriber is removed (create_subscriber undone, which disconnects its sessions);
- an open session of a suspended or ceased subscriber is disconnected (the same two tasks: each
  bars or removes, then disconnects what is still open).

Each repair runs as a task through the outbox (DESIGN invariant 3): the run that records a
mismatch writes one message for it (key ``reconciliation-repair:<mismatch id>``), so a repair
is never lost nor requested twice. The task looks again before acting (the line may have
changed, or a person fixed it), calls the network adapter as fulfilment does (every call
idempotent per order, item and task type), and writes what it did on the mismatch
(``repair``, shown under its detail) and in the log. A repair the network could not complete
(a NAS that refuses or does not answer, RADIUS down) is tried again one reconciliation
interval later, until it works or a run no longer finds the mismatch; so is one whose every
call succeeded while RADIUS still disagrees (a NAS that acknowledged a Disconnect and kept the
session). One the network refuses for good is left to a person. The next run closes a
repaired mismatch by not finding it again.

RECONCILIATION_RADIUS_REPAIR=false turns the requests off (the mismatches are only listed).
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inventory.models import Product, ProductStatus
from orders.fulfilment import TaskType
from orders.models import OutboxMessage
from orders.outbox import RetryLater, outbox_enqueue
from orders.outbox.work import outbox_work_done
from provisioning.adapters import NetworkAdapter, TaskRequest, TaskResult, get_adapter
from reconciliation.checks import CheckContext, chunks
from reconciliation.checks_radius import RADIUS_LINE_CHECKS, LineInRadius, line_now
from reconciliation.models import OPEN, Mismatch, MismatchKind

logger = logging.getLogger(__name__)

REPAIR_TASK = "reconciliation.radius_repair"
KEY_PREFIX = "reconciliation-repair:"
REPAIRABLE = frozenset(RADIUS_LINE_CHECKS)


def repair_key(mismatch_id: int) -> str:
    return f"{KEY_PREFIX}{mismatch_id}"


def repairs_request(kind: MismatchKind, *, seen_at: datetime.datetime) -> int:
    """One repair task for each open mismatch of ``kind`` the run at ``seen_at`` found that
    has none on record yet, written in chunks (a transaction each; handed to workers when it
    commits). Returns how many were requested. Nothing when repairs are turned off or the kind
    has no clear fix."""
    if kind not in REPAIRABLE or not settings.RECONCILIATION_RADIUS_REPAIR:
        return 0
    queryset = (
        Mismatch.objects.filter(OPEN, kind=kind, last_seen_at=seen_at)
        .select_related("order")
        .only("pk", "kind", "first_seen_at", "order")
        .order_by("first_seen_at", "pk")
    )
    requested = 0
    for chunk in chunks(queryset, size=500):
        keys = {repair_key(mismatch.pk): mismatch for mismatch in chunk}
        with transaction.atomic():
            known = set(
                OutboxMessage.objects.filter(key__in=list(keys)).values_list("key", flat=True)
            )
            for key, mismatch in keys.items():
                if key in known:
                    continue  # requested by an earlier run: it is done, or still trying
                outbox_enqueue(REPAIR_TASK, order=mismatch.order, key=key, mismatch_id=mismatch.pk)
                requested += 1
    if requested:
        logger.info("reconciliation: %d repair(s) of %s requested", requested, kind.value)
    return requested


def _request(
    line: LineInRadius, task_type: str, *, undo: bool = False, product: Product | None = None
) -> TaskRequest:
    """The adapter's request for one of the line's tasks, as the line's own order made it
    (``product``: an add-on of the line whose task it is)."""
    order = line.product.order
    offering = line.product.offering
    of = product or line.product
    identifiers = {
        **{str(k): str(v) for k, v in (line.product.network_identifiers or {}).items()},
        **{str(k): str(v) for k, v in (of.network_identifiers or {}).items()},
        "subscriber": line.username,
    }
    return TaskRequest(
        order_id=order.pk,
        item_id=of.order_item.item_id,
        task_type=task_type,
        attempt=1,
        undo=undo,
        product_id=str(line.product.pk),
        postcode=order.service_postcode,
        address=order.service_address,
        exchange=order.service_area.exchange,
        technology=order.service_area.technology,
        offering_code=offering.code,
        plan_code=offering.code,
        download_mbps=offering.download_mbps,
        upload_mbps=offering.upload_mbps,
        characteristics=dict(line.product.characteristics or {}),
        identifiers=identifiers,
    )


def _fix(kind: MismatchKind, line: LineInRadius) -> list[TaskRequest]:
    """The tasks that make RADIUS agree with the line, in order."""
    status = line.product.status
    if kind == MismatchKind.RADIUS_SUBSCRIBER_MISSING:
        addresses = (
            Product.objects.filter(parent=line.product, status=ProductStatus.ACTIVE)
            .select_related("order_item")
            .order_by("created_at", "pk")
        )
        return [
            _request(line, TaskType.CREATE_SUBSCRIBER),
            _request(line, TaskType.APPLY_SPEED_PROFILE),
            *(
                _request(line, TaskType.BIND_ADDRESS, product=add_on)
                for add_on in addresses
                if (add_on.network_identifiers or {}).get("ipv4Address")
            ),
        ]
    if kind == MismatchKind.RADIUS_WRONG_PLAN_GROUP:
        return [_request(line, TaskType.APPLY_SPEED_PROFILE)]
    if status == ProductStatus.ACTIVE:
        return [_request(line, TaskType.RESUME_SERVICE)]
    if status == ProductStatus.SUSPENDED:
        return [_request(line, TaskType.SUSPEND_SERVICE)]
    return [_request(line, TaskType.CREATE_SUBSCRIBER, undo=True)]


def _say(request: TaskRequest) -> str:
    label = TaskType(request.task_type).label.lower()
    return f"{label} undone" if request.undo else label


def _note(mismatch_id: int, text: str, *, done: bool) -> None:
    """Record what the repair did on the mismatch (its ``repair``, kept across runs, which
    rewrite only the detail); ``done``: the repair's message is completed in the same
    transaction."""
    with transaction.atomic():
        Mismatch.objects.filter(pk=mismatch_id).update(repair=text)
        if done:
            outbox_work_done()


def radius_repair(mismatch_id: int, *, adapter: NetworkAdapter | None = None) -> str:
    """Repair one mismatch of the RADIUS checks if it is still open and still found; what it
    did, in words. Safe to repeat: every adapter call is idempotent. Raises RetryLater when the
    network could not complete it (the outbox runs it again later)."""
    now = timezone.now()
    mismatch = Mismatch.objects.filter(OPEN, pk=mismatch_id).first()
    if mismatch is None or mismatch.product_ref is None or mismatch.kind not in REPAIRABLE:
        return "nothing to repair: the mismatch is closed"
    kind = MismatchKind(mismatch.kind)
    adapter = adapter or get_adapter()
    ctx = CheckContext(
        settled_before=now - datetime.timedelta(minutes=settings.RECONCILIATION_GRACE_MINUTES),
        adapter=adapter,
        chunk=1,
    )
    line, settled = line_now(ctx, mismatch.product_ref)
    if line is not None and not settled:
        # A change to the line is under way (or has just been made): it may be the fix, and a
        # repair now could undo it. Look again when it has settled.
        raise RetryLater(
            settings.RECONCILIATION_GRACE_MINUTES * 60.0 + 60.0, "the line is changing"
        )
    if line is None or RADIUS_LINE_CHECKS[kind].find(line) is None:
        # Fixed meanwhile (or the line is gone): the next run closes the mismatch.
        logger.info("reconciliation: %s of order %s no longer found", kind.value, mismatch.order_id)
        return "nothing to repair: no longer found"
    done: list[str] = []
    for request in _fix(kind, line):
        result: TaskResult = adapter.execute(request)
        if result.ok:
            done.append(f"{_say(request)} ({result.network_reference})")
            continue
        when = f"{now:%Y-%m-%d %H:%M} UTC"
        failed = f"{_say(request)} failed: {result.error_code}, {result.error_message}"
        logger.warning(
            "reconciliation: repair of %s for order %s: %s%s",
            kind.value,
            mismatch.order_id,
            "; ".join([*done, failed]),
            "" if result.transient else " (left to a person)",
        )
        if not result.transient:
            _note(mismatch_id, f"Repair at {when}: {failed}; left to a person.", done=True)
            return failed
        minutes = settings.RECONCILIATION_INTERVAL_MINUTES
        _note(
            mismatch_id,
            f"Repair at {when}: {failed}; tried again in {minutes} min.",
            done=False,
        )
        raise RetryLater(minutes * 60.0, failed)
    summary = "; ".join(done)
    after, _ = line_now(ctx, mismatch.product_ref)
    if after is not None and RADIUS_LINE_CHECKS[kind].find(after) is not None:
        # Every call succeeded and RADIUS still disagrees: a NAS that acknowledged a
        # Disconnect and kept the session, a Stop it has not sent yet. Look again later.
        minutes = settings.RECONCILIATION_INTERVAL_MINUTES
        logger.warning(
            "reconciliation: repair of %s for order %s did not take: %s",
            kind.value,
            mismatch.order_id,
            summary,
        )
        _note(
            mismatch_id,
            f"Repair at {now:%Y-%m-%d %H:%M} UTC: {summary}, but RADIUS still shows it; "
            f"tried again in {minutes} min.",
            done=False,
        )
        raise RetryLater(minutes * 60.0, f"{kind.value} still found after {summary}")
    logger.info(
        "reconciliation: repaired %s for order %s: %s", kind.value, mismatch.order_id, summary
    )
    _note(mismatch_id, f"Repaired {now:%Y-%m-%d %H:%M} UTC: {summary}.", done=True)
    return summary
