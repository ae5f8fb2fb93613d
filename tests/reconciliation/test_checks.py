"""reconciliation.checks: each check finds the disagreement seeded for it, and none of them
finds anything in a history the real services made consistent."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from billing.models import BillingAccount, BillingCharge, BillingWaiver
from inventory.models import Product, ProductStatus
from orders.add_ons import order_submit_add_ons
from orders.fulfilment import TaskType
from orders.models import Order, OrderItem
from orders.services import order_cancel
from orders.states import EventSource, ItemState, OrderStatus
from provisioning.models import SimulatedNetworkRecord
from reconciliation import checks
from reconciliation.models import MismatchKind
from tests.conftest import _area
from tests.factories import (
    BillingAccountFactory,
    OrderFactory,
    PlanFactory,
    StaticIpOfferingFactory,
    submit_order,
)
from tests.reconciliation.conftest import context, found, found_by_all

pytestmark = pytest.mark.django_db

AGO = datetime.timedelta(hours=2)


def test_a_consistent_history_has_no_mismatch(
    live_line, change_line, plan, manual_area, faulty_area, django_capture_on_commit_callbacks
):
    # given lines made, changed and ceased through the real services: one with add-ons, one
    # of them taken off; one ceased with its add-ons; add-ons ordered on a live line; a plan
    # change, a suspension, a cease; an order cancelled after the network did part of its
    # work (compensated), one in the exception queue, one waiting for a person
    kims = live_line(add_ons=True, email="kim@example.com")
    change_line(kims, "remove", add_on_id=kims.add_ons.get(specification__kind="router").pk)
    change_line(live_line(add_ons=True, email="max@example.com"), "delete")
    with django_capture_on_commit_callbacks(execute=True):
        order_submit_add_ons(
            live_line(email="una@example.com").pk,
            [StaticIpOfferingFactory()],
            channel=EventSource.SUPPORT_PORTAL,
            submitted_by=None,
        )
    change_line(
        live_line(email="pat@example.com"), "modify", offering=PlanFactory(name="Fibre 900")
    )
    change_line(live_line(email="sam@example.com"), "suspend")
    change_line(live_line(email="lee@example.com"), "delete")
    poolham = _area("PO1 1AA", "Poolham")
    with django_capture_on_commit_callbacks(execute=True):
        held = submit_order(
            plan=plan, add_ons=(StaticIpOfferingFactory(),), area=poolham, email="ann@example.com"
        ).order
    assert Order.objects.get(pk=held.pk).status == OrderStatus.EXCEPTION
    assert SimulatedNetworkRecord.objects.filter(order_ref=held.pk, undone_at=None).exists()
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(held.pk, actor=None, reason="Customer withdrew.", source=EventSource.ADMIN)
    assert Order.objects.get(pk=held.pk).status == OrderStatus.CANCELLED
    with django_capture_on_commit_callbacks(execute=True):
        submit_order(plan=plan, area=faulty_area, email="bo@example.com")
        submit_order(plan=plan, area=manual_area, email="cy@example.com")
    # when every check runs with no grace period
    # then none finds anything
    assert found_by_all() == []


def _age(order_id: str) -> None:
    """The order last changed two hours ago (past any grace period)."""
    past = timezone.now() - AGO
    Order.objects.filter(pk=order_id).update(updated_at=past, status_changed_at=past)


def _kinds_subjects(findings):
    return [(f.kind, f.subject) for f in findings]


# --- orders against billing -----------------------------------------------------------------
def test_a_live_line_with_no_billing_account_is_found(live_line):
    # given a live line whose billing account is gone (its charges with it)
    line = live_line()
    BillingAccount.objects.filter(order_id=line.order_id).delete()
    # when the check runs, then it names the order
    assert _kinds_subjects(found(checks.order_active_without_billing_account)) == [
        (MismatchKind.ORDER_ACTIVE_WITHOUT_BILLING_ACCOUNT, line.order_id)
    ]


def test_billing_for_a_cancelled_order_is_found():
    # given a cancelled order with an active billing account
    order = OrderFactory(status=OrderStatus.CANCELLED)
    BillingAccountFactory(order=order)
    # when the check runs, then it names the order and says what runs
    (finding,) = found(checks.billing_running_for_cancelled_order)
    assert (finding.kind, finding.subject, finding.order_id) == (
        MismatchKind.BILLING_RUNNING_FOR_CANCELLED_ORDER,
        order.pk,
        order.pk,
    )
    assert "billing account" in finding.detail and "is active" in finding.detail


def test_billed_terms_that_differ_from_the_order_are_found(live_line):
    # given a live line billed at another price than ordered
    line = live_line()
    account = BillingAccount.objects.get(order_id=line.order_id)
    BillingAccount.objects.filter(pk=account.pk).update(monthly_price="99.00")
    # then the check names the account and both prices
    (finding,) = found(checks.billing_terms_differ_from_order)
    assert finding.subject == f"account:{account.pk}" and finding.order_id == line.order_id
    assert "99.00" in finding.detail and str(account.ordered_monthly_price) in finding.detail


# --- provisioning tasks against the network -------------------------------------------------
def test_a_done_task_the_network_lost_is_found(live_line):
    # given a live line whose subscriber the network no longer holds
    line = live_line()
    SimulatedNetworkRecord.objects.filter(
        order_ref=line.order_id, task_type=TaskType.CREATE_SUBSCRIBER
    ).update(undone_at=timezone.now())
    # then the check names that task of that order's item, and the product
    (finding,) = found(checks.task_done_but_network_missing)
    assert finding.subject == f"{line.order_id}:1:{TaskType.CREATE_SUBSCRIBER}"
    assert finding.product_ref == line.pk and finding.order_id == line.order_id


def test_a_subscriber_for_no_order_is_found():
    # given a subscriber on the network for an order ID that no order has
    SimulatedNetworkRecord.objects.create(
        order_ref="GHOST0001",
        item_ref="1",
        task_type=TaskType.CREATE_SUBSCRIBER,
        reference="CREATE_SUBSCRIBER-0",
        identifiers={"subscriber": "sub-ghost"},
        done_at=timezone.now() - AGO,
    )
    # then the check names it, with no order
    (finding,) = found(checks.network_has_unknown_subscriber)
    assert (finding.subject, finding.order_id) == ("GHOST0001:1", None)
    assert "sub-ghost" in finding.detail


def test_the_unknown_subscriber_check_pages_through_the_whole_network(live_line):
    # given more subscribers on the network than one page holds, a few unknown among them
    live_line()
    for n in range(5):
        SimulatedNetworkRecord.objects.create(
            order_ref=f"GHOST{n:04d}",
            item_ref="1",
            task_type=TaskType.CREATE_SUBSCRIBER,
            done_at=timezone.now() - AGO,
        )
    ctx = checks.CheckContext(settled_before=timezone.now(), adapter=context().adapter, chunk=2)
    # when the check reads the network two at a time, then it finds every unknown one
    subjects = [f.subject for f in checks.network_has_unknown_subscriber(ctx)]
    assert subjects == [f"GHOST{n:04d}:1" for n in range(5)]


def test_what_the_network_holds_for_a_cancelled_order_is_found():
    # given a cancelled order whose port the network still holds
    order = OrderFactory(status=OrderStatus.CANCELLED)
    SimulatedNetworkRecord.objects.create(
        order_ref=order.pk, item_ref="1", task_type=TaskType.RESERVE_PORT, reference="PORT-1"
    )
    # then the check names the order and what is held
    (finding,) = found(checks.network_holds_for_closed_order)
    assert finding.subject == order.pk and "reserve access port of item 1" in finding.detail


def test_what_the_network_holds_for_a_ceased_product_is_found(live_line, change_line):
    # given a ceased line whose subscriber is back on the network
    line = live_line()
    change_line(line, "delete")
    assert Product.objects.get(pk=line.pk).status == ProductStatus.TERMINATED
    SimulatedNetworkRecord.objects.filter(
        order_ref=line.order_id, task_type=TaskType.CREATE_SUBSCRIBER
    ).update(undone_at=None)
    # then the check names the product
    (finding,) = found(checks.network_holds_for_terminated_product)
    assert finding.subject == str(line.pk) and "create subscriber" in finding.detail


# --- the installed base against billing -------------------------------------------------------
def test_a_live_product_with_no_charge_running_is_found(live_line):
    # given a live line whose charge was ended
    line = live_line()
    BillingCharge.objects.filter(item__order_id=line.order_id).update(end_date=timezone.localdate())
    # then the check names the product
    assert _kinds_subjects(found(checks.product_live_without_charge)) == [
        (MismatchKind.PRODUCT_LIVE_WITHOUT_CHARGE, str(line.pk))
    ]


def test_a_charge_running_for_a_ceased_product_is_found(live_line, change_line):
    # given a ceased line whose charge runs on
    line = live_line()
    change_line(line, "delete")
    BillingCharge.objects.filter(item__order_id=line.order_id).update(end_date=None, ended_by=None)
    # then the check names the product and the charge
    (finding,) = found(checks.charge_running_for_terminated_product)
    assert finding.subject == str(line.pk) and "still runs" in finding.detail


def test_a_product_its_order_did_not_deliver_is_found(live_line):
    # given a product whose order item is not completed
    line = live_line()
    OrderItem.objects.filter(pk=line.order_item_id).update(state=ItemState.CANCELLED)
    # then the check names the product and says why
    (finding,) = found(checks.product_without_order)
    assert finding.subject == str(line.pk) and "item 1 is cancelled" in finding.detail


def test_a_delivered_item_missing_from_the_installed_base_is_found(live_line):
    # given a completed order whose product is gone
    line = live_line()
    Product.objects.filter(pk=line.pk).delete()
    # then the check names the order and the item
    (finding,) = found(checks.order_delivered_without_product)
    assert finding.subject == line.order_id and "item(s) 1 are" in finding.detail


# --- the grace period -------------------------------------------------------------------------
def test_an_order_changed_within_the_grace_period_is_not_a_mismatch_yet(live_line):
    # given a live line with no billing account, changed a minute ago
    line = live_line()
    BillingAccount.objects.filter(order_id=line.order_id).delete()
    ctx = checks.CheckContext(
        settled_before=timezone.now() - datetime.timedelta(minutes=30),
        adapter=context().adapter,
    )
    # when the check runs with a 30-minute grace period, then it is not reported yet
    assert list(checks.order_active_without_billing_account(ctx)) == []
    # and once the order has been still for longer, it is
    _age(line.order_id)
    assert [f.subject for f in checks.order_active_without_billing_account(ctx)] == [line.order_id]


def test_a_line_whose_billing_was_waived_is_not_a_mismatch(live_line, lead_user):
    # given a live line with no account or charge because its billing was waived
    line = live_line()
    BillingAccount.objects.filter(order_id=line.order_id).delete()
    BillingWaiver.objects.create(order_id=line.order_id, waived_by=lead_user, reason="Staff line.")
    # then neither the order nor its product is reported for it
    assert found(checks.order_active_without_billing_account) == []
    assert found(checks.product_live_without_charge) == []
