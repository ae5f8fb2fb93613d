"""(e) of `make bench`: SQL statements per order and orders/s for a 1-item order (the line) and a
3-item order (line, static IP, router), at intake and through the whole plan.

Intake is ``order_submit`` (the fulfilment message only enqueued, to a queue no worker reads).
The whole plan is every outbox message the orders' work writes, run in this process exactly as
a worker runs it (the Celery task through the outbox's start/complete bookkeeping), with the
simulator's latency off so that the rate is the system's own: planning
(``fulfilment_start``), each task (``scheduler.task_run``), billing per item, the installed
base, the customer's e-mails and the hub's publications. Statements are counted by a
connection execute wrapper (one per statement sent, a bulk insert counting one), apart from
the bench's own reads of which messages are open. The figure to watch: intake and planning
cost the same number of statements for 3 items (7 tasks) as for 1 item (4 tasks), because
items and tasks are inserted in bulk; only running the tasks grows with them, by a constant
per task. The third figure is an add-on ordered for a live line (2 tasks): its intake adds the
line's lookup in the installed base; the fourth a plan change of a live line (1 task).
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from scripts.bench import Catalog, Result

_numbers = itertools.count(1)


@dataclass
class Counter:
    statements: int = 0
    by_task: dict[str, int] | None = None

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.statements += 1
        return execute(sql, params, many, context)


@contextlib.contextmanager
def counting(counter: Counter) -> Iterator[None]:
    from django.db import connection

    with connection.execute_wrapper(counter):
        yield


def add_on_offerings() -> tuple[Any, Any]:
    from orders.catalogue import specification_for
    from orders.models import Plan, ProductKind

    static_ip = Plan.objects.create(
        code="bench-static-ip",
        name="Static IP",
        specification=specification_for(ProductKind.STATIC_IP),
        monthly_price=Decimal("5.00"),
    )
    router = Plan.objects.create(
        code="bench-router",
        name="Fritz!Box 5590 Fiber",
        specification=specification_for(ProductKind.ROUTER),
        characteristic_values={"model": "Fritz!Box 5590 Fiber"},
        technologies=["fttp"],
        monthly_price=Decimal("4.00"),
        one_time_price=Decimal("49.00"),
    )
    return static_ip, router


def _submit(catalog: Catalog, add_ons: tuple[Any, ...]) -> Any:
    from orders.services import CustomerDetails, order_submit
    from orders.states import EventSource

    n = next(_numbers)
    return order_submit(
        customer=CustomerDetails(
            name=f"Bench Items {n}",
            email=f"items-{n}@bench.example",
            phone=f"08{n:09d}",
            address_line1=f"{n} Items Road",
            city="Benchford",
            postcode=catalog.area.postcode,
        ),
        plan=catalog.plan,
        add_ons=add_ons,
        requested_activation_date=None,
        channel=EventSource.SALES_PORTAL,
        submitted_by=catalog.sales,
    ).order


def _drain(order_ids: list[str], counter: Counter) -> int:
    """Run every open message of these orders as a worker would, until none is left (the
    work writes more as it goes). Returns how many ran."""
    from config.celery import app
    from orders.models import OutboxMessage
    from orders.outbox.dispatch import task_id_for

    ran = 0
    for _ in range(50):  # rounds: planning, then each wave of ready tasks, then billing...
        due = list(
            OutboxMessage.objects.filter(
                order_id__in=order_ids, completed_at__isnull=True, failed_at__isnull=True
            )
            .order_by("pk")
            .values_list("pk", "task_name", "kwargs")
        )
        if not due:
            break
        for pk, task_name, kwargs in due:
            before = counter.statements
            with counting(counter):
                app.tasks[task_name].apply(kwargs=kwargs, task_id=task_id_for(pk))
            assert counter.by_task is not None
            counter.by_task[task_name] = (
                counter.by_task.get(task_name, 0) + counter.statements - before
            )
            ran += 1
    return ran


def bench_items(catalog: Catalog, *, count: int, unread_queue: Any) -> Result:
    """(e) statements per order and orders/s, 1 item against 3, intake and the whole plan."""
    from django.test.utils import override_settings

    from inventory.models import Product
    from orders.add_ons import order_submit_add_ons
    from orders.changes import order_submit_change
    from orders.models import Order, Plan
    from orders.states import EventSource, ItemChange, OrderStatus
    from provisioning.models import FulfilmentTask

    static_ip, router = add_on_offerings()
    figures: list[str] = []
    lines: list[Any] = []  # the 1-item orders' lines, once live: the add-on pass orders on them

    def on_a_live_line() -> Any:
        return order_submit_add_ons(
            lines.pop(), [static_ip], channel=EventSource.SALES_PORTAL, submitted_by=catalog.sales
        ).order

    gigabit = Plan.objects.create(
        code="bench-1000",
        name="Gigabit",
        specification=catalog.plan.specification,
        download_mbps=1000,
        upload_mbps=115,
        monthly_price=Decimal("55.00"),
    )
    upgradable: list[Any] = []

    def upgrade_a_live_line() -> Any:
        if not upgradable:
            upgradable.extend(
                Product.objects.filter(offering=catalog.plan).values_list("pk", flat=True)[:count]
            )
        return order_submit_change(
            upgradable.pop(),
            ItemChange.PLAN,
            offering=gigabit,
            channel=EventSource.SALES_PORTAL,
            submitted_by=catalog.sales,
        ).order

    for label, submit in (
        ("1 item ", lambda: _submit(catalog, ())),
        ("3 items", lambda: _submit(catalog, (static_ip, router))),
        ("IP on a live line", on_a_live_line),
        ("upgrade of a live line", upgrade_a_live_line),
    ):
        intake = Counter()
        with unread_queue():
            started = time.perf_counter()
            with counting(intake):
                orders = [submit() for _ in range(count)]
            intake_s = time.perf_counter() - started
        ids = [order.pk for order in orders]
        work = Counter(by_task={})
        # No simulated network latency: the figure is the system's own cost per order.
        with unread_queue(), override_settings(NETWORK_SIMULATOR_LATENCY_MS=0):
            started = time.perf_counter()
            ran = _drain(ids, work)
            work_s = time.perf_counter() - started
        assert work.by_task is not None
        completed = Order.objects.filter(pk__in=ids, status=OrderStatus.COMPLETED).count()
        tasks = FulfilmentTask.objects.filter(order_id__in=ids).count()
        if not lines:
            lines = list(Product.objects.filter(order_id__in=ids).values_list("pk", flat=True))
        per_task = work.by_task.get("provisioning.run_task", 0) / max(tasks, 1)
        figures += [
            f"{label}: intake {intake.statements / count:.1f} statements/order, "
            f"{count / intake_s:.1f} orders/s",
            f"{label}: whole plan ({tasks // count} tasks, {ran // count} messages/order, "
            f"{completed}/{count} completed) {work.statements / count:.1f} statements/order, "
            f"{count / work_s:.1f} orders/s",
            f"{label}:   planning {work.by_task.get('provisioning.fulfil_order', 0) / count:.1f}"
            f" statements/order; each task {per_task:.1f}; billing and products "
            f"{work.by_task.get('billing.start_billing', 0) / count:.1f}; the rest "
            + ", ".join(
                f"{name} {n / count:.1f}"
                for name, n in sorted(work.by_task.items())
                if name
                not in (
                    "provisioning.fulfil_order",
                    "provisioning.run_task",
                    "billing.start_billing",
                )
            ),
        ]
    return Result(
        f"(e) items: {count} orders of 1 item, of 3 items, of a static IP for a live line (one "
        "of the 1-item orders' lines), and of a plan change of such a line, statements counted",
        figures,
    )
