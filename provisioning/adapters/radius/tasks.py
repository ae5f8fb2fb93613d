"""Celery entry points of the FreeRADIUS adapter, run through the outbox: a plan's group
rewritten after the catalogue changed it (receivers.py). Idempotent: it writes the plan as it
is when the task runs."""

from __future__ import annotations

import psycopg

from orders.outbox import outbox_task
from orders.system_actors import SystemComponent
from provisioning.adapters.radius.adapter import plans_sync

RADIUS_SYNC_PLAN = "provisioning.radius_sync_plan"


# A RADIUS database that does not answer is retried by the outbox, not given up.
@outbox_task(
    RADIUS_SYNC_PLAN,
    component=SystemComponent.PROVISIONING,
    atomic=False,
    transient_errors=(psycopg.OperationalError,),
)
def radius_sync_plan(plan_code: str) -> None:
    plans_sync(codes=[plan_code])
