"""The catalogue kept in step with RADIUS: where FreeRADIUS does the subscriber's tasks, saving
an internet plan queues its group's rewrite (tasks.py) through the outbox, after the save
commits. Elsewhere (the simulator) nothing happens."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from orders.models import Plan
from orders.outbox import outbox_enqueue
from provisioning.adapters.radius.tasks import RADIUS_SYNC_PLAN

ADAPTER_PATH = "provisioning.adapters.radius.RadiusAdapter"


def radius_in_use() -> bool:
    routed = set(settings.PROVISIONING_TASK_ADAPTERS.values())
    return ADAPTER_PATH in routed or ADAPTER_PATH in (
        settings.PROVISIONING_NETWORK_ADAPTER,
        settings.PROVISIONING_FALLBACK_ADAPTER,
    )


@receiver(post_save, sender=Plan, dispatch_uid="provisioning.radius.plan_saved")
def plan_saved(sender: type[Plan], instance: Plan, **kwargs: Any) -> None:
    if instance.download_mbps is None or not radius_in_use():
        return
    with transaction.atomic():  # the save's own transaction, or one of its own after it
        outbox_enqueue(RADIUS_SYNC_PLAN, plan_code=instance.code)
