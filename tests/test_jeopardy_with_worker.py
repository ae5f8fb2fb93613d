"""Issue 11's "done when", with a real worker and time moved forward: an order falling behind
is raised at risk, escalated to late and to critical by the worker's beat, each person told
once, the customer told once with a new date; the jeopardies clear when the line goes live,
and the hub delivers the milestone and jeopardy events in TMF622 v5's shapes.

Time moves forward by moving the order's milestones back (their anchor and due date): what the
scan compares is the clock against them, so the worker sees exactly what it would see hours
later. The area needs a technician, so the line goes live when the test, as the technician,
records the manual tasks done."""

from __future__ import annotations

import contextlib
import datetime
import time
from collections import Counter

import pytest
from django.db.models import F
from rest_framework.test import APIClient

from notices.models import CustomerNotice, NoticeKind
from orders.models import Escalation, Jeopardy, Order, OrderMilestone
from orders.models.jeopardy import ClearedBecause
from orders.states import OrderStatus
from provisioning.models import FulfilmentTask, TaskState
from provisioning.scheduler import task_complete_by_hand
from tests.factories import submit_order
from tests.plugins.celery_worker import CeleryWorker, start_or_fail, worker_environment
from tests.plugins.mail import sent_to
from tests.tmf.conftest import TMF622
from tests.tmf.hub_listener import running_listener
from tests.tmf.schema import assert_valid
from tmf.clients import api_client_create

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
HOUR = datetime.timedelta(hours=1)


def _wait_for(condition, what: str, worker: CeleryWorker, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{worker.log_tail(80)}", pytrace=False)
        time.sleep(0.1)


def _move_on(order: Order, hours: float) -> None:
    """As if ``hours`` had passed for the order's milestones still to reach."""
    ago = datetime.timedelta(hours=hours)
    OrderMilestone.objects.filter(order=order, met_at__isnull=True).update(
        anchor_at=F("anchor_at") - ago, due_at=F("due_at") - ago
    )


def _levels(order: Order) -> Counter[tuple[str, str]]:
    return Counter(Escalation.objects.filter(order=order).values_list("level", "to__username"))


def test_a_late_order_escalates_tells_the_customer_once_and_clears_when_live(
    plan, manual_area, lead_user, ops_manager_user, provisioning_user, tmp_path
):
    mail = tmp_path / "mail"
    mail.mkdir()
    _, token = api_client_create("crm", ("read", "subscribe"))
    subscriber = APIClient()
    subscriber.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    with contextlib.ExitStack() as stack:
        listener = stack.enter_context(contextlib.contextmanager(running_listener)())
        registered = subscriber.post(
            f"{TMF622}/hub",
            {
                "callback": listener.url,
                "query": "eventType=ProductOrderJeopardyAlertEvent,ProductOrderMilestoneEvent",
            },
            format="json",
        )
        assert registered.status_code == 201
        env = worker_environment(
            stack,
            CUSTOMER_NOTICES_ON_EVENTS="1",
            TEST_EMAIL_BACKEND="tests.plugins.mail.FolderEmailBackend",
            TEST_MAIL_DIR=str(mail),
            JEOPARDY_SCAN_EVERY_SECONDS="0.5",
            OUTBOX_DISPATCH_EVERY_SECONDS="0.5",
        )
        worker = CeleryWorker(
            env=env, log_path=tmp_path / "worker.log", beat_schedule=tmp_path / "beat-schedule"
        )
        stack.callback(worker.stop)
        start_or_fail(worker)

        # Given an order in an area where a technician sets the line up (three days allowed)
        order = submit_order(plan=plan, area=manual_area, email="late@example.com").order
        _wait_for(
            lambda: Order.objects.get(pk=order.pk).status == OrderStatus.AWAITING_MANUAL,
            "the order in the manual pool",
            worker,
        )

        # When 80 % of its time has gone: at risk, to the lead on duty
        _move_on(order, 72 * 0.8)
        _wait_for(lambda: _levels(order)[("at_risk", "lead-user")] == 1, "at risk", worker)
        # ... past its due time: late, to the lead again, and the customer hears of it
        _move_on(order, 72 * 0.25)
        _wait_for(lambda: _levels(order)[("late", "lead-user")] == 1, "late", worker)
        # ... past 150 %: critical, to the operations manager
        _move_on(order, 72 * 0.5)
        _wait_for(lambda: _levels(order)[("critical", "ops-manager")] == 1, "critical", worker)
        time.sleep(2)  # further scans: nobody is told twice
        assert _levels(order) == Counter(
            {("at_risk", "lead-user"): 1, ("late", "lead-user"): 1, ("critical", "ops-manager"): 1}
        )
        [delayed] = CustomerNotice.objects.filter(order=order, kind=NoticeKind.DELAYED)
        expected = Jeopardy.objects.filter(order=order).exclude(expected_at=None).first()
        assert expected is not None and f"{expected.expected_at:%-d %B %Y}" in delayed.body

        # When the technician does the work and the line goes live
        def ready_tasks() -> list[FulfilmentTask]:
            return list(FulfilmentTask.objects.filter(order=order, state=TaskState.READY))

        while Order.objects.get(pk=order.pk).status == OrderStatus.AWAITING_MANUAL:
            for task in ready_tasks():
                task_complete_by_hand(task, actor=provisioning_user, note="Done on site.")
            time.sleep(0.2)
        _wait_for(
            lambda: Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED,
            "the order completed",
            worker,
        )

        # Then every jeopardy is cleared as met, and e-mails went once to each
        _wait_for(
            lambda: not Jeopardy.objects.filter(order=order, cleared_at=None).exists(),
            "jeopardies cleared",
            worker,
        )
        assert set(
            Jeopardy.objects.filter(order=order).values_list("cleared_because", flat=True)
        ) == {ClearedBecause.MET}
        _wait_for(lambda: sent_to(mail)[ops_manager_user.email] >= 1, "the e-mails", worker)
        time.sleep(1)
        sent = sent_to(mail)
        assert sent[lead_user.email] == 2 and sent[ops_manager_user.email] == 1
        told = [p for p in mail.glob("*.eml") if f"Subject: {delayed.subject}" in p.read_text()]
        assert len(told) == 1

        # and the hub delivered the jeopardy and milestone events in v5's shapes
        _wait_for(lambda: "ProductOrderMilestoneEvent" in listener.event_types(), "the hub", worker)
        types = Counter(listener.event_types())
        assert types["ProductOrderJeopardyAlertEvent"] >= 3
        for item in listener.delivered:
            assert_valid("TMF622v5", item.event["eventType"], item.event)
