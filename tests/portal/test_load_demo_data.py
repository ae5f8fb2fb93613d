"""The demo data (portal/management/commands/load_demo_data.py): multi-item orders in every
state, made through the services, and the three left mid-flight for the worker."""

from __future__ import annotations

import contextlib
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from billing.models import BillingCharge
from inventory.models import Product
from orders.models import Order, OutboxMessage
from orders.states import ItemState, OrderStatus
from provisioning.models import ExceptionCase, FulfilmentTask, ReasonCode, TaskState
from provisioning.selectors import manual_pool_tasks
from tests.plugins.celery_worker import CeleryWorker, start_or_fail, worker_environment

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    # Not the settings fixture: the loader checks the real settings module's name.
    monkeypatch.setattr(settings, "VAR_DIR", tmp_path)
    call_command("load_demo_data")


def _order(email: str, **filters: object) -> Order:
    return Order.objects.filter(customer__email=email, **filters).get()


def _items(order: Order) -> list[tuple[str, str]]:
    return [(i.offering.code, i.state) for i in order.items.order_by("position")]


def _open_work(order: Order, task_name: str) -> int:
    return OutboxMessage.objects.filter(
        order=order, task_name=task_name, completed_at__isnull=True
    ).count()


@pytest.mark.usefixtures("demo")
def test_the_demo_holds_multi_item_orders_in_every_state() -> None:
    statuses = set(Order.objects.values_list("status", flat=True))
    assert statuses == {
        OrderStatus.SUBMITTED,
        OrderStatus.SCHEDULED,
        OrderStatus.AWAITING_MANUAL,
        OrderStatus.PROVISIONING,
        OrderStatus.EXCEPTION,
        OrderStatus.ACTIVATED,
        OrderStatus.COMPLETED,
        OrderStatus.PARTIAL,
        OrderStatus.CANCELLED,
        OrderStatus.REJECTED,
    }
    for status in statuses:
        orders = Order.objects.filter(status=status)
        assert any(order.items.count() > 1 for order in orders), status


@pytest.mark.usefixtures("demo")
def test_the_kpi_dashboard_counts_the_demos_orders_from_the_start() -> None:
    from django.utils import timezone

    from kpis.figures import KpiFilter, activation, support

    today = KpiFilter(since=timezone.localdate(), until=timezone.localdate())
    assert support(today).orders_submitted == Order.objects.count()
    assert (
        activation(today).activated
        == Order.objects.filter(activated_at__isnull=False, product_ref__isnull=True).count()
    )


@pytest.mark.usefixtures("demo")
def test_a_completed_demo_order_has_its_products_and_a_charge_per_item() -> None:
    order = _order("customer@isp.example", status=OrderStatus.COMPLETED)

    assert _items(order) == [
        ("fibre-500", ItemState.COMPLETED),
        ("static-ip", ItemState.COMPLETED),
        ("router-5590-fiber", ItemState.COMPLETED),
    ]
    charges = BillingCharge.objects.filter(account__order=order).order_by("item__position")
    assert [(c.recurring_price, c.one_time_price) for c in charges] == [
        (Decimal("42.00"), Decimal("0.00")),
        (Decimal("5.00"), Decimal("0.00")),
        (Decimal("4.00"), Decimal("49.00")),
    ]
    products = {p.offering.code: p for p in Product.objects.filter(order=order)}
    assert set(products) == {"fibre-500", "static-ip", "router-5590-fiber"}
    assert set(products["fibre-500"].network_identifiers) == {"port", "subscriber"}
    assert "ipv4Address" in products["static-ip"].network_identifiers
    assert "cpeSerial" in products["router-5590-fiber"].network_identifiers
    assert products["static-ip"].parent == products["fibre-500"]


@pytest.mark.usefixtures("demo")
def test_the_poolham_orders_fail_on_the_static_ip_and_one_goes_on_without_it() -> None:
    held = _order("lou@example.com")
    case = ExceptionCase.objects.get(order=held, state=ExceptionCase.State.OPEN)
    assert held.status == OrderStatus.EXCEPTION
    assert case.reason_code == ReasonCode.ADDRESS_POOL_EXHAUSTED
    assert case.task is not None and case.task.key == "2.allocate_address"
    assert _items(held) == [("fibre-500", ItemState.IN_PROGRESS), ("static-ip", ItemState.HELD)]

    partial = _order("mo@example.com")
    assert partial.status == OrderStatus.PARTIAL
    assert _items(partial) == [
        ("fibre-1000", ItemState.COMPLETED),
        ("static-ip", ItemState.CANCELLED),
        ("router-5590-fiber", ItemState.COMPLETED),
    ]
    resolved = ExceptionCase.objects.get(order=partial)
    assert resolved.resolution == ExceptionCase.Resolution.ITEM_CANCELLED
    billed = BillingCharge.objects.filter(account__order=partial).order_by("item__position")
    assert [c.offering.code for c in billed] == ["fibre-1000", "router-5590-fiber"]
    assert sorted(
        Product.objects.filter(order=partial).values_list("offering__code", flat=True)
    ) == [
        "fibre-1000",
        "router-5590-fiber",
    ]


@pytest.mark.usefixtures("demo")
def test_the_manual_demo_order_waits_in_the_pool_as_tasks() -> None:
    order = _order("eli@example.com")
    provisioner = get_user_model().objects.get(username="provisioning")

    pool = [task for task in manual_pool_tasks(provisioner).items if task.order_id == order.pk]

    assert order.status == OrderStatus.AWAITING_MANUAL
    assert {task.key for task in pool} == {"1.reserve_port", "3.register_cpe"}


