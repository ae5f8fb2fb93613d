"""Milestones (orders.milestones): every order carries, from its submission, the dates it is due
to reach each stage by, from the targets operations set, and records when it reached each."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.add_ons import order_submit_add_ons
from orders.amendments import order_amend_items
from orders.models import MilestoneTarget, Order, OrderMilestone
from orders.models.milestones import Fulfilment, MilestoneKind, MilestoneStatus, OrderKind
from orders.states import EventSource, OrderStatus
from tests.factories import RouterOfferingFactory, StaticIpOfferingFactory, submit_order

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)


def milestones(order: Order) -> dict[str, OrderMilestone]:
    """The order's milestones by kind ("item_active 2" for item 2's)."""
    found = {}
    for milestone in OrderMilestone.objects.filter(order=order).select_related("item"):
        key = milestone.kind
        if milestone.item is not None:
            key = f"{key} {milestone.item.item_id}"
        found[key] = milestone
    return found


def due_after_submission(order: Order) -> dict[str, datetime.timedelta]:
    return {key: m.due_at - order.submitted_at for key, m in milestones(order).items()}


def test_an_order_in_an_automated_area_is_due_live_within_a_day_of_submission(
    plan, serviceable_area
):
    # When a line with a static IP is ordered where no technician is needed
    order = submit_order(plan=plan, add_ons=(StaticIpOfferingFactory(),), area=serviceable_area)
    order = Order.objects.get(pk=order.order.pk)

    # Then it carries its milestones, none met yet, due from the starting targets
    assert due_after_submission(order) == {
        "accepted": HOUR,
        "provisioning_started": 4 * HOUR,
        "item_active 1": 24 * HOUR,
        "item_active 2": 24 * HOUR,
        "billing_started": 24 * HOUR,
        "completed": 24 * HOUR,
    }
    assert all(m.met_at is None for m in milestones(order).values())


def test_where_a_technician_goes_the_order_is_due_live_within_three_days(plan, manual_area):
    order = submit_order(plan=plan, area=manual_area).order
    order = Order.objects.get(pk=order.pk)

    due = due_after_submission(order)
    assert due["item_active 1"] == 72 * HOUR
    assert due["completed"] == 72 * HOUR
    assert due["accepted"] == HOUR


def test_the_most_specific_target_operations_set_wins(plan, serviceable_area):
    # Given operations promise upgrades and other changes... and new lines in automated areas
    # within 8 hours
    MilestoneTarget.objects.filter(milestone=MilestoneKind.ITEM_ACTIVE).update(active=False)
    MilestoneTarget.objects.create(milestone=MilestoneKind.ITEM_ACTIVE, hours=48)
    MilestoneTarget.objects.create(
        milestone=MilestoneKind.ITEM_ACTIVE,
        fulfilment=Fulfilment.AUTOMATIC,
        order_kind=OrderKind.PROVIDE,
        hours=8,
    )

    # When a new line is ordered in an automated area
    order = Order.objects.get(pk=submit_order(plan=plan, area=serviceable_area).order.pk)

    # Then its line is due live within 8 hours, and the milestone says which target applied
    line_active = milestones(order)["item_active 1"]
    assert line_active.due_at - order.submitted_at == 8 * HOUR
    assert line_active.target.startswith("Item active: 8 h (automatic")


def test_with_no_target_for_a_milestone_the_default_applies_and_says_so(plan, serviceable_area):
    MilestoneTarget.objects.filter(milestone=MilestoneKind.COMPLETED).delete()

    order = Order.objects.get(pk=submit_order(plan=plan, area=serviceable_area).order.pk)

    completed = milestones(order)["completed"]
    assert completed.due_at - order.submitted_at == 24 * HOUR
    assert "default, no target set" in completed.target


def test_a_future_dated_order_is_due_from_its_requested_day(plan, serviceable_area):
    # When the customer asks for their line in ten days
    day = timezone.localdate() + datetime.timedelta(days=10)
    order = submit_order(plan=plan, area=serviceable_area, requested_activation_date=day).order
    order = Order.objects.get(pk=order.pk)

    # Then acceptance is due from now, the work from the start of that day
    start_of_day = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    found = milestones(order)
    assert found["accepted"].due_at == order.submitted_at + HOUR
    assert found["accepted"].met_at is not None  # held until its date: it was accepted
    assert found["provisioning_started"].due_at == start_of_day + 4 * HOUR
    assert found["item_active 1"].due_at == start_of_day + 24 * HOUR


def test_an_order_carried_to_completion_meets_every_milestone_once(
    plan, serviceable_area, django_capture_on_commit_callbacks
):
    # When a line, a static IP and a router are delivered and billed
    with django_capture_on_commit_callbacks(execute=True):
        submitted = submit_order(
            plan=plan,
            add_ons=(StaticIpOfferingFactory(), RouterOfferingFactory()),
            area=serviceable_area,
        ).order
    order = Order.objects.get(pk=submitted.pk)
    assert order.status == OrderStatus.COMPLETED

    # Then every milestone is met, in the order the stages were reached
    found = milestones(order)
    assert set(found) == {
        "accepted",
        "provisioning_started",
        "item_active 1",
        "item_active 2",
        "item_active 3",
        "billing_started",
        "completed",
    }
    assert all(m.status() == MilestoneStatus.COMPLETED for m in found.values())
    assert not any(m.met_late for m in found.values())
    assert found["accepted"].met_at <= found["provisioning_started"].met_at
    assert found["provisioning_started"].met_at <= found["item_active 1"].met_at
    assert found["item_active 1"].met_at <= found["completed"].met_at
    assert found["billing_started"].met_at <= found["completed"].met_at


def test_a_milestone_not_met_by_its_due_date_is_violated(plan, manual_area):
    order = Order.objects.get(pk=submit_order(plan=plan, area=manual_area).order.pk)
    line_active = milestones(order)["item_active 1"]

    assert line_active.status() == MilestoneStatus.YET_TO_REACH
    later = order.submitted_at + 73 * HOUR
    assert line_active.status(now=later) == MilestoneStatus.VIOLATED


def test_an_add_on_order_for_a_live_line_is_due_for_the_add_on_only(live_line):
    # When a static IP is ordered for a live line
    order = order_submit_add_ons(
        live_line.pk,
        (StaticIpOfferingFactory(),),
        channel=EventSource.SALES_PORTAL,
        submitted_by=None,
    ).order

    # Then only the static IP has an "item active" milestone: the line is live already
    assert {k for k in milestones(order) if k.startswith("item_active")} == {"item_active 2"}


def test_an_amendment_plans_an_added_add_on_and_drops_one_taken_off(
    plan, serviceable_area, sales_user
):
    # Given an order for a line with a static IP
    ip = StaticIpOfferingFactory()
    order = submit_order(plan=plan, add_ons=(ip,), area=serviceable_area).order
    assert "item_active 2" in milestones(order)

    # When the rep swaps the static IP for a router
    order_amend_items(
        order,
        add_ons=(RouterOfferingFactory(),),
        actor=sales_user,
        source=EventSource.SALES_PORTAL,
    )

    # Then the router is due like the rest, and the static IP is no longer owed
    owed = {
        m.item.offering.pk: m
        for m in OrderMilestone.objects.filter(order=order, kind=MilestoneKind.ITEM_ACTIVE)
    }
    assert plan.pk in owed and ip.pk not in owed and len(owed) == 2
    (router,) = [m for pk, m in owed.items() if pk != plan.pk]
    assert router.due_at == owed[plan.pk].due_at


def test_the_provisioning_lead_sets_a_target_in_the_admin_and_new_orders_follow_it(
    client, lead_user, plan, serviceable_area
):
    # Given the lead on the admin's milestone targets
    client.force_login(lead_user)
    listing = client.get(reverse("admin:orders_milestonetarget_changelist"))
    assert listing.status_code == 200
    target = MilestoneTarget.objects.get(
        milestone=MilestoneKind.ITEM_ACTIVE, fulfilment=Fulfilment.AUTOMATIC
    )

    # When they promise automated lines within 12 hours
    response = client.post(
        reverse("admin:orders_milestonetarget_change", args=[target.pk]),
        {
            "milestone": target.milestone,
            "fulfilment": target.fulfilment,
            "order_kind": target.order_kind,
            "hours": "12",
            "active": "on",
            "note": "Same-day activation pilot.",
        },
    )
    assert response.status_code == 302

    # Then the next order's line is due within 12 hours
    order = Order.objects.get(pk=submit_order(plan=plan, area=serviceable_area).order.pk)
    assert milestones(order)["item_active 1"].due_at - order.submitted_at == 12 * HOUR
