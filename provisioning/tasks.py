"""Celery entry points for provisioning: thin and idempotent, by ID, run through the outbox
(orders.outbox.work) as the provisioning worker in the audit log."""

from celery import current_task

from orders.outbox import outbox_task
from orders.system_actors import SystemComponent
from provisioning import scheduler, services


@outbox_task("provisioning.fulfil_order", component=SystemComponent.PROVISIONING)
def fulfil_order(order_id: str) -> None:
    services.fulfilment_start(order_id)


# Not one transaction: the network is called between the writes. The task's outcome and the
# message's completion commit together (provisioning.scheduler._task_finish).
@outbox_task(scheduler.RUN_TASK, component=SystemComponent.PROVISIONING, atomic=False)
def run_task(
    order_id: str, task_id: int, trigger: str = "initial", requested_by: int | None = None
) -> None:
    worker = str(getattr(current_task.request, "hostname", "") or "")
    scheduler.task_run(task_id, trigger=trigger, requested_by=requested_by, worker=worker)
