"""Celery entry points for provisioning: thin and idempotent, by ID."""

from celery import shared_task

from provisioning import services


@shared_task(name="provisioning.fulfil_order")
def fulfil_order(order_id: str) -> None:
    services.fulfilment_start(order_id)


@shared_task(name="provisioning.activation_attempt")
def activation_attempt(order_id: str, job_id: int) -> None:
    services.activation_attempt_run(job_id)


@shared_task(name="provisioning.recover_stuck_work")
def recover_stuck_work() -> dict[str, int]:
    return services.provisioning_recover_stuck_work()
