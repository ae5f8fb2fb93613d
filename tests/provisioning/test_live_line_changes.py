"""Changes to a customer's live line (orders.changes): each an order of its own about the line's
product, following its specification's plan for the change; completion changes the product in
the installed base. A plan change applies the new speed profile; a suspension bars the line and
a resumption lifts the bar; a cease deactivates the line first and takes it and its add-ons off
the network; an add-on can be taken off alone. One order at a time per line."""

from __future__ import annotations

import pytest

from inventory.models import Product, ProductStatus
from orders.changes import order_submit_change
from orders.errors import DuplicateOrder
from orders.items import ItemsInvalid
from orders.models import Order
from orders.states import EventSource, ItemAction, ItemChange, OrderStatus
from provisioning.models import FulfilmentTask, TaskState
from tests.factories import (
    PlanFactory,
    RouterOfferingFactory,
    StaticIpOfferingFactory,
    submit_order,
)
from tests.provisioning.running import held_by_network

pytestmark = pytest.mark.django_db


def change(line: Product, what: str, capture, **kwargs) -> Order:
    with capture(execute=True):
        submission = order_submit_change(
            line.pk, what, channel=EventSource.SUPPORT_PORTAL, submitted_by=None, **kwargs
        )
    return Order.objects.get(pk=submission.order.pk)


def tasks_of(order: Order) -> dict[str, FulfilmentTask]:
    return {t.key: t for t in FulfilmentTask.objects.filter(order=order)}


@pytest.fixture
def line_with_add_ons(plan, serviceable_area, django_capture_on_commit_callbacks) -> Product:
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(
            plan=plan,
            add_ons=(StaticIpOfferingFactory(), RouterOfferingFactory()),
            area=serviceable_area,
            email="kim@example.com",
        ).order
    return Product.objects.get(order=order, parent__isnull=True)


def test_an_upgrade_applies_the_new_speed_and_moves_the_product_to_the_new_plan(
    live_line, django_capture_on_commit_callbacks
):
    gigabit = PlanFactory(code="fibre-900", name="Fibre 900", download_mbps=900)

    order = change(live_line, ItemChange.PLAN, django_capture_on_commit_callbacks, offering=gigabit)

    # Its own order, about the line, priced at the new plan, with the new speed applied
    assert order.pk != live_line.order_id and order.product_ref == live_line.pk
    item = order.items.get()
    assert (item.action, item.change, item.from_offering) == (
        ItemAction.MODIFY,
        ItemChange.PLAN,
        live_line.offering,
    )
    assert list(tasks_of(order)) == ["1.apply_speed_profile"]
    assert tasks_of(order)["1.apply_speed_profile"].is_ponr
    assert order.status == OrderStatus.COMPLETED
    live_line.refresh_from_db()
    assert live_line.offering == gigabit and live_line.name == "Fibre 900"
    assert live_line.characteristics["downloadSpeed"] == 900
    assert live_line.status == ProductStatus.ACTIVE


def test_a_suspension_bars_the_line_and_a_resumption_lifts_the_bar(
    live_line, django_capture_on_commit_callbacks
):
    suspended = change(live_line, ItemChange.SUSPEND, django_capture_on_commit_callbacks)

    assert list(tasks_of(suspended)) == ["1.suspend_service"]
    assert suspended.status == OrderStatus.COMPLETED
    live_line.refresh_from_db()
    assert live_line.status == ProductStatus.SUSPENDED

    # A suspended line cannot be suspended again, or changed; it can be resumed
    with pytest.raises(ItemsInvalid) as refused:
        change(live_line, ItemChange.SUSPEND, django_capture_on_commit_callbacks)
    assert "is suspended" in refused.value.item_errors["1"]

    resumed = change(live_line, ItemChange.RESUME, django_capture_on_commit_callbacks)
    assert list(tasks_of(resumed)) == ["1.resume_service"]
    live_line.refresh_from_db()
    assert live_line.status == ProductStatus.ACTIVE


