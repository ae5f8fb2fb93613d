"""Keep the tallies (observability.tallies) in step with the events they count: each receiver
writes its delta in the transaction of the event (a post_save or a business signal sent inside
it), so a rolled-back event counts nothing."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_init, post_save
from django.dispatch import receiver

from notices.models import CustomerNotice
from notices.services import NOTICE_EMAIL_TASK
from observability.tallies import Metric, tally_add
from orders.models import Order, OrderEvent, OutboxMessage
from orders.signals import outbox_task_failed
from provisioning.models import TaskAttempt
from tmf.models import DeliveryAttempt, EventDelivery

_LOADED_OUTCOME = "_observability_loaded_outcome"


@receiver(post_save, sender=OrderEvent, dispatch_uid="observability.order_state")
def _order_state_moved(sender: Any, instance: OrderEvent, created: bool, **kwargs: Any) -> None:
    # Every status change writes exactly one status event (DESIGN invariant 2).
    if not created or kwargs.get("raw") or instance.kind != OrderEvent.Kind.STATUS_CHANGED:
        return
    if instance.from_status:
        tally_add(Metric.ORDERS_BY_STATE, instance.from_status, -1)
    if instance.to_status:
        tally_add(Metric.ORDERS_BY_STATE, instance.to_status, +1)


@receiver(post_init, sender=TaskAttempt, dispatch_uid="observability.attempt_loaded")
def _attempt_loaded(sender: Any, instance: TaskAttempt, **kwargs: Any) -> None:
    # What the row said when read, so that post_save sees the move to "failed" once.
    setattr(instance, _LOADED_OUTCOME, instance.__dict__.get("outcome"))


@receiver(post_save, sender=TaskAttempt, dispatch_uid="observability.attempt_saved")
def _attempt_saved(sender: Any, instance: TaskAttempt, created: bool, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    if created:
        tally_add(Metric.TASK_ATTEMPTS, instance.task.task_type)
    failed = TaskAttempt.Outcome.FAILED
    if instance.outcome == failed and getattr(instance, _LOADED_OUTCOME, None) != failed:
        tally_add(Metric.TASK_FAILURES, instance.error_code or "UNKNOWN")
    setattr(instance, _LOADED_OUTCOME, instance.outcome)


@receiver(post_save, sender=CustomerNotice, dispatch_uid="observability.email_sent")
def _notice_saved(sender: Any, instance: CustomerNotice, created: bool, **kwargs: Any) -> None:
    # notices.services.notice_email_send marks the notice sent once, in the sending transaction.
    fields = kwargs.get("update_fields") or ()
    if not kwargs.get("raw") and "sent_at" in fields and instance.sent_at is not None:
        tally_add(Metric.EMAILS_SENT, instance.kind)


@receiver(outbox_task_failed, sender=OutboxMessage, dispatch_uid="observability.outbox_failed")
def _outbox_failed(sender: Any, task_name: str, given_up: bool, **kwargs: Any) -> None:
    if task_name == NOTICE_EMAIL_TASK:
        tally_add(Metric.EMAILS_FAILED, "given_up" if given_up else "retrying")
    if given_up:
        tally_add(Metric.OUTBOX_GIVEN_UP, task_name)


@receiver(post_save, sender=DeliveryAttempt, dispatch_uid="observability.hub_attempt")
def _hub_attempt(sender: Any, instance: DeliveryAttempt, created: bool, **kwargs: Any) -> None:
    if not created or kwargs.get("raw"):
        return
    code = instance.status_code
    tally_add(Metric.HUB_ATTEMPTS, "delivered" if code and 200 <= code < 300 else "failed")


@receiver(post_save, sender=EventDelivery, dispatch_uid="observability.hub_given_up")
def _hub_delivery(sender: Any, instance: EventDelivery, created: bool, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields") or ()
    if "status" in fields and instance.status == EventDelivery.Status.FAILED:
        tally_add(Metric.HUB_GIVEN_UP, instance.event_type)


@receiver(post_delete, sender=Order, dispatch_uid="observability.order_deleted")
def _order_deleted(sender: Any, instance: Order, **kwargs: Any) -> None:
    # TMF622 DELETE removes an order: it leaves the count of its state.
    tally_add(Metric.ORDERS_BY_STATE, instance.status, -1)
