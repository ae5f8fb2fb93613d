"""Celery entry points for the orders area. The housekeeping tasks (beat) run on their own
queue, so they never wait behind the work they look after; each runs as the scheduler in the
audit log (orders.system_actors)."""

from celery import shared_task

from orders import cycle_times, jeopardy, scheduled_cancellations, services
from orders.notifications import MAIL_ERRORS
from orders.outbox import outbox_task, recovery
from orders.outbox.dispatch import outbox_dispatch_due
from orders.system_actors import SystemComponent, system_task


@shared_task(name="orders.outbox_dispatch_due")
@system_task(SystemComponent.SCHEDULER)
def outbox_dispatch_due_messages() -> int:
    return outbox_dispatch_due()


@shared_task(name="orders.outbox_recover")
@system_task(SystemComponent.SCHEDULER)
def outbox_recover() -> dict[str, int]:
    return recovery.outbox_recover()


@shared_task(name="orders.outbox_purge_completed")
@system_task(SystemComponent.SCHEDULER)
def outbox_purge_completed() -> int:
    return recovery.outbox_purge_completed()


@shared_task(name="orders.release_due_orders")
@system_task(SystemComponent.SCHEDULER)
def release_due_orders() -> int:
    return services.orders_release_due()


@shared_task(name="orders.jeopardy_scan")
@system_task(SystemComponent.SCHEDULER)
def jeopardy_scan() -> int:
    return jeopardy.jeopardy_scan()


@shared_task(name="orders.cycle_times_refresh")
def cycle_times_refresh() -> int:
    # No system actor: the estimates are a summary, not audited.
    return cycle_times.cycle_times_refresh()


# No system actor: sending writes nothing audited.
@outbox_task(jeopardy.ESCALATION_EMAIL_TASK, transient_errors=MAIL_ERRORS)
def send_escalation_email(order_id: str, escalation_id: int) -> bool:
    return jeopardy.escalation_email_send(escalation_id)


@shared_task(name="orders.cancel_due_orders")
@system_task(SystemComponent.SCHEDULER)
def cancel_due_orders() -> int:
    return scheduled_cancellations.scheduled_cancellations_carry_out_due()
