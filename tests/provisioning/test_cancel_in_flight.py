"""Cancelling an order in flight (orders.cancellation, provisioning.compensation): before the
point of no return the order is cancelled and every task its plan did is undone, in reverse
order, by tasks with attempts of their own; the network keeps nothing of it; an undo that
fails opens an exception case and the order is not reported cancelled until it is done; past
the point of no return the refusal says why."""

from __future__ import annotations

import pytest
from django.utils import timezone

from orders.errors import CancellationRefused
from orders.models import Order
from orders.services import order_cancel, order_cancellation_refusal
from orders.states import EventSource, ItemState, OrderStatus
from provisioning import scheduler
from provisioning.models import (
    ExceptionCase,
    FulfilmentTask,
    TaskAttempt,
    TaskState,
)
from provisioning.services import exception_case_retry, fulfilment_start
from tests.factories import RouterOfferingFactory, StaticIpOfferingFactory, submit_order
from tests.provisioning.running import held_by_network, run_ready

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_flight(plan, serviceable_area):
    """A line with a static IP and a router on the network, its messages kept back: the test
    runs the ready tasks itself, as a worker would (``run``)."""
    order = submit_order(
        plan=plan,
        add_ons=(StaticIpOfferingFactory(), RouterOfferingFactory()),
        area=serviceable_area,
    ).order
    fulfilment_start(order.pk)
    return Order.objects.get(pk=order.pk)


def cancel(order: Order, user, reason: str = "Customer changed their mind.") -> Order:
    return order_cancel(order, actor=user, reason=reason, source=EventSource.SALES_PORTAL)


def test_a_cancel_before_the_point_of_no_return_undoes_every_done_task_in_reverse(
    in_flight, sales_user
):
    # Given an order whose tasks are done up to the point of no return (activating the line)
    run_ready(in_flight, until="1.activate_line")
    assert held_by_network(in_flight) == {
        "1.reserve_port",
        "1.create_subscriber",
        "1.apply_speed_profile",
        "2.allocate_address",
        "2.bind_address",
        "3.register_cpe",
    }
    assert order_cancellation_refusal(Order.objects.get(pk=in_flight.pk)) is None

    # When the rep cancels it
    order = cancel(in_flight, sales_user)

    # Then it is being cancelled (not yet cancelled), the line's activation will never run
    assert order.status == OrderStatus.CANCELLING
    assert FulfilmentTask.objects.get(order=order, key="1.activate_line").state == (
        TaskState.CANCELLED
    )
    # ... and each undo runs only after the undos of what relied on its task
    ran = run_ready(order)
    assert sorted(ran) == sorted(f"{key}.undo" for key in held_by_network_before(order))
    position = {key: n for n, key in enumerate(ran)}
    for later, earlier in [
        ("1.reserve_port.undo", "1.create_subscriber.undo"),
        ("1.create_subscriber.undo", "1.apply_speed_profile.undo"),
        ("1.create_subscriber.undo", "2.allocate_address.undo"),
        ("2.allocate_address.undo", "2.bind_address.undo"),
    ]:
        assert position[earlier] < position[later], (earlier, later)
    # ... with an attempt on record each, and the network holds nothing of the order any more
    assert TaskAttempt.objects.filter(task__order=order, task__undoes__isnull=False).count() == 6
    assert held_by_network(order) == set()
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert set(order.items.values_list("state", flat=True)) == {ItemState.CANCELLED}
    assert "undone (6)" in order.events.get(to_status=OrderStatus.CANCELLED).reason


def held_by_network_before(order: Order) -> list[str]:
    return [t.undoes.key for t in FulfilmentTask.objects.filter(order=order, undoes__isnull=False)]


def test_an_order_with_nothing_done_is_cancelled_at_once(plan, serviceable_area, sales_user):
    order = submit_order(plan=plan, area=serviceable_area).order

    cancelled = cancel(order, sales_user)

    assert cancelled.status == OrderStatus.CANCELLED
    assert not FulfilmentTask.objects.filter(order=order).exists()


