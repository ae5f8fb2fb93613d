"""Celery entry points for provisioning: thin and idempotent, by ID. Each runs as the
provisioning worker in the audit log (orders.system_actors)."""

from celery import shared_task

from orders.system_actors import SystemComponent, system_task
from provisioning import services


@shared_task(name="provisioning.fulfil_order")
@system_task(SystemComponent.PROVISIONING)
def fulfil_order(order_id: str) -> None:
    services.fulfilment_start(order_id)


@shared_task(name="provisioning.activation_attempt")
@system_task(SystemComponent.PROVISIONING)
def activation_attempt(order_id: str, job_id: int) -> None:
    services.activation_attempt_run(job_id)


@shared_task(name="provisioning.recover_stuck_work")
@system_task(SystemComponent.PROVISIONING)
def recover_stuck_work() -> dict[str, int]:
    return services.provisioning_recover_stuck_work()
