"""Celery entry points for billing: thin and idempotent, by ID. Each runs as the billing worker
in the audit log (orders.system_actors)."""

from celery import shared_task

from billing import services
from orders.system_actors import SystemComponent, system_task


@shared_task(name="billing.start_billing")
@system_task(SystemComponent.BILLING)
def start_billing(order_id: str) -> None:
    services.billing_account_start(order_id)


@shared_task(name="billing.recover_stuck_work")
@system_task(SystemComponent.BILLING)
def recover_stuck_work() -> int:
    return services.billing_recover_stuck_work()