@pytest.mark.usefixtures("demo")
def test_three_demo_orders_are_left_mid_flight_for_the_worker() -> None:
    submitted = _order("dana@example.com")
    assert submitted.status == OrderStatus.SUBMITTED
    assert _open_work(submitted, "provisioning.fulfil_order") == 1

    mid_plan = _order("customer@isp.example", status=OrderStatus.PROVISIONING)
    states = dict(FulfilmentTask.objects.filter(order=mid_plan).values_list("key", "state"))
    assert states["1.reserve_port"] == states["2.register_cpe"] == TaskState.DONE
    assert states["1.create_subscriber"] == TaskState.READY
    ready = FulfilmentTask.objects.get(order=mid_plan, key="1.create_subscriber")
    messages = OutboxMessage.objects.filter(
        order=mid_plan, task_name="provisioning.run_task", completed_at__isnull=True
    )
    assert ready.pk in [m.kwargs["task_id"] for m in messages]

    activated = _order("fran@example.com")
    assert activated.status == OrderStatus.ACTIVATED
    assert _open_work(activated, "billing.start_billing") == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_carries_the_three_mid_flight_demo_orders_to_completion(
    monkeypatch, tmp_path
) -> None:
    monkeypatch.setattr(settings, "VAR_DIR", tmp_path)
    with contextlib.ExitStack() as stack:
        # Given the demo loaded as make run loads it (its work published for a worker)
        env = worker_environment(stack)
        call_command("load_demo_data")
        ids = [
            _order("dana@example.com").pk,
            _order("customer@isp.example", status=OrderStatus.PROVISIONING).pk,
            _order("fran@example.com").pk,
        ]

        # When the worker starts, as make run starts it after the demo (with the housekeeping
        # beat: the due dispatcher sends what the loader could not hand over, and recovery
        # what a broker lost), and does what it finds
        env.update(
            OUTBOX_DISPATCH_EVERY_SECONDS="0.5",
            OUTBOX_RECOVER_EVERY_SECONDS="1",
            OUTBOX_LOST_AFTER_SECONDS="5",
        )
        worker = CeleryWorker(
            env=env,
            log_path=tmp_path / "celery-worker.log",
            beat_schedule=tmp_path / "beat-schedule",
        )
        start_or_fail(worker)
        stack.callback(worker.stop)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            statuses = dict(Order.objects.filter(pk__in=ids).values_list("pk", "status"))
            if set(statuses.values()) == {OrderStatus.COMPLETED}:
                break
            time.sleep(0.5)

        # Then the three orders are completed, billed per item and in the installed base,
        # and the held and manual orders are still where the demo put them
        open_work = [
            (m.order_id, m.task_name, m.state, m.last_error)
            for m in OutboxMessage.objects.filter(order_id__in=ids, completed_at__isnull=True)
        ]
        assert set(statuses.values()) == {OrderStatus.COMPLETED}, (open_work, worker.log_tail())
        for order_id in ids:
            items = Order.objects.get(pk=order_id).items.count()
            assert BillingCharge.objects.filter(account__order_id=order_id).count() == items
            assert Product.objects.filter(order_id=order_id).count() == items
        assert _order("lou@example.com").status == OrderStatus.EXCEPTION
        assert _order("eli@example.com").status == OrderStatus.AWAITING_MANUAL


@pytest.mark.usefixtures("demo")
def test_a_router_ordered_later_for_a_live_line_is_on_the_lines_bill_and_product() -> None:
    first, later = Order.objects.filter(customer__email="jo@example.com").order_by("submitted_at")

    assert later.status == OrderStatus.COMPLETED
    assert [(i.offering.code, i.action) for i in later.items.order_by("position")] == [
        ("fibre-500", "noChange"),
        ("router-5590-fiber", "add"),
    ]
    line = Product.objects.get(order=first, parent__isnull=True)
    router = Product.objects.get(order=later)
    assert router.parent == line and "cpeSerial" in router.network_identifiers
    charge = BillingCharge.objects.get(item__order=later)
    assert charge.account.order == first
    assert charge.account.monthly_price == Decimal("51.00")  # 42 + 5 + the router's 4


@pytest.mark.usefixtures("demo")
def test_the_demo_holds_changes_to_live_lines_each_an_order_of_its_own() -> None:
    def line_of(email: str) -> Product:
        return Product.objects.get(customer__email=email, parent__isnull=True)

    upgraded = line_of("sam@example.com")
    assert upgraded.offering.code == "fibre-1000" and upgraded.status == "active"
    assert line_of("uma@example.com").status == "suspended"
    ceased = Product.objects.filter(customer__email="wyn@example.com")
    assert {p.status for p in ceased} == {"terminated"} and ceased.count() == 2
    for email in ("sam@example.com", "uma@example.com", "wyn@example.com"):
        _first, change = Order.objects.filter(customer__email=email).order_by("submitted_at")
        assert change.product_ref == line_of(email).pk
        assert change.status == OrderStatus.COMPLETED


@pytest.mark.usefixtures("demo")
def test_the_demo_holds_an_order_cancelled_in_flight_with_its_work_undone() -> None:
    withdrawn = _order("vic@example.com")

    assert withdrawn.status == OrderStatus.CANCELLED
    undone = FulfilmentTask.objects.filter(order=withdrawn, undoes__isnull=False)
    assert undone.count() >= 3
    assert {t.state for t in undone} == {TaskState.DONE}