def test_past_the_point_of_no_return_the_cancel_is_refused_saying_why(in_flight, sales_user):
    # Given the line's activation started on the network (a worker is on it)
    run_ready(in_flight, until="1.activate_line")
    started = timezone.now()
    FulfilmentTask.objects.filter(order=in_flight, key="1.activate_line").update(
        state=TaskState.RUNNING, started_at=started
    )
    order = Order.objects.get(pk=in_flight.pk)

    # Then the pages can say so before anyone asks, and the cancel is refused with PONR
    refusal = order_cancellation_refusal(order)
    assert refusal is not None and refusal.reason_code == "PONR"
    with pytest.raises(CancellationRefused) as refused:
        cancel(order, sales_user)
    assert refused.value.reason_code == "PONR"
    assert "Activate line started at " + timezone.localtime(started).strftime("%H:%M") in (
        refused.value.message
    )
    assert "point of no return" in refused.value.message
    # ... and nothing changed
    order.refresh_from_db()
    assert order.status == OrderStatus.PROVISIONING
    assert not FulfilmentTask.objects.filter(order=order, undoes__isnull=False).exists()


def test_a_task_running_when_the_order_is_cancelled_is_undone_once_it_has_finished(
    in_flight, sales_user
):
    # Given the port reservation running on the network when the order is cancelled
    port = FulfilmentTask.objects.get(order=in_flight, key="1.reserve_port")
    FulfilmentTask.objects.filter(pk=port.pk).update(state=TaskState.RUNNING)
    register = FulfilmentTask.objects.get(order=in_flight, key="3.register_cpe")
    scheduler.task_run(register.pk)  # the router registered meanwhile
    order = cancel(Order.objects.get(pk=in_flight.pk), sales_user)
    undo_port = FulfilmentTask.objects.get(order=order, key="1.reserve_port.undo")
    assert undo_port.depends_on == ["1.reserve_port"]
    assert undo_port.state == TaskState.WAITING

    # When the running reservation goes through after all (its worker finishes it)
    FulfilmentTask.objects.filter(pk=port.pk).update(state=TaskState.READY)
    scheduler.task_run(port.pk)

    # Then its undo runs like the others', and the order ends cancelled with nothing held
    assert FulfilmentTask.objects.get(pk=undo_port.pk).state == TaskState.READY
    run_ready(order)
    assert held_by_network(order) == set()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED


def test_an_undo_that_fails_opens_a_case_and_the_order_is_not_cancelled_until_it_is_done(
    in_flight, sales_user, lead_user, settings, django_capture_on_commit_callbacks
):
    # Given a network that refuses, once, to release the router's registration
    settings.NETWORK_SIMULATOR_RULES = [
        {"step": "register_cpe", "undo": True, "error": "CPE_REJECTED", "fail_attempts": 1}
    ]
    run_ready(in_flight, until="1.activate_line")
    order = cancel(in_flight, sales_user)

    run_ready(order)

    # Then the order is still being cancelled, with an exception case naming the undo
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLING
    case = ExceptionCase.objects.get(order=order, state=ExceptionCase.State.OPEN)
    assert case.task.key == "3.register_cpe.undo"
    assert "De-register the router" in case.reason_detail
    assert held_by_network(order) == {"3.register_cpe"}

    # When the lead retries it from the case
    with django_capture_on_commit_callbacks(execute=True):
        exception_case_retry(case, acting_user=lead_user)

    # Then the undo goes through and the order is cancelled, the case closed with it
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert held_by_network(order) == set()
    case.refresh_from_db()
    assert case.state != ExceptionCase.State.OPEN


def test_a_failed_order_can_always_be_cancelled_and_its_done_tasks_are_undone(
    plan, faulty_area, sales_user, django_capture_on_commit_callbacks
):
    # Given an order held in the exception queue after its port could not be reserved
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, add_ons=(RouterOfferingFactory(),), area=faulty_area).order
    order.refresh_from_db()
    assert order.status == OrderStatus.EXCEPTION
    assert held_by_network(order) == {"2.register_cpe"}

    # When it is cancelled, its router's registration is undone and the order cancelled
    with django_capture_on_commit_callbacks(execute=True):
        cancel(order, sales_user)

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert held_by_network(order) == set()
    assert not ExceptionCase.objects.filter(order=order, state=ExceptionCase.State.OPEN).exists()
