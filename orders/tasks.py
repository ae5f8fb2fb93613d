"""Celery entry points for the orders area: thin, idempotent, by ID. Each runs as the scheduler
in the audit log (orders.system_actors)."""

from celery import shared_task

from orders import outbox, services
from orders.system_actors import SystemComponent, system_task


@shared_task(name="orders.outbox_sweep")
@system_task(SystemComponent.SCHEDULER)
def outbox_sweep() -> int:
    return outbox.outbox_sweep()


@shared_task(name="orders.release_due_orders")
@system_task(SystemComponent.SCHEDULER)
def release_due_orders() -> int:
    return services.orders_release_due()