def test_an_active_line_cannot_be_resumed(live_line, django_capture_on_commit_callbacks):
    with pytest.raises(ItemsInvalid) as refused:
        change(live_line, ItemChange.RESUME, django_capture_on_commit_callbacks)
    assert "only a suspended line can be resumed" in refused.value.item_errors["1"]


def test_a_cease_takes_the_line_and_its_add_ons_off_the_network_after_deactivating_it(
    line_with_add_ons, django_capture_on_commit_callbacks
):
    origin = line_with_add_ons.order
    assert held_by_network(origin)  # what the order that delivered it made

    order = change(line_with_add_ons, ItemAction.DELETE, django_capture_on_commit_callbacks)

    # One order: the line and each add-on ceased, the line deactivated before anything else
    assert [(i.item_id, i.action) for i in order.items.order_by("position")] == [
        ("1", ItemAction.DELETE),
        ("2", ItemAction.DELETE),
        ("3", ItemAction.DELETE),
    ]
    tasks = tasks_of(order)
    assert tasks["1.activate_line.undo"].is_ponr
    assert tasks["1.activate_line.undo"].depends_on == []
    assert tasks["2.bind_address.undo"].depends_on == ["1.activate_line.undo"]
    assert sorted(tasks["1.create_subscriber.undo"].depends_on) == [
        "1.apply_speed_profile.undo",
        "2.allocate_address.undo",
    ]
    assert {t.state for t in tasks.values()} == {TaskState.DONE}
    assert order.status == OrderStatus.COMPLETED
    # ... the network holds nothing of the line any more, and its history stays
    assert held_by_network(origin) == set()
    products = Product.objects.filter(order=origin)
    assert {p.status for p in products} == {ProductStatus.TERMINATED}
    assert all(p.termination_date for p in products)


def test_an_add_on_is_taken_off_a_live_line_alone(
    line_with_add_ons, django_capture_on_commit_callbacks
):
    router = line_with_add_ons.add_ons.get(specification__kind="router")

    order = change(
        line_with_add_ons, "remove", django_capture_on_commit_callbacks, add_on_id=router.pk
    )

    assert list(tasks_of(order)) == ["2.register_cpe.undo"]
    assert order.status == OrderStatus.COMPLETED
    router.refresh_from_db()
    line_with_add_ons.refresh_from_db()
    assert router.status == ProductStatus.TERMINATED
    assert line_with_add_ons.status == ProductStatus.ACTIVE
    assert held_by_network(line_with_add_ons.order) >= {"1.activate_line", "2.bind_address"}
    assert "3.register_cpe" not in held_by_network(line_with_add_ons.order)


def test_a_line_takes_one_order_at_a_time(live_line, plan):
    gigabit = PlanFactory(code="fibre-900", name="Fibre 900", download_mbps=900)
    # The first change is taken (its work not run yet)
    first = order_submit_change(
        live_line.pk, ItemChange.PLAN, offering=gigabit, channel=EventSource.API, submitted_by=None
    ).order

    with pytest.raises(DuplicateOrder) as refused:
        order_submit_change(
            live_line.pk, ItemChange.SUSPEND, channel=EventSource.API, submitted_by=None
        )

    assert refused.value.existing == first
    assert "a line takes one order at a time" in refused.value.message


def test_a_plan_change_to_the_same_plan_or_one_the_address_cannot_have_is_refused(
    live_line, django_capture_on_commit_callbacks
):
    with pytest.raises(ItemsInvalid) as same:
        change(
            live_line,
            ItemChange.PLAN,
            django_capture_on_commit_callbacks,
            offering=live_line.offering,
        )
    assert "on Fibre 500 already" in same.value.item_errors["1"]

    too_fast = PlanFactory(code="fibre-9000", name="Fibre 9000", download_mbps=9000)
    with pytest.raises(ItemsInvalid) as unavailable:
        change(live_line, ItemChange.PLAN, django_capture_on_commit_callbacks, offering=too_fast)
    assert "not available at this address" in unavailable.value.item_errors["1"]
