"""Celery entry point: the periodic reconciliation (beat: ``reconciliation-run``)."""

from celery import shared_task
from django.conf import settings

from orders.system_actors import SystemComponent, system_task
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
