"""Add-ons for a customer's live line (orders.add_ons): the line is the order's noChange item,
the order is at the line's address, only the add-ons are planned (their steps that wait for the
line are met: it is live), the tasks get the line's identifiers from the installed base, the
charges go on the line's bill and the products on the line's product."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.models import BillingAccount, BillingCharge
from inventory.models import Product, ProductStatus
from orders.add_ons import order_submit_add_ons
from orders.items import ItemsInvalid
from orders.models import Order
from orders.states import EventSource, ItemAction, ItemState, OrderStatus
from provisioning.models import FulfilmentTask, TaskState
from tests.factories import RouterOfferingFactory, StaticIpOfferingFactory, submit_order

pytestmark = pytest.mark.django_db


def add(line: Product, *add_ons, capture) -> Order:
    with capture(execute=True):
        submission = order_submit_add_ons(
            line.pk, add_ons, channel=EventSource.SALES_PORTAL, submitted_by=None
        )
    return Order.objects.get(pk=submission.order.pk)


def test_a_static_ip_on_a_live_line_plans_only_its_own_tasks_and_completes(
    live_line, django_capture_on_commit_callbacks
):
    static_ip = StaticIpOfferingFactory()

    order = add(live_line, static_ip, capture=django_capture_on_commit_callbacks)

    # The order is the line's customer's, at the line's address, priced for the add-on only
    assert order.customer_id == live_line.customer_id
    assert order.service_address_line1 == "9 Elm Row"
    assert order.monthly_price == Decimal("5.00")
    line_item, ip_item = order.items.order_by("position")
    assert (line_item.action, line_item.product_ref) == (ItemAction.NO_CHANGE, live_line.pk)
    assert ip_item.parent == line_item
    # Only the static IP's steps, not waiting for the (live) line's, and bound to its subscriber
    tasks = {t.key: t for t in FulfilmentTask.objects.filter(order=order)}
    assert sorted(tasks) == ["2.allocate_address", "2.bind_address"]
    assert tasks["2.allocate_address"].depends_on == []
    assert {t.state for t in tasks.values()} == {TaskState.DONE}
    assert order.status == OrderStatus.COMPLETED
    assert set(order.items.values_list("state", flat=True)) == {ItemState.COMPLETED}

    # Billed on the line's account, from today, and the line's own charge is not repeated
    account = BillingAccount.objects.get(order=live_line.order)
    assert not BillingAccount.objects.filter(order=order).exists()
    assert account.monthly_price == Decimal("40.00")
    assert list(BillingCharge.objects.filter(item__order=order).values_list("item", flat=True)) == [
        ip_item.pk
    ]
    # In the installed base on the line, with the address the network allocated
    product = Product.objects.get(order=order)
    assert product.parent == live_line
    assert product.network_identifiers["ipv4Address"]
    assert Product.objects.filter(customer_id=live_line.customer_id).count() == 2


def test_a_second_add_on_of_a_kind_the_line_has_is_refused_naming_the_item(
    live_line, django_capture_on_commit_callbacks
):
    static_ip = StaticIpOfferingFactory()
    add(live_line, static_ip, capture=django_capture_on_commit_callbacks)

    with pytest.raises(ItemsInvalid) as refused:
        add(
            live_line,
            static_ip,
            RouterOfferingFactory(),
            capture=django_capture_on_commit_callbacks,
        )

    assert "has a static" in refused.value.item_errors["2"]
    assert "3" not in refused.value.item_errors
    assert Order.objects.filter(customer_id=live_line.customer_id).count() == 2


@pytest.mark.parametrize("status", [ProductStatus.SUSPENDED, ProductStatus.TERMINATED])
def test_add_ons_go_on_an_active_line_only(live_line, status, django_capture_on_commit_callbacks):
    Product.objects.filter(pk=live_line.pk).update(status=status)
    before = Order.objects.count()

    with pytest.raises(ItemsInvalid) as refused:
        add(live_line, RouterOfferingFactory(), capture=django_capture_on_commit_callbacks)

    assert f"is {status}" in refused.value.item_errors["1"]
    assert Order.objects.count() == before


def test_an_order_naming_a_live_line_needs_an_add_on(live_line, django_capture_on_commit_callbacks):
    with pytest.raises(ItemsInvalid) as refused:
        add(live_line, capture=django_capture_on_commit_callbacks)
    assert "needs an add-on" in refused.value.item_errors["order"]


def test_a_line_that_is_not_in_the_installed_base_is_refused(plan):
    import uuid

    with pytest.raises(ItemsInvalid) as refused:
        order_submit_add_ons(
            uuid.uuid4(), [RouterOfferingFactory()], channel=EventSource.API, submitted_by=None
        )
    assert "not a line in the installed base" in refused.value.item_errors["1"]


def test_another_customers_line_is_refused_and_nothing_is_written(live_line):
    from orders.installed_base import live_line as look_up
    from orders.items import items_for_live_line
    from orders.models import Customer

    customers = Customer.objects.count()
    with pytest.raises(ItemsInvalid) as refused:
        submit_order(
            items=items_for_live_line(look_up(live_line.pk), [RouterOfferingFactory()]),
            email="someone.else@example.com",
            postcode="SW1A 1AA",
        )
    assert "not this customer's line" in refused.value.item_errors["1"]
    assert Customer.objects.count() == customers
    assert Order.objects.count() == 1
