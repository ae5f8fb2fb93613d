"""Running a message's task so that the outbox knows when its work is done.

Tasks declared with ``outbox_task`` run each message this way:

1. **start** (its own short write): the message is marked started and its attempt counted;
   a copy of a message already completed, given up, or rescheduled for later is ignored;
2. **work**: with ``atomic=True`` (the default) the task body runs in one transaction that
   first locks the message and re-checks it is still open, and the message is marked completed
   in that same transaction: the work and its record commit together, and two copies of one
   message run one after the other, the second finding the work done. A task whose work cannot
   be one transaction (it waits on a network or a listener between writes) is declared
   ``atomic=False`` and calls ``outbox_work_done()`` inside the transaction that records its
   outcome;
3. **failure**: the message is rescheduled in the database with exponential backoff (never left
   to the broker, which may forget it). Database, broker and the task's declared transient
   errors are retried for as long as it takes; any other error is retried up to
   ``OUTBOX_MAX_ATTEMPTS`` times, then the message is given up (``failed_at``) for a person to
   look at in the admin. If the database itself is unreachable, nothing can be written: the
   task asks Celery for a retry with backoff instead, and should even that fail (the broker is
   down too) recovery finds the message once both are back.
"""

from __future__ import annotations

import contextvars
import datetime
import logging
import random
from collections.abc import Callable
from typing import Any

from celery import Task, shared_task
from celery.exceptions import Ignore, Reject, Retry
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from orders.models import OutboxMessage
from orders.outages import DATABASE_ERRORS
from orders.outbox.dispatch import BROKER_ERRORS, DUE_TOLERANCE, message_id_from_task_id
from orders.signals import outbox_task_failed
from orders.system_actors import SystemComponent, system_task

logger = logging.getLogger(__name__)

CELERY_CONTROL = (Retry, Ignore, Reject)
ERROR_MAX_CHARS = 2000


class RetryLater(Exception):
    """Raised by a task body: not now, come back in ``seconds`` (not counted as a failure)."""

    def __init__(self, seconds: float, reason: str = "") -> None:
        super().__init__(reason or f"retry in {seconds:.0f} s")
        self.seconds = seconds
        self.reason = reason


_current: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "outbox_current_message", default=None
)


def current_message_id() -> int | None:
    """The outbox message the running task is working on (None outside one)."""
    return _current.get()


def outbox_work_done() -> None:
    """Mark the running message completed, in the caller's transaction: its work and its
    record commit (or roll back) together. For ``atomic=False`` tasks; harmless elsewhere."""
    message_id = _current.get()
    if message_id is not None:
        _complete(message_id)


def retry_delay(attempt: int) -> float:
    """Backoff after the ``attempt``-th failed try: base * 2^(attempt-1), capped, jittered."""
    base = float(settings.OUTBOX_RETRY_BASE_SECONDS)
    cap = float(settings.OUTBOX_RETRY_MAX_SECONDS)
    delay = min(cap, base * 2 ** min(max(attempt, 1) - 1, 30))
    return delay * (1 - random.uniform(0, 0.1))


# --- the steps ---------------------------------------------------------------------------------
def _begin(message_id: int, *, worker: str = "") -> int | None:
    """Mark the message started; its attempt number, or None for a copy to ignore."""
    now = timezone.now()
    started = (
        OutboxMessage.objects.filter(
            pk=message_id, completed_at__isnull=True, failed_at__isnull=True
        )
        .filter(Q(dispatched_at__isnull=False) | Q(not_before__lte=now + DUE_TOLERANCE))
        .update(started_at=now, attempts=F("attempts") + 1, started_by=worker[:200])
    )
    if not started:
        return None
    return OutboxMessage.objects.values_list("attempts", flat=True).get(pk=message_id)


def _lock_open(message_id: int) -> bool:
    return (
        OutboxMessage.objects.select_for_update()
        .filter(pk=message_id, completed_at__isnull=True, failed_at__isnull=True)
        .exists()
    )


def _complete(message_id: int) -> None:
    OutboxMessage.objects.filter(pk=message_id, completed_at__isnull=True).update(
        completed_at=timezone.now()
    )


