"""Celery entry points for provisioning: thin and idempotent, by ID, run through the outbox
(orders.outbox.work) as the provisioning worker in the audit log."""

from orders.outbox import outbox_task
from orders.system_actors import SystemComponent
from provisioning import services


@outbox_task("provisioning.fulfil_order", component=SystemComponent.PROVISIONING)
def fulfil_order(order_id: str) -> None:
    services.fulfilment_start(order_id)


# Not one transaction: the network is called between the writes. The attempt's outcome and
# the message's completion commit together (provisioning.services._attempt_finish).
@outbox_task(
    "provisioning.activation_attempt", component=SystemComponent.PROVISIONING, atomic=False
)
def activation_attempt(order_id: str, job_id: int) -> None:
    services.activation_attempt_run(job_id)
