"""The static address pools as the network adapter of allocate_address
(provisioning.adapters.addresses), through real orders: the static IP add-on gets the lowest free
address of its area's pool and the product shows it; no pool, or a full one, is
ADDRESS_POOL_EXHAUSTED in the exception queue, and adding addresses lets the retry through; a
cancelled order, a cease and an add-on taken off release the address; what is held is listed for
the reconciliation by the (order, item, task) key."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from addressing import services
from addressing.models import AddressAssignment
from inventory.models import Product, ProductStatus
from orders.changes import order_submit_change
from orders.fulfilment import TaskType
from orders.models import Order
from orders.services import order_cancel
from orders.states import EventSource, ItemAction, OrderStatus
from provisioning.adapters import get_adapter
from provisioning.adapters.addresses import StaticAddressAdapter
from provisioning.adapters.base import TaskRequest
from provisioning.models import ExceptionCase, FulfilmentTask, ReasonCode, TaskState
from provisioning.services import exception_case_retry, fulfilment_start
from tests.factories import StaticIpOfferingFactory, submit_order
from tests.provisioning.running import run_ready

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def pools_allocate_addresses(settings):
    """allocate_address goes to the pools; every other task to the simulator."""
    settings.PROVISIONING_NETWORK_ADAPTER = "provisioning.adapters.routed.RoutedNetworkAdapter"
    settings.PROVISIONING_TASK_ADAPTERS = {
        TaskType.ALLOCATE_ADDRESS: "provisioning.adapters.addresses.StaticAddressAdapter"
    }
    settings.ADDRESSING_QUARANTINE_DAYS = 0


def order_with_static_ip(plan, area, capture, **customer) -> Order:
    with capture(execute=True):
        order = submit_order(
            plan=plan, add_ons=(StaticIpOfferingFactory(),), area=area, **customer
        ).order
    return Order.objects.get(pk=order.pk)


def change(line: Product, what: str, capture, **kwargs) -> Order:
    with capture(execute=True):
        submission = order_submit_change(
            line.pk, what, channel=EventSource.SUPPORT_PORTAL, submitted_by=None, **kwargs
        )
    return Order.objects.get(pk=submission.order.pk)


def test_a_static_ip_gets_the_pools_first_free_address_and_its_product_shows_it(
    plan, serviceable_area, make_pool, django_capture_on_commit_callbacks
):
    make_pool("198.51.100.0/28", serviceable_area, gateway="198.51.100.1")

    order = order_with_static_ip(plan, serviceable_area, django_capture_on_commit_callbacks)

    assert order.status == OrderStatus.COMPLETED
    held = AddressAssignment.objects.get()
    assert (held.address, held.order_ref, held.item_ref) == ("198.51.100.2", order.pk, "2")
    assert held.order_item == order.items.get(item_id="2")
    task = FulfilmentTask.objects.get(order=order, key="2.allocate_address")
    assert task.result == {"ipv4Address": "198.51.100.2"}
    assert task.network_reference == held.reference
    # The bind task saw it (the simulator binds what it is given) and the product carries it
    assert FulfilmentTask.objects.get(order=order, key="2.bind_address").state == TaskState.DONE
    static_ip = Product.objects.get(order=order, parent__isnull=False)
    assert static_ip.network_identifiers["ipv4Address"] == "198.51.100.2"

    # A second customer in the area gets the next one
    other = order_with_static_ip(
        plan, serviceable_area, django_capture_on_commit_callbacks, email="b@example.com"
    )
    assert FulfilmentTask.objects.get(order=other, key="2.allocate_address").result == {
        "ipv4Address": "198.51.100.3"
    }


def test_no_pool_for_the_area_holds_the_order_on_its_static_ip_until_one_is_added(
    plan, serviceable_area, make_pool, lead_user, django_capture_on_commit_callbacks
):
    # Given an area with no static address pool
    order = order_with_static_ip(plan, serviceable_area, django_capture_on_commit_callbacks)

    # Then the static IP fails, for good (no retries), and the lead's exception queue has it
    assert order.status == OrderStatus.EXCEPTION
    task = FulfilmentTask.objects.get(order=order, key="2.allocate_address")
    assert (task.state, task.attempts) == (TaskState.FAILED, 1)
    case = ExceptionCase.objects.get(order=order)
    assert case.reason_code == ReasonCode.ADDRESS_POOL_EXHAUSTED
    assert f"No static address pool serves area {serviceable_area.postcode}" in (case.reason_detail)

    # When a pool is added and the lead retries, the order completes with its address
    make_pool("203.0.113.0/29", serviceable_area)
    with django_capture_on_commit_callbacks(execute=True):
        exception_case_retry(case, acting_user=lead_user)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert AddressAssignment.objects.get().address == "203.0.113.1"


def test_a_full_pool_is_address_pool_exhausted_naming_the_pool(
    plan, serviceable_area, make_pool, django_capture_on_commit_callbacks
):
    make_pool("203.0.113.0/30", serviceable_area, gateway="203.0.113.1", name="Westminster")
    order_with_static_ip(plan, serviceable_area, django_capture_on_commit_callbacks)  # .2

    order = order_with_static_ip(
        plan, serviceable_area, django_capture_on_commit_callbacks, email="b@example.com"
    )

    case = ExceptionCase.objects.get(order=order)
    assert case.reason_code == ReasonCode.ADDRESS_POOL_EXHAUSTED
    assert "Westminster (203.0.113.0/30)" in case.reason_detail
    assert AddressAssignment.objects.active().count() == 1


def test_a_cancelled_order_releases_its_address(plan, serviceable_area, make_pool, sales_user):
    make_pool("198.51.100.0/28", serviceable_area)
    order = submit_order(
        plan=plan, add_ons=(StaticIpOfferingFactory(),), area=serviceable_area
    ).order
    fulfilment_start(order.pk)
    run_ready(order, until="1.activate_line")
    assert AddressAssignment.objects.active().get().address == "198.51.100.1"

    order = order_cancel(
        Order.objects.get(pk=order.pk),
        actor=sales_user,
        reason="Customer changed their mind.",
        source=EventSource.SALES_PORTAL,
    )
    ran = run_ready(order)

    assert "2.allocate_address.undo" in ran
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert not AddressAssignment.objects.active().exists()
    assert AddressAssignment.objects.get().released_at is not None
    assert get_adapter().lookup([order.pk]) == []


def test_a_cease_releases_the_lines_address_for_the_next_customer(
    plan, serviceable_area, make_pool, django_capture_on_commit_callbacks
):
    make_pool("198.51.100.0/30", serviceable_area)  # two addresses: .1 and .2
    first = order_with_static_ip(plan, serviceable_area, django_capture_on_commit_callbacks)
    line = Product.objects.get(order=first, parent__isnull=True)

    cease = change(line, ItemAction.DELETE, django_capture_on_commit_callbacks)

    assert cease.status == OrderStatus.COMPLETED
    assert FulfilmentTask.objects.get(order=cease, key="2.allocate_address.undo").state == (
        TaskState.DONE
    )
    held = AddressAssignment.objects.get()
    assert (held.order_ref, held.released_at is not None) == (first.pk, True)
    # The next customer gets the lowest free address: the one the cease freed
    nxt = order_with_static_ip(
        plan, serviceable_area, django_capture_on_commit_callbacks, email="b@example.com"
    )
    assert FulfilmentTask.objects.get(order=nxt, key="2.allocate_address").result == {
        "ipv4Address": "198.51.100.1"
    }


def test_taking_the_static_ip_off_a_live_line_releases_only_its_address(
    plan, serviceable_area, make_pool, django_capture_on_commit_callbacks
):
    make_pool("198.51.100.0/28", serviceable_area)
    first = order_with_static_ip(plan, serviceable_area, django_capture_on_commit_callbacks)
    other = order_with_static_ip(
        plan, serviceable_area, django_capture_on_commit_callbacks, email="b@example.com"
    )
    line = Product.objects.get(order=first, parent__isnull=True)
    static_ip = line.add_ons.get()

    removal = change(line, "remove", django_capture_on_commit_callbacks, add_on_id=static_ip.pk)

    assert removal.status == OrderStatus.COMPLETED
    static_ip.refresh_from_db()
    assert static_ip.status == ProductStatus.TERMINATED
    assert [(h.order_ref, h.address) for h in AddressAssignment.objects.active()] == [
        (other.pk, "198.51.100.2")
    ]


def request_for(order_id: str, *, undo: bool = False, postcode: str = "SW1A1AA") -> TaskRequest:
    return TaskRequest(
        order_id=order_id,
        item_id="2",
        task_type=TaskType.ALLOCATE_ADDRESS,
        attempt=1,
        postcode=postcode,
        address="1 High Street",
        exchange="Westminster",
        technology="fttp",
        offering_code="static-ip",
        plan_code="fibre-500",
        undo=undo,
    )


def test_the_adapter_answers_the_same_on_a_retry_and_an_undo_twice_succeeds(
    serviceable_area, make_pool
):
    make_pool("198.51.100.0/28", serviceable_area)
    adapter = StaticAddressAdapter()

    first = adapter.execute(request_for("ORDERA"))
    again = adapter.execute(request_for("ORDERA"))

    assert first.ok and again == first
    assert first.identifiers == {"ipv4Address": "198.51.100.1"}
    undone = adapter.execute(request_for("ORDERA", undo=True))
    assert undone.ok
    assert adapter.execute(request_for("ORDERA", undo=True)).ok
    assert adapter.execute(request_for("NEVER", undo=True)).ok
    assert AddressAssignment.objects.get().released_at is not None


def test_the_adapter_refuses_tasks_it_does_not_do(serviceable_area):
    request = TaskRequest(**{**request_for("ORDERA").__dict__, "task_type": "reserve_port"})

    result = StaticAddressAdapter().execute(request)

    assert (result.ok, result.error_code, result.transient) == (
        False,
        ReasonCode.ADAPTER_ERROR,
        False,
    )


def test_what_is_held_is_looked_up_by_order_and_paged_by_key(serviceable_area, make_pool):
    make_pool("198.51.100.0/24", serviceable_area)
    adapter = StaticAddressAdapter()
    for order_id in ("ORDERC", "ORDERA", "ORDERB", "ORDERD"):
        assert adapter.execute(request_for(order_id)).ok
    adapter.execute(request_for("ORDERD", undo=True))

    assert [
        (h.order_id, h.identifiers["ipv4Address"])
        for h in adapter.lookup(["ORDERA", "ORDERD", "ORDERC"])
    ] == [
        ("ORDERA", "198.51.100.2"),
        ("ORDERC", "198.51.100.1"),
    ]
    first = adapter.holdings(limit=2)
    assert [h.key for h in first] == [
        ("ORDERA", "2", TaskType.ALLOCATE_ADDRESS),
        ("ORDERB", "2", TaskType.ALLOCATE_ADDRESS),
    ]
    assert [h.key for h in adapter.holdings(after=first[-1].key, limit=2)] == [
        ("ORDERC", "2", TaskType.ALLOCATE_ADDRESS)
    ]
    # A key of another task type of the same item: the item's address comes after it or not
    assert [h.order_id for h in adapter.holdings(after=("ORDERB", "2", "activate_line"))] == [
        "ORDERB",
        "ORDERC",
    ]
    assert [h.order_id for h in adapter.holdings(after=("ORDERB", "2", "bind_address"))] == [
        "ORDERC"
    ]
    assert adapter.holdings(task_type=TaskType.REGISTER_CPE) == []
    # Through the routed adapter, as the reconciliation reads it
    routed = get_adapter()
    assert [h.order_id for h in routed.holdings(task_type=TaskType.ALLOCATE_ADDRESS)] == [
        "ORDERA",
        "ORDERB",
        "ORDERC",
    ]


def test_losing_every_race_for_an_address_is_a_transient_failure(
    serviceable_area, make_pool, monkeypatch
):
    make_pool("198.51.100.0/28", serviceable_area)

    def always_taken(*args, **kwargs):
        raise IntegrityError("address_held_once")

    monkeypatch.setattr(services, "_allocate_once", always_taken)

    result = StaticAddressAdapter().execute(request_for("ORDERA"))

    assert (result.ok, result.error_code, result.transient) == (
        False,
        ReasonCode.NETWORK_TIMEOUT,
        True,
    )
    assert "other allocations took each address found first" in result.error_message
