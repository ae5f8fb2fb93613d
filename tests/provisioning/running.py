"""Running an order's plan by hand in a test, as a worker would, and what the simulated network
holds of it afterwards."""

from __future__ import annotations

from orders.models import Order
from provisioning import scheduler
from provisioning.models import FulfilmentTask, SimulatedNetworkRecord, TaskState


def run_ready(order: Order | str, *, until: str | None = None) -> list[str]:
    """Run the order's ready automatic tasks round by round (never ``until``); return the keys
    in the order they ran."""
    pk = order if isinstance(order, str) else order.pk
    ran: list[str] = []
    while True:
        ready = list(
            FulfilmentTask.objects.filter(order_id=pk, state=TaskState.READY, mode="automatic")
            .exclude(key=until or "")
            .order_by("pk")
        )
        if not ready:
            return ran
        for task in ready:
            scheduler.task_run(task.pk)
            ran.append(task.key)


def held_by_network(order: Order | str) -> set[str]:
    """'<item>.<task>' of each task whose work the simulated network still holds."""
    pk = order if isinstance(order, str) else order.pk
    return {
        f"{r.item_ref}.{r.task_type}"
        for r in SimulatedNetworkRecord.objects.filter(order_ref=pk, undone_at__isnull=True)
    }
