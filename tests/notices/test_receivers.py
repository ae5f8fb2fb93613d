"""What the customer is told, and when: the order's own events trigger one notice each."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notices.models import CustomerNotice, NoticeKind
from orders.amendments import order_amend_items
from orders.changes import order_submit_change
from orders.models import Order, OrderEvent
from orders.services import order_amend, order_cancel
from orders.signals import order_status_changed
from orders.states import EventSource, ItemChange, OrderStatus
from provisioning.services import fulfilment_start
from tests.factories import OrderFactory, submit_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("notices_on")]


def _kinds(order) -> list[str]:
    return list(
        CustomerNotice.objects.filter(order=order)
        .order_by("created_at", "id")
        .values_list("kind", flat=True)
    )


def _notice_mails(to: str) -> list[mail.EmailMessage]:
    subjects = set(CustomerNotice.objects.values_list("subject", flat=True))
    return [m for m in mail.outbox if m.subject in subjects and m.to == [to]]


def test_an_order_taken_and_activated_tells_the_customer_once_at_each_step(
    plan, serviceable_area, django_capture_on_commit_callbacks
):
    # When an order is taken and goes live (activated, then completed when billing starts)
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area, email="ana@example.com").order
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    # Then the customer was told it was received and that it is live: once each
    assert _kinds(order) == [NoticeKind.TAKEN, NoticeKind.ACTIVE]
    taken, active = _notice_mails("ana@example.com")
    assert order.display_id in taken.subject and "We have your order" in taken.subject
    assert order.service_address in taken.body and "Fibre 500" in taken.body
    assert "Your service is live" in active.subject
    assert f"switched on {timezone.localdate():%-d %B %Y}" in active.body
    assert not CustomerNotice.objects.filter(sent_at__isnull=True).exists()


def test_a_future_dated_order_is_scheduled_and_its_new_date_is_a_change(
    plan, serviceable_area, sales_user, django_capture_on_commit_callbacks
):
    # Given an order for a date two weeks ahead
    day = timezone.localdate() + datetime.timedelta(days=14)
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(
            plan=plan, area=serviceable_area, email="sam@example.com", requested_activation_date=day
        ).order
    # Then the customer is told it is received and scheduled for that date
    assert _kinds(order) == [NoticeKind.TAKEN, NoticeKind.SCHEDULED]
    scheduled = _notice_mails("sam@example.com")[1]
    assert f"scheduled for {day.day} {day:%B %Y}" in scheduled.subject
    # When the date moves a week later
    later = day + datetime.timedelta(days=7)
    with django_capture_on_commit_callbacks(execute=True):
        order_amend(
            order,
            actor=sales_user,
            source=EventSource.SALES_PORTAL,
            requested_activation_date=later,
        )
    # Then one "changed" notice names the new date
    assert _kinds(order)[-1] == NoticeKind.CHANGED
    changed = _notice_mails("sam@example.com")[-1]
    assert f"is now {later.day} {later:%B %Y}" in changed.body
    # ... and its reference changing (the ordering party's own) tells the customer nothing
    with django_capture_on_commit_callbacks(execute=True):
        order_amend(order, actor=sales_user, source=EventSource.API, external_id="PO-9")
    assert len(_kinds(order)) == 3


def test_an_amended_order_tells_the_customer_what_changed(
    plan, plan_factory, manual_area, sales_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=manual_area, email="amy@example.com").order
    faster = plan_factory(download_mbps=900)
    with django_capture_on_commit_callbacks(execute=True):
        order_amend_items(order, plan=faster, actor=sales_user, source=EventSource.SALES_PORTAL)
    assert _kinds(order) == [NoticeKind.TAKEN, NoticeKind.CHANGED]
    changed = _notice_mails("amy@example.com")[-1]
    assert f"Your plan is now {faster.name}" in changed.body


def test_a_cancelled_order_tells_the_customer_once(
    plan, manual_area, sales_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=manual_area, email="cy@example.com").order
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(
            order, actor=sales_user, reason="Customer moved away.", source=EventSource.SALES_PORTAL
        )
    assert _kinds(order) == [NoticeKind.TAKEN, NoticeKind.CANCELLED]
    cancelled = _notice_mails("cy@example.com")[-1]
    assert "is cancelled" in cancelled.subject
    # The staff reason is not the customer's message
    assert "moved away" not in cancelled.body


def test_a_rejected_order_tells_the_customer_once_that_it_cannot_go_ahead(
    plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given an order taken for an address the network then stops reaching
    order = submit_order(plan=plan, area=serviceable_area, email="rae@example.com").order
    serviceable_area.max_download_mbps = 0
    serviceable_area.save(update_fields=["max_download_mbps"])
    # When the checks before activation reject it
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        fulfilment_start(order.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.REJECTED
    # Then the customer is told, once, that it cannot go ahead and costs them nothing
    assert _kinds(order) == [NoticeKind.TAKEN, NoticeKind.REJECTED]
    (message,) = _notice_mails("rae@example.com")
    assert message.subject == f"We cannot go ahead with your order {order.display_id}"
    assert "you will not be charged" in message.body
    assert order.service_address in message.body
    # ... and a trigger fired again (a retried task, a second run of the checks) adds nothing
    event = OrderEvent.objects.get(order=order, to_status=OrderStatus.REJECTED)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        order_status_changed.send(sender=Order, order=order, event=event)
        fulfilment_start(order.pk)
    assert _kinds(order) == [NoticeKind.TAKEN, NoticeKind.REJECTED]
    assert len(_notice_mails("rae@example.com")) == 1


def test_an_order_missing_details_asks_the_customer_for_them_in_plain_words(
    django_capture_on_commit_callbacks,
):
    # Given an order whose address lacks its town
    order = OrderFactory(service_city="")
    # When the checks before activation find it incomplete
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        fulfilment_start(order.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_MANUAL
    # Then the customer is asked for the details, without the internal reason
    assert _kinds(order) == [NoticeKind.NEEDS_ACTION]
    (message,) = _notice_mails(order.customer.email)
    assert "We need a few details from you" in message.subject
    assert "we need a few details from you: your town or city." in message.body
    event = OrderEvent.objects.get(order=order, to_status=OrderStatus.AWAITING_MANUAL)
    assert event.reason_code not in message.body and event.reason not in message.body


def test_a_failed_activation_is_no_notice_and_no_e_mail_shows_internal_detail(
    plan, faulty_area, django_capture_on_commit_callbacks
):
    # Given an order whose activation fails on the network (an exception case, a reason code)
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=faulty_area, email="fay@example.com").order
    order.refresh_from_db()
    assert order.status == OrderStatus.EXCEPTION
    # Then no e-mail about the order carries a reason code, a task's name, a stack trace or a
    # staff reason
    internal = set()
    for event in OrderEvent.objects.filter(order=order):
        internal |= {event.reason_code, *(event.data.get(k) for k in ("task",))}
    internal = {str(x) for x in internal if x}
    assert "PORT_UNAVAILABLE" in internal
    for message in _notice_mails("fay@example.com"):
        for word in internal | {"Traceback", "reserve_port", "exception"}:
            assert word not in message.body and word not in message.subject
        assert not re.search(r"\b[A-Z]+_[A-Z_]+\b", message.body)
    # (the delay is the jeopardy code's to tell, with its new date)
    assert _kinds(order) == [NoticeKind.TAKEN]


def test_triggers_are_off_when_notices_are_off(
    plan, serviceable_area, settings, django_capture_on_commit_callbacks
):
    settings.CUSTOMER_NOTICES_ON_EVENTS = False
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area, email="off@example.com").order
    assert _kinds(order) == []


def test_a_change_to_a_live_line_is_worded_as_the_change(
    make_live_line, plan, plan_factory, serviceable_area, django_capture_on_commit_callbacks
):
    # Given a customer's live line
    line = make_live_line(plan=plan, area=serviceable_area, email="lee@example.com")
    faster = plan_factory(download_mbps=900)
    # When they ask for a faster speed, and it is made
    with django_capture_on_commit_callbacks(execute=True):
        change = order_submit_change(
            line.pk,
            ItemChange.PLAN,
            offering=faster,
            channel=EventSource.CUSTOMER_PORTAL,
            submitted_by=None,
        ).order
    assert _kinds(change) == [NoticeKind.TAKEN, NoticeKind.ACTIVE]
    taken, done = CustomerNotice.objects.filter(order=change).order_by("created_at", "id")
    # Then the messages speak of the change, not of a new order
    assert taken.subject.startswith("We have your request")
    assert f"change your service (Speed change to {faster.name})" in taken.body
    assert "Thank you for your order" not in taken.body
    assert done.subject.startswith("Your change is done")
    assert f"The change you asked for (Speed change to {faster.name}) is done" in done.body
