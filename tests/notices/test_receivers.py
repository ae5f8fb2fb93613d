"""What the customer is told, and when: the order's own events trigger one notice each."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notices.customer_words import WORDS
from notices.models import CustomerNotice, NoticeKind
from orders.amendments import order_amend_items
from orders.changes import order_submit_change
from orders.eligibility import EligibilityReason
from orders.events import OVERRIDE_REASON_CODE
from orders.jeopardy import jeopardy_scan
from orders.models import Order, OrderEvent
from orders.overrides import order_force_status
from orders.services import order_amend, order_cancel, order_reject
from orders.signals import order_status_changed
from orders.states import EventSource, ItemChange, OrderStatus
from provisioning.models import ReasonCode
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


def _says(message: mail.EmailMessage, code: str) -> bool:
    """The e-mail tells what happened and what happens next in the code's customer words."""
    words = WORDS[code]
    return words.happened in message.body and words.next in message.body


def _nothing_internal(message: mail.EmailMessage, event: OrderEvent) -> None:
    for internal in (event.reason_code, event.reason):
        assert internal not in message.body and internal not in message.subject
    assert not re.search(r"\b[A-Z]+_[A-Z_]+\b", message.body)  # no code of any kind


def test_an_order_taken_and_activated_tells_the_customer_once_at_each_step(
    plan, serviceable_area, django_capture_on_commit_callbacks
):
    # When an order is taken and goes live (activated, then completed when billing starts)
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area, email="ana@example.com").order
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    # Then the customer was told it was received and that it is live, then asked how we did
    # (support's CSAT question, one per new line): once each
    assert _kinds(order) == [NoticeKind.TAKEN, NoticeKind.ACTIVE, NoticeKind.CSAT]
    taken, active, csat = _notice_mails("ana@example.com")
    assert order.display_id in taken.subject and "We have your order" in taken.subject
    assert order.service_address in taken.body and "Fibre 500" in taken.body
    assert "Your service is live" in active.subject
    assert f"switched on {timezone.localdate():%-d %B %Y}" in active.body
    assert csat.subject.startswith("How did we do?") and "/feedback/" in csat.body
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
    # ... why, in their words ("We cannot provide this service at your address."), and nothing
    # of the check's own record ("NOT_SERVICEABLE", "No network coverage at ...")
    event = OrderEvent.objects.get(order=order, to_status=OrderStatus.REJECTED)
    assert event.reason_code == EligibilityReason.NOT_SERVICEABLE
    assert _says(message, EligibilityReason.NOT_SERVICEABLE)
    _nothing_internal(message, event)
    # ... and a trigger fired again (a retried task, a second run of the checks) adds nothing
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        order_status_changed.send(sender=Order, order=order, event=event)
        fulfilment_start(order.pk)
    assert _kinds(order) == [NoticeKind.TAKEN, NoticeKind.REJECTED]
    assert len(_notice_mails("rae@example.com")) == 1


def test_a_rejection_for_a_reason_without_words_is_told_without_it(
    django_capture_on_commit_callbacks,
):
    # Given a rejection whose reason code has no customer words (a check added later, say)
    order = OrderFactory()
    with django_capture_on_commit_callbacks(execute=True):
        order_reject(
            order,
            reason_code="NEW_CHECK_FAILED",
            reason="New check: failed.",
            source=EventSource.PROVISIONING,
        )
    # Then the customer is still told, in the e-mail's own words, and never the code
    (message,) = _notice_mails(order.customer.email)
    assert "we cannot go ahead with your order" in message.body
    assert "Your order is closed and you will not be charged for it." in message.body
    _nothing_internal(message, OrderEvent.objects.get(order=order, to_status="rejected"))


def test_a_cancellation_by_our_team_tells_the_customer_why_in_their_words(
    plan, faulty_area, lead_user, django_capture_on_commit_callbacks
):
    # Given an order whose activation failed, which our team then cancels with a reason
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=faulty_area, email="cas@example.com").order
    order.refresh_from_db()
    assert order.status == OrderStatus.EXCEPTION
    with django_capture_on_commit_callbacks(execute=True):
        order_force_status(
            order,
            to_status=OrderStatus.CANCELLED,
            actor=lead_user,
            reason="No port at the cabinet until next year; agreed with the customer.",
            expected_version=order.version,
        )
    # Then the cancellation e-mail says what happened and what happens next, in their words
    assert _kinds(order) == [NoticeKind.TAKEN, NoticeKind.CANCELLED]
    cancelled = _notice_mails("cas@example.com")[-1]
    assert "Your order is cancelled. You will not be charged for it." in cancelled.body
    event = OrderEvent.objects.get(order=order, to_status=OrderStatus.CANCELLED)
    assert event.reason_code == OVERRIDE_REASON_CODE
    assert _says(cancelled, OVERRIDE_REASON_CODE)
    _nothing_internal(cancelled, event)


def test_a_delay_of_an_order_held_by_a_network_fault_is_explained_by_the_fault(
    plan, faulty_area, lead_user, ops_manager_user, django_capture_on_commit_callbacks
):
    # Given an order held in exception: no free port at the address (PORT_UNAVAILABLE)
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=faulty_area, email="del@example.com").order
    order.refresh_from_db()
    assert order.status == OrderStatus.EXCEPTION
    # When its milestones go late (and the scan runs again, as it does every minute)
    for hours in (30, 31):
        with django_capture_on_commit_callbacks(execute=True):
            jeopardy_scan(now=order.submitted_at + datetime.timedelta(hours=hours))
    # Then one delayed e-mail tells the fault in the customer's words, not the lateness alone
    assert _kinds(order) == [NoticeKind.TAKEN, NoticeKind.DELAYED]
    delayed = _notice_mails("del@example.com")[-1]
    assert "is delayed" in delayed.subject
    assert _says(delayed, ReasonCode.PORT_UNAVAILABLE)
    assert not any(_says(delayed, code) for code in ("JEOPARDY_LATE", "JEOPARDY_CRITICAL"))
    hold = OrderEvent.objects.get(order=order, to_status=OrderStatus.EXCEPTION)
    _nothing_internal(delayed, hold)


def test_a_delay_with_nothing_to_explain_is_told_in_the_lateness_own_words(
    plan, serviceable_area, lead_user, django_capture_on_commit_callbacks
):
    # Given an order taken and not yet accepted (nothing holds it up but time)
    order = submit_order(plan=plan, area=serviceable_area, email="lat@example.com").order
    # When it goes past its first milestone's due time, and the scan runs again
    for minutes in (61, 62):
        with django_capture_on_commit_callbacks(execute=True):
            jeopardy_scan(now=order.submitted_at + datetime.timedelta(minutes=minutes))
    # Then one delayed e-mail says it is late, in the words for a late order
    assert _kinds(order) == [NoticeKind.TAKEN, NoticeKind.DELAYED]
    (delayed,) = _notice_mails("lat@example.com")
    assert _says(delayed, "JEOPARDY_LATE")
    assert "JEOPARDY" not in delayed.body


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
    assert "What is missing: your town or city." in message.body
    # ... in the words for incomplete details: what happened and what happens next
    event = OrderEvent.objects.get(order=order, to_status=OrderStatus.AWAITING_MANUAL)
    assert event.reason_code == EligibilityReason.INCOMPLETE_PAYLOAD
    assert _says(message, EligibilityReason.INCOMPLETE_PAYLOAD)
    _nothing_internal(message, event)


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
