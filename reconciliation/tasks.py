"""Celery entry points: the periodic reconciliation (beat: ``reconciliation-run``) and the
repairs it requests through the outbox."""

from celery import shared_task
from django.conf import settings

from orders.outbox import outbox_task
from orders.system_actors import SystemComponent, system_task
from reconciliation.repairs import REPAIR_TASK, radius_repair
from reconciliation.services import reconciliation_run


@shared_task(
    name="reconciliation.run",
    # A full pass at a million orders takes minutes, longer than the default task limits.
    soft_time_limit=settings.RECONCILIATION_TIME_LIMIT_SECONDS,
    time_limit=settings.RECONCILIATION_TIME_LIMIT_SECONDS + 60,
)
@system_task(SystemComponent.SCHEDULER)
def reconciliation_run_task() -> int:
    """Run every check once; returns how many mismatches are open. Safe to repeat."""
    return reconciliation_run().found


# Waits on RADIUS and the NAS between writes: records its outcome itself (outbox_work_done).
@outbox_task(REPAIR_TASK, component=SystemComponent.SCHEDULER, atomic=False)
def radius_repair_task(mismatch_id: int, order_id: str | None = None) -> str:
    """Repair one mismatch the RADIUS checks found (reconciliation.repairs). Idempotent."""
    return radius_repair(mismatch_id)
