"""Sending notifications to listeners: tries, retries with backoff, catching up, replays.

One try of a delivery is three steps, so no database transaction stays open while a listener
takes its time:

1. **claim** (short transaction, row locked): only a pending delivery that is due, of a listener
   still registered, is claimed; the claim counts the attempt and pushes ``next_attempt_at``
   out by a lease, so a second worker (a duplicate task message, a catch-up) skips it;
2. **send**: ``POST`` the stored body bytes to the callback, signed, with
   ``settings.TMF_HUB_TIMEOUT_SECONDS``; redirects are not followed;
3. **record** (short transaction): a ``DeliveryAttempt`` row; a 2xx answer is delivered;
   anything else (refused, timeout, non-2xx) is retried after
   ``TMF_HUB_RETRY_BASE_SECONDS * 2^(attempts-1)`` (capped at ``TMF_HUB_RETRY_MAX_SECONDS``,
   up to 10% earlier at random so listeners that failed together are not retried together),
   until ``TMF_HUB_MAX_ATTEMPTS`` tries have failed: then it is failed, for a person to replay
   from the admin. Each try is an outbox message (orders.outbox): the record of a try and the
   message for the next one commit together, and the outbox's due dispatcher hands the next
   one to a worker when its time comes.

A worker that dies mid-send leaves the claim to expire and its message uncompleted; the
outbox's recovery hands the message over again. So delivery is at least once: listeners
deduplicate on ``X-Event-Id``.

Order per listener is kept where it is cheap to keep, without letting one event a listener
rejects hold back all the others: new events are sent at once; a catch-up sends oldest
first and stops at a listener's first failure; when a listener answers again,
its backlog (events waiting out a backoff) is brought forward and sent oldest first. Every
event carries ``eventTime`` for listeners that need a strict order.

Nothing here raises for a listener's problem: it is recorded on the delivery.
"""

from __future__ import annotations

import datetime
import enum
import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orders.log_context import log_context_bind, log_context_scope
from orders.outbox import outbox_enqueue
from orders.outbox.work import outbox_work_done
from tmf.hub.callbacks import blocked_reason
from tmf.hub.publish import DELIVER_TASK, SIGNATURE_HEADER, may_receive_events, signature
from tmf.models import DeliveryAttempt, EventDelivery

logger = logging.getLogger(__name__)

USER_AGENT = "order-to-activation-event-hub/1"
CATCH_UP_TASK = "tmf.deliver_due_events"
# A task message (countdown) may arrive a moment before the time the row says.
DUE_TOLERANCE = datetime.timedelta(seconds=1)
# How much of a listener's answer is kept in the log.
ANSWER_EXCERPT_BYTES = 300
ERROR_MAX_CHARS = 2000
JITTER = 0.1


