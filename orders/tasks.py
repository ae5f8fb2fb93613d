"""Celery entry points for the orders area: thin, idempotent, by ID."""

from celery import shared_task

from orders import outbox, services


@shared_task(name="orders.outbox_sweep")
def outbox_sweep() -> int:
    return outbox.outbox_sweep()


@shared_task(name="orders.release_due_orders")
def release_due_orders() -> int:
    return services.orders_release_due()
