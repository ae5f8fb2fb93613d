"""Jeopardy and escalation (orders.models.jeopardy): a milestone at risk or missed is raised at
a level by the share of its allowed time used, escalated to the person that level goes to, and
cleared, with a record, when the milestone is met or the order closes.

- Levels: JEOPARDY_THRESHOLDS (settings) gives the share of a milestone's allowed time
  (anchor -> due) at which it is at risk, late and critical: 75 %, 100 %, 150 % by default.
- When: ``jeopardy_scan`` (Celery beat, every minute) looks at every milestone still to reach
  of an open order; ``jeopardy_follow`` does the same for one order in the transaction of each
  event that moves it (a status change, an item active, billing started).
- Escalation: at risk to the order's owner (the owner of its open exception case, else the
  provisioning lead on duty), late to the provisioning lead on duty, critical to every operations
  manager. The lead on duty is the provisioning lead who signed in last. Each is an Escalation
  (on the order's timeline, on the person's worklist) and an e-mail through the outbox, once per
  order, level and person, however often the scan runs and however many of its milestones are
  late together.
- Clearing: a met milestone's jeopardy is cleared (met); a cancelled or rejected order's
  milestones are dropped and their jeopardies cleared (cancelled / closed).
- Late tells the customer with the new expected date (the ``order_delayed`` signal: the
  notices app sends the e-mail, once per order and new date).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from orders.log_context import log_context_scope
from orders.models import Escalation, Jeopardy, Order, OrderEvent, OrderMilestone
from orders.models.jeopardy import LEVEL_RANK, ClearedBecause, JeopardyLevel
from orders.notifications import email_send
from orders.outbox import outbox_enqueue
from orders.roles import Role
from orders.signals import jeopardy_changed, order_delayed
from orders.states import EventSource, OrderStatus

logger = logging.getLogger(__name__)

ESCALATION_EMAIL_TASK = "orders.send_escalation_email"
CLOSED = (
    OrderStatus.COMPLETED,
    OrderStatus.PARTIAL,
    OrderStatus.CANCELLED,
    OrderStatus.REJECTED,
)
NOT_DELIVERED = (OrderStatus.CANCELLED, OrderStatus.REJECTED)
SCAN_BATCH = 500


def thresholds() -> list[tuple[int, str]]:
    """(share in percent, level), highest first."""
    configured: dict[str, int] = settings.JEOPARDY_THRESHOLDS
    return sorted(((int(configured[level]), level) for level in LEVEL_RANK), reverse=True)


def jeopardy_reason_code(level: str) -> str:
    """The reason code a jeopardy at ``level`` is recorded with ("JEOPARDY_LATE"): the code
    its customer words are found by (notices.customer_words)."""
    return f"JEOPARDY_{level.upper()}"


def level_for(share: int) -> str | None:
    return next((level for at, level in thresholds() if share >= at), None)


def expected_after(milestone: OrderMilestone, now: datetime.datetime) -> datetime.datetime:
    """The new expected date of a late milestone: as long again from now as the milestone was
    allowed, rounded up to the hour (the estimate moves when the jeopardy is raised)."""
    allowed = max(milestone.due_at - milestone.anchor_at, datetime.timedelta(hours=1))
    expected = max(now, milestone.due_at) + allowed
    return expected.replace(minute=0, second=0, microsecond=0) + datetime.timedelta(hours=1)


# --- who hears of it --------------------------------------------------------------------------
def lead_on_duty() -> Any | None:
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.PROVISIONING_LEAD.value)
        .order_by("-last_login", "pk")
        .first()
    )


def recipients(order: Order, level: str) -> list[tuple[Any, str]]:
    """(person, why) the level goes to."""
    if level == JeopardyLevel.CRITICAL:
        managers = get_user_model().objects.filter(
            is_active=True, groups__name=Role.OPERATIONS_MANAGER.value
        )
        return [(user, "operations manager") for user in managers.order_by("pk")]
    if level == JeopardyLevel.AT_RISK:
        from provisioning.models import ExceptionCase  # provisioning builds on orders

        case = (
            ExceptionCase.objects.filter(order=order, owner__isnull=False)
            .exclude(state=ExceptionCase.State.RESOLVED)
            .select_related("owner")
            .order_by("-opened_at")
            .first()
        )
        if case is not None and case.owner is not None and case.owner.is_active:
            return [(case.owner, f"owner of exception case {case.pk}")]
    lead = lead_on_duty()
    return [(lead, "provisioning lead on duty")] if lead is not None else []


def _escalate(order: Order, jeopardy: Jeopardy, now: datetime.datetime) -> list[Escalation]:
    made = []
    people = recipients(order, jeopardy.level)
    if not people:
        logger.warning("order %s is %s: nobody to escalate to", order.pk, jeopardy.level)
    for person, because in people:
        already = Escalation.objects.filter(order=order, level=jeopardy.level, to=person)
        if already.exists():
            continue  # repeat alerts are limited: once per order, level and person
        escalation = Escalation.objects.create(
            jeopardy=jeopardy,
            order=order,
            level=jeopardy.level,
            to=person,
            because=because,
            created_at=now,
        )
        outbox_enqueue(ESCALATION_EMAIL_TASK, order=order, escalation_id=escalation.pk)
        made.append(escalation)
    return made


def _record(order: Order, jeopardy: Jeopardy, what: str, reason: str) -> None:
    OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.JEOPARDY,
        source=EventSource.SCHEDULER,
        reason=reason,
        reason_code=jeopardy_reason_code(jeopardy.level) if what != "cleared" else "",
        data={
            "jeopardy": jeopardy.pk,
            "milestone": jeopardy.milestone_id,
            "level": jeopardy.level,
            "action": what,
        },
    )


# --- raising and clearing ---------------------------------------------------------------------
def _raise(
    order: Order,
    milestone: OrderMilestone,
    current: Jeopardy | None,
    now: datetime.datetime,
) -> Jeopardy | None:
    share = milestone.share_used(now)
    level = level_for(share)
    if level is None:
        return None
    if current is not None and LEVEL_RANK[level] <= LEVEL_RANK[current.level]:
        return None
    was_late = current is not None and LEVEL_RANK[current.level] >= LEVEL_RANK["late"]
    if current is None:
        jeopardy = Jeopardy.objects.create(
            order=order, milestone=milestone, level=level, share=share, raised_at=now, level_at=now
        )
        what = "raised"
    else:
        jeopardy = current
        jeopardy.level, jeopardy.share, jeopardy.level_at = level, share, now
        what = "escalated"
    if LEVEL_RANK[level] >= LEVEL_RANK[JeopardyLevel.LATE] and jeopardy.expected_at is None:
        jeopardy.expected_at = expected_after(milestone, now)
    jeopardy.save()
    _record(
        order,
        jeopardy,
        what,
        f"{milestone.name}: {jeopardy.get_level_display().lower()} ({share} % of its time used, "
        f"due {timezone.localtime(milestone.due_at):%Y-%m-%d %H:%M}).",
    )
    _escalate(order, jeopardy, now)
    jeopardy_changed.send(sender=Jeopardy, order=order, jeopardy=jeopardy, action=what)
    if not was_late and LEVEL_RANK[level] >= LEVEL_RANK[JeopardyLevel.LATE]:
        order_delayed.send(sender=Jeopardy, order=order, jeopardy=jeopardy)
    return jeopardy


def _clear(order: Order, jeopardies: Iterable[Jeopardy], because: str, now: datetime.datetime):
    for jeopardy in jeopardies:
        jeopardy.cleared_at, jeopardy.cleared_because = now, because
        jeopardy.save(update_fields=["cleared_at", "cleared_because"])
        _record(
            order,
            jeopardy,
            "cleared",
            f"{jeopardy.milestone.name}: jeopardy cleared ({ClearedBecause(because).label}).",
        )
        jeopardy_changed.send(sender=Jeopardy, order=order, jeopardy=jeopardy, action="cleared")


def jeopardy_follow(order: Order, now: datetime.datetime | None = None) -> list[Jeopardy]:
    """Bring the order's jeopardies up to date, in the caller's transaction (which holds the
    order's lock, as every change to an order does): clear those whose milestone was met or is
    no longer owed, raise or escalate those due. Returns those raised or escalated."""
    now = now or timezone.now()
    # Under the order's lock (the scan takes it too): one open jeopardy per milestone.
    Order.objects.select_for_update(no_key=True).filter(pk=order.pk).values("pk").first()
    open_ = list(
        Jeopardy.objects.filter(order=order, cleared_at__isnull=True).select_related("milestone")
    )
    if order.status in NOT_DELIVERED:
        OrderMilestone.objects.filter(
            order=order, met_at__isnull=True, dropped_at__isnull=True
        ).update(dropped_at=now)
        because = (
            ClearedBecause.CANCELLED
            if order.status == OrderStatus.CANCELLED
            else ClearedBecause.CLOSED
        )
        _clear(order, open_, because, now)
        return []
    met = [j for j in open_ if j.milestone.met_at is not None]
    _clear(order, met, ClearedBecause.MET, now)
    if order.status in CLOSED:
        _clear(order, [j for j in open_ if j not in met], ClearedBecause.CLOSED, now)
        return []
    by_milestone = {j.milestone_id: j for j in open_ if j not in met}
    unmet = OrderMilestone.objects.filter(
        order=order, met_at__isnull=True, dropped_at__isnull=True
    ).select_related("item__offering")
    raised = []
    for milestone in unmet:
        jeopardy = _raise(order, milestone, by_milestone.get(milestone.pk), now)
        if jeopardy is not None:
            raised.append(jeopardy)
    return raised


def jeopardy_scan(now: datetime.datetime | None = None) -> int:
    """Beat: every open order with a milestone still to reach whose time used reaches a level
    above its open jeopardy's (the lowest, when it has none), each in its own transaction under
    its lock (an order locked by work on it now is skipped: that work follows its jeopardies
    itself, and the next scan comes). Returns how many jeopardies were raised or escalated."""
    now = now or timezone.now()
    # A milestone whose open jeopardy is already at the level its time used reaches has nothing
    # to raise: following its order again would only lock it (every stuck order, every minute).
    top = max(LEVEL_RANK.values())
    open_rank = Jeopardy.objects.filter(milestone=OuterRef("pk"), cleared_at__isnull=True)
    candidates = (
        # Not yet begun (a future-dated order's work): no time used.
        OrderMilestone.objects.filter(
            met_at__isnull=True, dropped_at__isnull=True, anchor_at__lt=now
        )
        .exclude(order__status__in=CLOSED)
        .annotate(open_rank=Subquery(open_rank.order_by().values("rank")[:1]))
        .filter(Q(open_rank__isnull=True) | Q(open_rank__lt=top))
        .only("order_id", "anchor_at", "due_at")
        .order_by("due_at", "id")
    )
    due: dict[str, None] = {}  # the orders in the order found, each once
    for milestone in candidates.iterator(chunk_size=SCAN_BATCH):
        level = level_for(milestone.share_used(now))
        if level is None or LEVEL_RANK[level] <= (milestone.open_rank or 0):
            continue
        due.setdefault(milestone.order_id)
    count = 0
    for pk in due:
        with log_context_scope(order_id=pk), transaction.atomic():
            order = Order.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if order is None:
                continue
            count += len(jeopardy_follow(order, now))
    return count


def escalation_email_send(escalation_id: int) -> bool:
    """The escalation's e-mail to its person (from its outbox task). False when there is no
    one to send it to (the escalation was deleted with its order, or the person has no
    address): the worklist still shows it."""
    escalation = (
        Escalation.objects.filter(pk=escalation_id)
        .select_related("to", "order", "jeopardy__milestone__item__offering")
        .first()
    )
    if escalation is None or not escalation.to.email:
        return False
    jeopardy = escalation.jeopardy
    email_send(
        template="escalation",
        context={
            "escalation": escalation,
            "order": escalation.order,
            "jeopardy": jeopardy,
            "milestone": jeopardy.milestone,
            "order_url": reverse("orders:detail", args=[escalation.order_id]),
        },
        to=escalation.to.email,
    )
    return True


def escalation_acknowledge(escalation: Escalation, *, by: Any) -> bool:
    """The person took it from their worklist. False when it is not theirs or taken already."""
    if escalation.to_id != by.pk or escalation.acknowledged_at is not None:
        return False
    escalation.acknowledged_at = timezone.now()
    escalation.save(update_fields=["acknowledged_at"])
    return True