class Result(enum.StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    subscription_id: str
    attempt: int
    callback: str
    secret: str
    body: bytes
    event_id: str
    event_type: str
    started_at: datetime.datetime


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def claim_lease() -> datetime.timedelta:
    """How long a claimed delivery is left to its worker before another may try it: longer
    than a send can normally take (connect plus read timeouts, and a margin)."""
    return datetime.timedelta(seconds=2 * float(settings.TMF_HUB_TIMEOUT_SECONDS) + 5)


def retry_delay(attempts: int) -> datetime.timedelta:
    """The wait after the ``attempts``-th failed try: base * 2^(attempts-1), capped, with up
    to 10% taken off at random."""
    base = float(settings.TMF_HUB_RETRY_BASE_SECONDS)
    cap = float(settings.TMF_HUB_RETRY_MAX_SECONDS)
    exponent = min(max(attempts, 1) - 1, 40)
    delay = min(cap, base * 2**exponent)
    return datetime.timedelta(seconds=delay * (1 - random.uniform(0, JITTER)))


# --- one try -----------------------------------------------------------------------------------
def delivery_send(delivery_id: int, *, replay: bool = False) -> Result:
    """Try the delivery once if it is pending and due (idempotent: anything else is skipped).
    ``replay`` marks the attempt as started by a person."""
    with log_context_scope():  # its log lines carry its order's ID (bound by _claim)
        claim = _claim(delivery_id)
        if claim is None:
            return Result.SKIPPED
        answer = _post(claim)
        return _record(claim, answer, replay=replay)


def _claim(delivery_id: int) -> Claim | None:
    now = timezone.now()
    with transaction.atomic():
        delivery = EventDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.status != EventDelivery.Status.PENDING:
            return None
        log_context_bind(order_id=delivery.order_id)
        subscription = delivery.subscription
        refused = None
        if subscription.deleted_at is not None:
            refused = "Not sent: the listener was unregistered."
        elif not may_receive_events(subscription.client):
            refused = (
                "Not sent: the listener's client is inactive or lost the subscribe or read scope."
            )
        if refused is not None:
            delivery.status = EventDelivery.Status.FAILED
            delivery.last_error = refused
            delivery.save(update_fields=["status", "last_error"])
            return None
        if delivery.next_attempt_at > now + DUE_TOLERANCE:
            return None
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.next_attempt_at = now + claim_lease()
        delivery.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at"])
    return Claim(
        delivery_id=delivery.pk,
        subscription_id=subscription.pk,
        attempt=delivery.attempts,
        callback=subscription.callback,
        secret=subscription.secret,
        body=delivery.body.encode("utf-8"),
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        started_at=now,
    )


def _post(claim: Claim) -> Answer:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(claim.secret, claim.body),
        "X-Event-Id": claim.event_id,
        "X-Event-Type": claim.event_type,
        "X-Delivery-Attempt": str(claim.attempt),
    }
    started = time.monotonic()
    refused = blocked_reason(claim.callback, unresolved_ok=False)
    if refused:
        return Answer(None, refused, _elapsed_ms(started))
    try:
        response = requests.post(
            claim.callback,
            data=claim.body,
            headers=headers,
            timeout=float(settings.TMF_HUB_TIMEOUT_SECONDS),
            allow_redirects=False,
            stream=True,
        )
    except requests.Timeout:
        error = f"No answer within {settings.TMF_HUB_TIMEOUT_SECONDS:g} s."
        return Answer(None, error, _elapsed_ms(started))
    except (requests.RequestException, OSError, ValueError) as exc:
        return Answer(None, f"{type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS], _elapsed_ms(started))
    try:
        code = response.status_code
        if 200 <= code < 300:
            return Answer(code, "", _elapsed_ms(started))
        try:
            excerpt = response.raw.read(ANSWER_EXCERPT_BYTES, decode_content=True) or b""
        except Exception:  # the answer's body is only a hint for the log
            excerpt = b""
        text = excerpt.decode("utf-8", "replace").strip()
        error = f"HTTP {code} {response.reason or ''}".strip() + (f": {text}" if text else "")
        return Answer(code, error[:ERROR_MAX_CHARS], _elapsed_ms(started))
    finally:
        response.close()


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _record(claim: Claim, answer: Answer, *, replay: bool) -> Result:
    now = timezone.now()
    with transaction.atomic():
        delivery = EventDelivery.objects.select_for_update().get(pk=claim.delivery_id)
        DeliveryAttempt.objects.create(
            delivery=delivery,
            attempted_at=claim.started_at,
            status_code=answer.status_code,
            error=answer.error,
            duration_ms=answer.duration_ms,
            replay=replay,
        )
        delivery.last_status_code = answer.status_code
        delivery.last_error = answer.error
        fields = ["last_status_code", "last_error"]
        if answer.ok:
            delivery.status = EventDelivery.Status.DELIVERED
            delivery.delivered_at = now
            fields += ["status", "delivered_at"]
            result = Result.DELIVERED
        elif delivery.attempts != claim.attempt or delivery.status != EventDelivery.Status.PENDING:
            # Our claim expired and another try (or a replay) has it now; ours is only logged.
            result = Result.SKIPPED
        elif delivery.attempts >= settings.TMF_HUB_MAX_ATTEMPTS:
            delivery.status = EventDelivery.Status.FAILED
            fields.append("status")
            result = Result.FAILED
        else:
            delay = retry_delay(delivery.attempts)
            delivery.next_attempt_at = now + delay
            fields.append("next_attempt_at")
            result = Result.RETRY
            # The next try is work of its own, on record from now until it is done.
            outbox_enqueue(
                DELIVER_TASK,
                order=delivery.order,
                countdown=delay.total_seconds(),
                delivery_id=delivery.pk,
            )
        delivery.save(update_fields=fields)
        outbox_work_done()  # this try's record and its message's completion commit together
    if result is Result.FAILED:
        logger.warning(
            "hub: gave up on %s %s to %s after %d tries: %s",
            claim.event_type,
            claim.event_id,
            claim.callback,
            claim.attempt,
            answer.error,
        )
    elif result is Result.RETRY:
        logger.info(
            "hub: %s to %s failed (try %d): %s",
            claim.event_type,
            claim.callback,
            claim.attempt,
            answer.error,
        )
    return result


# --- a listener that answers again gets its backlog -------------------------------------------
def claimed(delivery: EventDelivery, now: datetime.datetime) -> bool:
    """A worker holds the delivery right now (claimed, its lease not yet over)."""
    return (
        delivery.status == EventDelivery.Status.PENDING
        and delivery.last_attempt_at is not None
        and delivery.next_attempt_at > now
        # The claim sets both from one instant; a backoff's next try is never exactly this.
        and delivery.next_attempt_at == delivery.last_attempt_at + claim_lease()
    )


def backlog_bring_forward(subscription_id: str) -> int:
    """Make the listener's deliveries that wait out a backoff due now (it just answered),
    leaving alone any a worker is sending. Returns how many."""
    now = timezone.now()
    waiting = EventDelivery.objects.filter(
        subscription_id=subscription_id,
        status=EventDelivery.Status.PENDING,
        next_attempt_at__gt=now,
    ).only("pk", "status", "next_attempt_at", "last_attempt_at")
    moved = 0
    for delivery in waiting:
        if claimed(delivery, now):
            continue
        # Only if no worker claimed it since it was read.
        moved += EventDelivery.objects.filter(
            pk=delivery.pk,
            status=EventDelivery.Status.PENDING,
            next_attempt_at=delivery.next_attempt_at,
        ).update(next_attempt_at=now)
    return moved


def delivery_send_and_catch_up(delivery_id: int, *, replay: bool = False) -> Result:
    """``delivery_send``, then, if the listener took it, its backlog is queued right away."""
    result = delivery_send(delivery_id, replay=replay)
    if result is Result.DELIVERED:
        subscription_id = (
            EventDelivery.objects.filter(pk=delivery_id)
            .values_list("subscription_id", flat=True)
            .first()
        )
        if subscription_id:
            with transaction.atomic():
                if backlog_bring_forward(subscription_id):
                    outbox_enqueue(CATCH_UP_TASK, subscription_id=subscription_id)
    return result


# --- catching up: a listener that answers again ------------------------------------------------
def deliveries_send_due(*, subscription_id: str | None = None, limit: int = 200) -> int:
    """Send pending deliveries whose time has come, oldest first; returns how many were
    delivered. A listener that fails is not tried again in the same sweep (its later events
    wait, in order, for the next one); one that answers gets its backlog in the same sweep."""
    delivered = 0
    tried: set[int] = set()
    failing: set[str] = set()
    caught_up: set[str] = set()
    while len(tried) < limit:
        due = EventDelivery.objects.filter(
            status=EventDelivery.Status.PENDING, next_attempt_at__lte=timezone.now()
        ).exclude(pk__in=tried)
        if subscription_id is not None:
            due = due.filter(subscription_id=subscription_id)
        if failing:
            due = due.exclude(subscription_id__in=failing)
        batch = list(
            due.order_by("created_at", "id").values_list("pk", "subscription_id")[
                : limit - len(tried)
            ]
        )
        if not batch:
            break
        for pk, listener in batch:
            tried.add(pk)
            if listener in failing:
                continue
            result = delivery_send(pk)
            if result is Result.DELIVERED:
                delivered += 1
                if listener not in caught_up:
                    caught_up.add(listener)
                    backlog_bring_forward(listener)
            elif result in (Result.RETRY, Result.FAILED):
                failing.add(listener)
    return delivered


# --- replay from the log -----------------------------------------------------------------------
@dataclass(frozen=True)
class ReplayOutcome:
    queued: int
    unregistered: int
    in_flight: int


def deliveries_replay(delivery_ids: Iterable[int]) -> ReplayOutcome:
    """Queue the deliveries to be sent again now, whatever their status: a failed one after
    its listener is fixed, a delivered one a listener asks for again. Each is one more try
    (flagged ``replay``); if it fails, the usual retries follow while tries remain. Not for a
    listener that was unregistered, nor a delivery a worker is sending right now. (Should the
    due sweep reach a replayed delivery before its queued task does, that try is logged as an
    ordinary one.)"""
    now = timezone.now()
    queued = unregistered = in_flight = 0
    with transaction.atomic():
        deliveries = (
            EventDelivery.objects.select_for_update(of=("self",))
            .filter(pk__in=list(delivery_ids))
            .select_related("subscription", "order")
            .order_by("created_at", "id")
        )
        for delivery in deliveries:
            if delivery.subscription.deleted_at is not None:
                unregistered += 1
                continue
            if claimed(delivery, now):
                in_flight += 1
                continue
            delivery.status = EventDelivery.Status.PENDING
            delivery.next_attempt_at = now
            delivery.save(update_fields=["status", "next_attempt_at"])
            outbox_enqueue(DELIVER_TASK, order=delivery.order, delivery_id=delivery.pk, replay=True)
            queued += 1
    return ReplayOutcome(queued=queued, unregistered=unregistered, in_flight=in_flight)
