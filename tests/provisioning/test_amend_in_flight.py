"""Amending an order's items before its point of no return (orders.amendments,
provisioning.amendments): re-priced with the old and new price on the timeline, re-planned
with done tasks kept, an add-on taken off undone on the network, an add-on added joining the
graph, a new plan's speed applied again; refused past the point of no return, and while a task
of what changes is running."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import BillingCharge
from orders.amendments import AmendmentRefused, order_amend_items
from orders.models import Order, OrderEvent
from orders.states import EventSource, ItemState, OrderStatus
from provisioning.models import FulfilmentTask, TaskAttempt, TaskState
from provisioning.scheduler import TaskError
from provisioning.services import fulfilment_start
from tests.factories import (
    PlanFactory,
    RouterOfferingFactory,
    StaticIpOfferingFactory,
    submit_order,
)
from tests.provisioning.running import held_by_network, run_ready

pytestmark = pytest.mark.django_db


@pytest.fixture
def offerings():
    return {"ip": StaticIpOfferingFactory(), "router": RouterOfferingFactory()}


@pytest.fixture
def in_flight(plan, serviceable_area, offerings):
    """Fibre 500 with a static IP, its tasks done up to activating the line."""
    order = submit_order(plan=plan, add_ons=(offerings["ip"],), area=serviceable_area).order
    fulfilment_start(order.pk)
    run_ready(order, until="1.activate_line")
    return Order.objects.get(pk=order.pk)


def amend(order: Order, user, **changes):
    return order_amend_items(order, actor=user, source=EventSource.SALES_PORTAL, **changes)


def states(order: Order) -> dict[str, str]:
    return dict(FulfilmentTask.objects.filter(order=order).values_list("key", "state"))


def test_an_order_not_started_is_re_priced_and_its_plan_made_from_the_new_items(
    plan, serviceable_area, offerings, sales_user
):
    order = submit_order(plan=plan, area=serviceable_area).order
    gigabit = PlanFactory(code="fibre-900", name="Fibre 900", download_mbps=900)

    amended = amend(order, sales_user, plan=gigabit, add_ons=[offerings["router"]])

    order.refresh_from_db()
    assert order.plan == gigabit
    assert order.monthly_price == gigabit.monthly_price + offerings["router"].monthly_price
    event = OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.ORDER_EDITED).get()
    changes = event.data["changes"]
    assert changes["monthly_price"] == {"before": "35.00", "after": str(order.monthly_price)}
    assert changes["plan"] == {"before": "Fibre 500", "after": "Fibre 900"}
    assert [i.offering for i in amended.added] == [offerings["router"]]

    fulfilment_start(order.pk)
    assert "2.register_cpe" in states(order)


def test_an_add_on_taken_off_in_flight_is_undone_and_the_order_completes_without_it(
    in_flight, sales_user, django_capture_on_commit_callbacks
):
    assert {"2.allocate_address", "2.bind_address"} <= held_by_network(in_flight)

    amend(in_flight, sales_user, add_ons=[])

    # Its done tasks are undone (bind first), the line's kept, and the price is the line's
    tasks = states(in_flight)
    assert tasks["2.bind_address.undo"] == TaskState.READY
    assert tasks["2.allocate_address.undo"] == TaskState.WAITING
    assert tasks["1.create_subscriber"] == TaskState.DONE
    in_flight.refresh_from_db()
    assert in_flight.monthly_price == Decimal("35.00")
    assert in_flight.items.get(item_id="2").state == ItemState.REMOVED

    with django_capture_on_commit_callbacks(execute=True):
        run_ready(in_flight)
    assert not {"2.allocate_address", "2.bind_address"} & held_by_network(in_flight)
    in_flight.refresh_from_db()
    # Completed, not partial: nothing owed was left undelivered; only the line is billed
    assert in_flight.status == OrderStatus.COMPLETED
    assert [c.item.item_id for c in BillingCharge.objects.filter(item__order=in_flight)] == ["1"]


def test_an_add_on_added_in_flight_joins_the_graph_before_the_line_goes_live(
    in_flight, offerings, sales_user, django_capture_on_commit_callbacks
):
    amend(in_flight, sales_user, add_ons=[offerings["ip"], offerings["router"]])

    activate = FulfilmentTask.objects.get(order=in_flight, key="1.activate_line")
    assert "3.register_cpe" in activate.depends_on
    assert states(in_flight)["3.register_cpe"] == TaskState.READY
    with django_capture_on_commit_callbacks(execute=True):
        run_ready(in_flight)
    in_flight.refresh_from_db()
    assert in_flight.status == OrderStatus.COMPLETED
    assert in_flight.items.get(item_id="3").state == ItemState.COMPLETED


def test_a_new_plan_in_flight_applies_its_speed_again_and_keeps_what_still_applies(
    in_flight, sales_user, django_capture_on_commit_callbacks
):
    gigabit = PlanFactory(code="fibre-900", name="Fibre 900", download_mbps=900)

    amend(in_flight, sales_user, plan=gigabit)

    assert states(in_flight)["1.apply_speed_profile"] == TaskState.READY
    with django_capture_on_commit_callbacks(execute=True):
        run_ready(in_flight)
    attempts = dict(FulfilmentTask.objects.filter(order=in_flight).values_list("key", "attempts"))
    assert attempts["1.apply_speed_profile"] == 2
    assert attempts["1.reserve_port"] == attempts["1.create_subscriber"] == 1
    in_flight.refresh_from_db()
    assert in_flight.status == OrderStatus.COMPLETED
    assert BillingCharge.objects.get(item__order=in_flight, item__item_id="1").recurring_price == (
        gigabit.monthly_price
    )


def test_past_the_point_of_no_return_an_amendment_is_refused_and_changes_nothing(
    in_flight, offerings, sales_user
):
    FulfilmentTask.objects.filter(order=in_flight, key="1.activate_line").update(
        state=TaskState.RUNNING, started_at=timezone.now()
    )

    with pytest.raises(AmendmentRefused) as refused:
        amend(in_flight, sales_user, add_ons=[])

    assert refused.value.reason_code == "PONR"
    assert "can no longer be changed" in refused.value.message
    assert in_flight.items.get(item_id="2").state != ItemState.REMOVED


def test_an_amendment_racing_a_running_task_of_what_changes_is_a_clear_conflict(
    in_flight, sales_user
):
    # Given the static IP's binding is on the network again at this moment (a retry)
    FulfilmentTask.objects.filter(order=in_flight, key="2.bind_address").update(
        state=TaskState.RUNNING, started_at=timezone.now()
    )
    price = in_flight.monthly_price

    with pytest.raises(TaskError) as refused:
        amend(in_flight, sales_user, add_ons=[])

    assert "is running on the network" in refused.value.message
    in_flight.refresh_from_db()
    assert in_flight.monthly_price == price
    assert in_flight.items.get(item_id="2").state != ItemState.REMOVED
    assert not TaskAttempt.objects.filter(task__order=in_flight, task__key__endswith=".undo")