def _reschedule(message_id: int, *, delay: float, error: str, give_up: bool) -> None:
    now = timezone.now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update()
            .filter(pk=message_id, completed_at__isnull=True, failed_at__isnull=True)
            .first()
        )
        if message is None:
            return
        message.last_error = error[:ERROR_MAX_CHARS]
        if give_up:
            message.failed_at = now
            logger.error(
                "outbox: gave up %s (order %s) after %d attempts: %s",
                message.task_name,
                message.order_id,
                message.attempts,
                error,
            )
        else:
            message.dispatched_at = None
            message.not_before = now + datetime.timedelta(seconds=delay)
        message.save(update_fields=["last_error", "failed_at", "dispatched_at", "not_before"])
        outbox_task_failed.send(
            sender=OutboxMessage,
            task_name=message.task_name,
            order_id=message.order_id,
            given_up=give_up,
            error=message.last_error,
        )


def _retry_through_broker(task: Task, exc: BaseException) -> None:
    retries = int(getattr(task.request, "retries", 0) or 0)
    countdown = min(
        float(settings.OUTBOX_RETRY_MAX_SECONDS),
        float(settings.OUTBOX_RETRY_BASE_SECONDS) * 2 ** min(retries, 30),
    )
    logger.warning(
        "outbox: database unavailable in %s (%s); retry in %.0f s", task.name, exc, countdown
    )
    raise task.retry(exc=exc, countdown=countdown, max_retries=None)


def _run_message(
    task: OutboxTask, message_id: int, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    try:
        attempt = _begin(message_id, worker=str(task.request.hostname or ""))
    except DATABASE_ERRORS as exc:
        _retry_through_broker(task, exc)
    if attempt is None:
        logger.info("outbox: %s for message %s ignored: done or not due", task.name, message_id)
        return None
    token = _current.set(message_id)
    try:
        if task.atomic:
            with transaction.atomic():
                if not _lock_open(message_id):
                    return None  # a copy that waited for the lock: the work is done
                result = task.run(*args, **kwargs)
                _complete(message_id)
            return result
        result = task.run(*args, **kwargs)
        _complete(message_id)
        return result
    except CELERY_CONTROL:
        raise
    except RetryLater as later:
        _failed(task, message_id, later, delay=later.seconds, give_up=False)
        return None
    except Exception as exc:
        transient = isinstance(exc, DATABASE_ERRORS + BROKER_ERRORS + task.transient_errors)
        give_up = not transient and attempt >= settings.OUTBOX_MAX_ATTEMPTS
        if not transient:
            logger.exception(
                "outbox: %s failed on message %s (attempt %d)", task.name, message_id, attempt
            )
        _failed(task, message_id, exc, delay=retry_delay(attempt), give_up=give_up)
        if (
            not transient
            and task.app.conf.task_always_eager
            and task.app.conf.task_eager_propagates
        ):
            raise  # in-process runs (tests, shell) show the defect at once
        return None
    finally:
        _current.reset(token)


def _failed(
    task: OutboxTask, message_id: int, exc: BaseException, *, delay: float, give_up: bool
) -> None:
    try:
        _reschedule(message_id, delay=delay, error=f"{type(exc).__name__}: {exc}", give_up=give_up)
    except DATABASE_ERRORS as db_exc:
        _retry_through_broker(task, db_exc)


class OutboxTask(Task):
    """Base class of every task the outbox hands out (see the module docstring)."""

    abstract = True
    atomic: bool = True
    transient_errors: tuple[type[BaseException], ...] = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        message_id = message_id_from_task_id(self.request.id)
        if message_id is None:  # called directly, not through the outbox
            return self.run(*args, **kwargs)
        return _run_message(self, message_id, args, kwargs)


def outbox_task_names() -> list[str]:
    """The names of the tasks the outbox hands out, sorted."""
    from celery import current_app

    return sorted(name for name, task in current_app.tasks.items() if isinstance(task, OutboxTask))


def outbox_task(
    name: str,
    *,
    component: SystemComponent | None = None,
    atomic: bool = True,
    transient_errors: tuple[type[BaseException], ...] = (),
) -> Callable[[Callable[..., Any]], Any]:
    """Declare a Celery task run through the outbox, as ``component`` in the audit log."""

    def decorate(func: Callable[..., Any]) -> Any:
        body = system_task(component)(func) if component is not None else func
        return shared_task(
            name=name, base=OutboxTask, atomic=atomic, transient_errors=transient_errors
        )(body)

    return decorate
