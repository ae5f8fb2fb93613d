"""Changes to a live line and an amendment carried out by a real worker (issue 10's "done
when"): an upgrade billed from its day with the first month prorated, a suspension and its
resumption, a cease that leaves nothing of the line on the network and closes its bill; and an
order amended in flight, re-planned and re-priced, its removed add-on undone."""

from __future__ import annotations

import contextlib
import datetime
import time
from pathlib import Path

import pytest
from django.utils import timezone

from billing.models import BillingAccount, BillingCharge
from billing.periods import first_period
from inventory.models import Product, ProductStatus
from orders.amendments import order_amend_items
from orders.changes import order_submit_change
from orders.models import Order, OutboxMessage
from orders.states import EventSource, ItemAction, ItemChange, ItemState, OrderStatus
from provisioning.models import FulfilmentTask, TaskState
from tests.factories import (
    PlanFactory,
    RouterOfferingFactory,
    submit_order,
)
from tests.plugins.celery_worker import CeleryWorker, start_or_fail, worker_environment
from tests.provisioning.running import held_by_network

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_for(condition, what: str, worker: CeleryWorker, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{worker.log_tail(80)}", pytrace=False)
        time.sleep(0.1)


def _settled(order: Order, status: str = OrderStatus.COMPLETED):
    def check() -> bool:
        return Order.objects.filter(pk=order.pk, status=status).exists() and (
            not OutboxMessage.objects.filter(order=order, completed_at__isnull=True).exists()
        )

    return check


@contextlib.contextmanager
def a_worker(tmp_path: Path, **env: str):
    with contextlib.ExitStack() as stack:
        environment = worker_environment(stack, OUTBOX_DISPATCH_EVERY_SECONDS="0.5", **env)
        worker = CeleryWorker(
            env=environment,
            log_path=tmp_path / "worker.log",
            concurrency=2,
            beat_schedule=tmp_path / "beat-schedule",
        )
        stack.callback(worker.stop)
        start_or_fail(worker)
        yield worker


def test_a_worker_upgrades_suspends_resumes_and_ceases_a_live_line(
    plan, serviceable_area, tmp_path: Path
):
    gigabit = PlanFactory(code="fibre-900", name="Fibre 900", download_mbps=900)
    with a_worker(tmp_path) as worker:
        # Given a live line with a router, delivered and billed by the worker
        order = submit_order(plan=plan, add_ons=(RouterOfferingFactory(),), area=serviceable_area)
        _wait_for(_settled(order.order), "the line to be delivered", worker)
        line = Product.objects.get(order=order.order, parent__isnull=True)
        account = BillingAccount.objects.get(order=order.order)

        # When it is upgraded
        upgrade = order_submit_change(
            line.pk, ItemChange.PLAN, offering=gigabit, channel=EventSource.API, submitted_by=None
        ).order
        _wait_for(_settled(upgrade), "the upgrade", worker)

        # Then the line is on the new plan, billed at it from today with the month prorated
        line.refresh_from_db()
        assert line.offering == gigabit
        today = timezone.localdate()
        new = BillingCharge.objects.get(item__order=upgrade)
        assert (new.account, new.start_date) == (account, today)
        assert new.first_period_amount == first_period(today, gigabit.monthly_price)[1]
        old = BillingCharge.objects.get(account=account, item__order=order.order, item__item_id="1")
        assert old.end_date == today - datetime.timedelta(days=1)

        # When it is suspended and resumed, each by the worker
        for change, status in (
            (ItemChange.SUSPEND, ProductStatus.SUSPENDED),
            (ItemChange.RESUME, ProductStatus.ACTIVE),
        ):
            changed = order_submit_change(
                line.pk, change, channel=EventSource.API, submitted_by=None
            ).order
            _wait_for(_settled(changed), f"the {change}", worker)
            line.refresh_from_db()
            assert line.status == status
            assert FulfilmentTask.objects.get(order=changed).state == TaskState.DONE

        # When it is ceased
        cease = order_submit_change(
            line.pk, ItemAction.DELETE, channel=EventSource.API, submitted_by=None
        ).order
        _wait_for(_settled(cease), "the cease", worker)

    # Then nothing of the line or its router is left on the network, both are terminated,
    # and the bill is closed
    assert held_by_network(order.order) == set()
    assert set(Product.objects.filter(order=order.order).values_list("status", flat=True)) == {
        ProductStatus.TERMINATED
    }
    account.refresh_from_db()
    assert account.status == BillingAccount.Status.CLOSED


def test_a_worker_re_plans_an_order_amended_in_flight(plan, serviceable_area, sales_user, tmp_path):
    gigabit = PlanFactory(code="fibre-900", name="Fibre 900", download_mbps=900)
    with a_worker(tmp_path, NETWORK_SIMULATOR_LATENCY_MS="1500") as worker:
        # Given a line with a router on its way: the router is registered, the line's speed
        # profile not applied yet
        order = submit_order(
            plan=plan, add_ons=(RouterOfferingFactory(),), area=serviceable_area
        ).order

        def registered() -> bool:
            return FulfilmentTask.objects.filter(
                order=order, key="2.register_cpe", state=TaskState.DONE
            ).exists()

        _wait_for(registered, "the router to be registered", worker)

        # When the rep amends it: the faster plan, and no router after all
        order_amend_items(
            order, plan=gigabit, add_ons=[], actor=sales_user, source=EventSource.SALES_PORTAL
        )
        _wait_for(_settled(order), "the amended order to complete", worker)

    # Then it completed (not partial) on the new plan, billed at its price alone, with the
    # router's registration undone on the network and the line's done tasks not redone
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and order.plan == gigabit
    assert order.items.get(item_id="2").state == ItemState.REMOVED
    assert "2.register_cpe" not in held_by_network(order)
    assert "1.activate_line" in held_by_network(order)
    charges = BillingCharge.objects.filter(item__order=order)
    assert [(c.item.item_id, c.recurring_price) for c in charges] == [("1", gigabit.monthly_price)]
    attempts = dict(FulfilmentTask.objects.filter(order=order).values_list("key", "attempts"))
    assert attempts["1.reserve_port"] == attempts["2.register_cpe"] == 1
    assert attempts["2.register_cpe.undo"] == 1
