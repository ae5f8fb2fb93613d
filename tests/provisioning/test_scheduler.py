"""The fulfilment scheduler (provisioning/scheduler.py): decomposition of an order's items into
one task graph, release of tasks whose dependencies are done, per-task retries, the exception
case naming the task, resuming at the failed task, cancelling an undeliverable add-on, and
completion with billing per item and the installed base."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.models import BillingAccount, BillingCharge
from inventory.models import Product
from orders.models import Order
from orders.states import ItemState, OrderStatus
from provisioning.models import ExceptionCase, FulfilmentTask, ReasonCode, TaskAttempt, TaskState
from provisioning.scheduler import TaskError, task_complete_by_hand
from provisioning.services import exception_case_cancel_item, exception_case_retry
from tests.factories import RouterOfferingFactory, StaticIpOfferingFactory, submit_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_items(plan):
    return plan, StaticIpOfferingFactory(), RouterOfferingFactory()


@pytest.fixture
def place(django_capture_on_commit_callbacks, three_items):
    line, static_ip, router = three_items

    def place_in(area, **overrides) -> Order:
        with django_capture_on_commit_callbacks(execute=True):
            order = submit_order(
                plan=line, add_ons=(static_ip, router), area=area, **overrides
            ).order
        return Order.objects.get(pk=order.pk)

    return place_in


def task_states(order: Order) -> dict[str, str]:
    return dict(FulfilmentTask.objects.filter(order=order).values_list("key", "state"))


def test_a_three_item_order_decomposes_into_one_graph_and_completes(place, serviceable_area):
    order = place(serviceable_area)

    tasks = {t.key: t for t in FulfilmentTask.objects.filter(order=order)}
    assert sorted(tasks) == [
        "1.activate_line",
        "1.apply_speed_profile",
        "1.create_subscriber",
        "1.reserve_port",
        "2.allocate_address",
        "2.bind_address",
        "3.register_cpe",
    ]
    assert sorted(tasks["1.activate_line"].depends_on) == [
        "1.apply_speed_profile",
        "2.bind_address",
        "3.register_cpe",
    ]
    assert tasks["2.allocate_address"].depends_on == ["1.create_subscriber"]
    assert tasks["1.activate_line"].is_ponr
    assert set(task_states(order).values()) == {TaskState.DONE}
    assert order.status == OrderStatus.COMPLETED
    assert set(order.items.values_list("state", flat=True)) == {ItemState.COMPLETED}

    account = BillingAccount.objects.get(order=order)
    charges = list(BillingCharge.objects.filter(account=account).order_by("item__position"))
    assert [c.recurring_price for c in charges] == [
        Decimal("35.00"),
        Decimal("5.00"),
        Decimal("3.00"),
    ]
    assert [c.one_time_price for c in charges] == [Decimal("0"), Decimal("0"), Decimal("49.00")]
    assert account.monthly_price == Decimal("43.00")

    products = {p.order_item.item_id: p for p in Product.objects.filter(order=order)}
    assert products["1"].network_identifiers["port"]
    assert products["1"].network_identifiers["subscriber"] == f"sub-{order.pk.lower()}"
    assert products["2"].network_identifiers["ipv4Address"]
    assert products["3"].network_identifiers["cpeSerial"].startswith("CPE")
    assert products["2"].parent == products["1"] and products["3"].parent == products["1"]


def test_a_permanent_failure_on_the_static_ip_holds_the_order_and_resumes_at_that_task(
    place, serviceable_area, settings, lead_user, django_capture_on_commit_callbacks
):
    settings.NETWORK_SIMULATOR_RULES = [
        {
            "when": {"exchange": "Westminster"},
            "step": "allocate_address",
            "error": "ADDRESS_POOL_EXHAUSTED",
            "transient": False,
            "fail_attempts": 1,
        }
    ]
    order = place(serviceable_area)

    assert order.status == OrderStatus.EXCEPTION
    states = task_states(order)
    assert states["2.allocate_address"] == TaskState.FAILED
    assert states["3.register_cpe"] == TaskState.DONE
    assert states["1.apply_speed_profile"] == TaskState.DONE
    assert states["1.activate_line"] == TaskState.WAITING
    case = ExceptionCase.objects.get(order=order)
    assert case.reason_code == ReasonCode.ADDRESS_POOL_EXHAUSTED
    assert case.task.key == "2.allocate_address"
    done_before = dict(FulfilmentTask.objects.filter(order=order).values_list("key", "attempts"))

    with django_capture_on_commit_callbacks(execute=True):
        exception_case_retry(case, acting_user=lead_user)

    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    after = dict(FulfilmentTask.objects.filter(order=order).values_list("key", "attempts"))
    assert after["2.allocate_address"] == 2
    for key in ("1.reserve_port", "1.create_subscriber", "1.apply_speed_profile", "3.register_cpe"):
        assert after[key] == done_before[key] == 1, key
    retry = TaskAttempt.objects.get(task__key="2.allocate_address", task__order=order, number=2)
    assert retry.trigger == TaskAttempt.Trigger.MANUAL_RETRY and retry.requested_by == lead_user
    case.refresh_from_db()
    assert case.resolution == ExceptionCase.Resolution.RETRY_SUCCEEDED


def test_cancelling_an_undeliverable_add_on_completes_the_order_as_partial(
    place, serviceable_area, settings, lead_user, django_capture_on_commit_callbacks
):
    settings.NETWORK_SIMULATOR_RULES = [
        {"when": {}, "step": "allocate_address", "error": "ADDRESS_POOL_EXHAUSTED"}
    ]
    order = place(serviceable_area)
    case = ExceptionCase.objects.get(order=order)
    static_ip = order.items.get(item_id="2")

    with django_capture_on_commit_callbacks(execute=True):
        exception_case_cancel_item(
            case, item=static_ip, acting_user=lead_user, reason="Pool empty for weeks."
        )

    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIAL
    assert dict(order.items.values_list("item_id", "state")) == {
        "1": ItemState.COMPLETED,
        "2": ItemState.CANCELLED,
        "3": ItemState.COMPLETED,
    }
    billed = set(
        BillingCharge.objects.filter(account__order=order).values_list("item__item_id", flat=True)
    )
    assert billed == {"1", "3"}
    assert set(
        Product.objects.filter(order=order).values_list("order_item__item_id", flat=True)
    ) == {
        "1",
        "3",
    }


def test_a_transient_failure_retries_the_task_alone(place, flaky_area):
    order = place(flaky_area)

    assert order.status == OrderStatus.COMPLETED
    subscriber = FulfilmentTask.objects.get(order=order, key="1.create_subscriber")
    assert subscriber.attempts == 2
    log = list(subscriber.attempt_log.values_list("outcome", "trigger"))
    assert log == [("failed", "initial"), ("succeeded", "auto_retry")]
    assert FulfilmentTask.objects.get(order=order, key="1.reserve_port").attempts == 1


def test_manual_tasks_wait_for_people_and_the_plan_goes_on_as_each_is_recorded(
    place, manual_area, provisioning_user, django_capture_on_commit_callbacks
):
    # Given a three-item order where the network is not automated
    order = place(manual_area)
    assert order.status == OrderStatus.AWAITING_MANUAL
    assert sorted(
        FulfilmentTask.objects.filter(order=order, state=TaskState.READY).values_list(
            "key", flat=True
        )
    ) == ["1.reserve_port", "3.register_cpe"]
    # A task done by hand needs a note saying what was done
    port = FulfilmentTask.objects.get(order=order, key="1.reserve_port")
    with pytest.raises(TaskError) as refused:
        task_complete_by_hand(port, actor=provisioning_user, note=" ")
    assert "note" in refused.value.field_errors
    # When people do the tasks as they become ready, recording what they did
    while True:
        ready = FulfilmentTask.objects.filter(order=order, state=TaskState.READY).order_by("pk")
        if not ready:
            break
        with django_capture_on_commit_callbacks(execute=True):
            for task in ready:
                task_complete_by_hand(
                    task,
                    actor=provisioning_user,
                    note=f"Done at the cabinet: {task.key}.",
                    network_reference="EH-3/1/17" if task.key == "1.reserve_port" else "",
                )
    # Then the order is live, confirmed by the person who did the last task, and billed
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    activated = order.events.get(to_status=OrderStatus.ACTIVATED)
    assert activated.actor == provisioning_user
    assert set(FulfilmentTask.objects.filter(order=order).values_list("done_by", flat=True)) == {
        provisioning_user.pk
    }
    assert BillingCharge.objects.filter(account__order=order).count() == 3
    line = Product.objects.get(order=order, order_item__item_id="1")
    assert line.network_identifiers == {"port": "EH-3/1/17"}
    # ... and a task done twice (two people at once) is refused the second time
    with pytest.raises(TaskError, match="someone acted on it first"):
        task_complete_by_hand(port, actor=provisioning_user, note="Again.")
