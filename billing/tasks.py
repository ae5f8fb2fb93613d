"""Celery entry points for billing: thin and idempotent, by ID, run through the outbox
(orders.outbox.work) as the billing worker in the audit log."""

from billing import services
from orders.outbox import outbox_task
from orders.system_actors import SystemComponent


@outbox_task("billing.start_billing", component=SystemComponent.BILLING)
def start_billing(order_id: str) -> None:
    services.billing_account_start(order_id)
