"""Jeopardy and escalation (orders.jeopardy): an order falling behind a milestone is raised at
risk, late and critical as its time runs out, each level brought once to the person it goes to
(by e-mail and on their worklist), and cleared with a record when the milestone is met or the
order is cancelled."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from notices.models import CustomerNotice, NoticeKind
from orders import jeopardy as jeopardy_module
from orders.jeopardy import jeopardy_scan
from orders.models import Escalation, Jeopardy, Order, OrderEvent, OrderMilestone
from orders.models.jeopardy import ClearedBecause, JeopardyLevel
from orders.models.milestones import MilestoneKind
from orders.services import order_cancel
from orders.states import EventSource, OrderStatus
from provisioning.models import ExceptionCase, ReasonCode
from tests.factories import UserFactory, submit_order

pytestmark = pytest.mark.django_db
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def order(plan, serviceable_area) -> Order:
    """An order taken and not yet accepted: its "accepted" milestone is due an hour after
    submission (the starting target)."""
    return Order.objects.get(pk=submit_order(plan=plan, area=serviceable_area).order.pk)


def at(order: Order, minutes: int) -> datetime.datetime:
    return order.submitted_at + minutes * MINUTE


def scan(order: Order, minutes: int, capture) -> None:
    with capture(execute=True):
        jeopardy_scan(now=at(order, minutes))


def accepted(order: Order) -> OrderMilestone:
    return OrderMilestone.objects.get(order=order, kind=MilestoneKind.ACCEPTED)


def escalations(order: Order) -> list[tuple[str, str]]:
    return [
        (e.level, e.to.username)
        for e in Escalation.objects.filter(order=order).order_by("created_at", "pk")
    ]


def test_a_late_order_is_raised_at_risk_then_late_then_critical_each_person_told_once(
    order, lead_user, ops_manager_user, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    # Before three quarters of the hour allowed to accept it: nothing
    scan(order, 44, django_capture_on_commit_callbacks)
    assert not Jeopardy.objects.filter(order=order).exists()

    # At 45 minutes the order is at risk: the lead on duty hears of it (no case owns it)
    scan(order, 46, django_capture_on_commit_callbacks)
    raised = Jeopardy.objects.get(order=order)
    assert (raised.level, raised.milestone) == (JeopardyLevel.AT_RISK, accepted(order))
    assert escalations(order) == [("at_risk", "lead-user")]
    assert [m.to for m in mail.outbox] == [[lead_user.email]]
    assert "At risk" in mail.outbox[0].subject and order.display_id in mail.outbox[0].subject

    # Scanned again at the same level: no second alert
    scan(order, 50, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1

    # Past its due time it is late (the lead again), past 150 % critical (the manager)
    scan(order, 61, django_capture_on_commit_callbacks)
    scan(order, 62, django_capture_on_commit_callbacks)
    scan(order, 91, django_capture_on_commit_callbacks)
    scan(order, 95, django_capture_on_commit_callbacks)
    assert escalations(order) == [
        ("at_risk", "lead-user"),
        ("late", "lead-user"),
        ("critical", "ops-manager"),
    ]
    assert [m.to for m in mail.outbox] == [
        [lead_user.email],
        [lead_user.email],
        [ops_manager_user.email],
    ]
    jeopardy = Jeopardy.objects.get(order=order)  # still one jeopardy, raised in place
    assert jeopardy.level == JeopardyLevel.CRITICAL and jeopardy.share >= 150
    assert jeopardy.expected_at is not None and jeopardy.expected_at > at(order, 61)
    # and the order's timeline tells the story
    words = [e.reason for e in OrderEvent.objects.filter(order=order, kind="jeopardy")]
    assert [w.split(": ")[1].split(" (")[0] for w in words] == ["at risk", "late", "critical"]


def test_at_risk_goes_to_the_owner_of_the_orders_exception_case(
    order, lead_user, django_capture_on_commit_callbacks
):
    owner = UserFactory(username="case-owner")
    ExceptionCase.objects.create(order=order, reason_code=ReasonCode.choices[0][0], owner=owner)

    scan(order, 50, django_capture_on_commit_callbacks)

    assert escalations(order) == [("at_risk", "case-owner")]
    escalation = Escalation.objects.get(order=order)
    assert escalation.because.startswith("owner of exception case")


def test_the_thresholds_are_settings(
    order, lead_user, settings, django_capture_on_commit_callbacks
):
    settings.JEOPARDY_THRESHOLDS = {"at_risk": 50, "late": 90, "critical": 120}
    scan(order, 31, django_capture_on_commit_callbacks)
    assert Jeopardy.objects.get(order=order).level == JeopardyLevel.AT_RISK
    scan(order, 55, django_capture_on_commit_callbacks)
    assert Jeopardy.objects.get(order=order).level == JeopardyLevel.LATE


def test_a_jeopardy_is_cleared_with_a_record_when_its_milestone_is_met(
    order, lead_user, django_capture_on_commit_callbacks
):
    scan(order, 70, django_capture_on_commit_callbacks)
    assert Jeopardy.objects.get(order=order).level == JeopardyLevel.LATE

    # When the order is accepted (it is scheduled for a later day, say)
    with django_capture_on_commit_callbacks(execute=True):
        from orders.milestones import milestones_meet

        milestones_meet(order, (MilestoneKind.ACCEPTED,))
        jeopardy_module.jeopardy_follow(order)

    jeopardy = Jeopardy.objects.get(order=order)
    assert jeopardy.cleared_at is not None
    assert jeopardy.cleared_because == ClearedBecause.MET
    assert OrderEvent.objects.filter(order=order, kind="jeopardy", data__action="cleared").exists()
    # and a later scan does not raise it again
    scan(order, 200, django_capture_on_commit_callbacks)
    assert not Jeopardy.objects.filter(order=order, milestone=accepted(order), cleared_at=None)


def test_cancelling_the_order_clears_its_jeopardies_and_drops_its_milestones(
    order, lead_user, sales_user, django_capture_on_commit_callbacks
):
    scan(order, 70, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(
            order, actor=sales_user, source=EventSource.SALES_PORTAL, reason="Changed mind"
        )

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    jeopardy = Jeopardy.objects.get(order=order)
    assert jeopardy.cleared_because == ClearedBecause.CANCELLED
    assert not OrderMilestone.objects.filter(order=order, met_at=None, dropped_at=None).exists()
    scan(order, 500, django_capture_on_commit_callbacks)
    assert not Jeopardy.objects.filter(order=order, cleared_at=None).exists()


def test_the_customer_is_told_once_with_the_new_date_when_the_order_first_goes_late(
    order, lead_user, ops_manager_user, settings, django_capture_on_commit_callbacks
):
    settings.CUSTOMER_NOTICES_ON_EVENTS = True
    mail.outbox.clear()
    scan(order, 50, django_capture_on_commit_callbacks)
    assert not CustomerNotice.objects.filter(order=order, kind=NoticeKind.DELAYED).exists()

    scan(order, 61, django_capture_on_commit_callbacks)
    scan(order, 91, django_capture_on_commit_callbacks)

    [notice] = CustomerNotice.objects.filter(order=order, kind=NoticeKind.DELAYED)
    expected = Jeopardy.objects.get(order=order).expected_at
    assert f"{timezone.localdate(expected):%-d %B %Y}" in notice.body
    to_customer = [m for m in mail.outbox if m.to == [order.customer.email]]
    assert len(to_customer) == 1 and to_customer[0].subject == notice.subject


def test_the_scan_leaves_alone_orders_whose_jeopardies_are_already_at_their_level(
    plan,
    serviceable_area,
    lead_user,
    ops_manager_user,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    """The beat runs every minute: an order stuck past its milestones, already critical, is
    not locked and followed again each time (a backlog of them made each scan take seconds)."""
    stuck = [
        Order.objects.get(pk=submit_order(plan=plan, area=serviceable_area).order.pk)
        for _ in range(3)
    ]
    # Accepted (1 h) and provisioning started (4 h) are both long past: critical
    later = max(o.submitted_at for o in stuck) + 1000 * MINUTE
    with django_capture_on_commit_callbacks(execute=True):
        assert jeopardy_scan(now=later) == 6
    assert set(Jeopardy.objects.values_list("level", flat=True)) == {JeopardyLevel.CRITICAL}
    events = OrderEvent.objects.filter(kind=OrderEvent.Kind.JEOPARDY).count()

    with django_assert_max_num_queries(1):
        assert jeopardy_scan(now=later + 60 * MINUTE) == 0
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.JEOPARDY).count() == events
