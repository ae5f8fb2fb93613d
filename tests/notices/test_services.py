"""notice_send: one notice per event, its e-mail through the outbox, sent once."""

from __future__ import annotations

import datetime
import threading
import time
from smtplib import SMTPServerDisconnected

import pytest
from celery import current_app
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notices import services
from notices.models import CustomerNotice, NoticeKind
from notices.services import NOTICE_EMAIL_TASK, notice_send
from notices.tasks import send_customer_notice
from orders.models import OutboxMessage
from orders.outbox.dispatch import outbox_dispatch_due
from tests.factories import submit_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(plan, manual_area, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(
            plan=plan, area=manual_area, email="dana@example.com", name="Dana Day"
        ).order
    mail.outbox.clear()
    return order


def test_the_jeopardy_codes_delayed_call_tells_the_customer_the_new_date_with_an_apology(
    order, django_capture_on_commit_callbacks
):
    # When the jeopardy code finds the order late and calls notice_send as agreed
    expected = datetime.date(2027, 1, 14)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notice = notice_send(
            order, NoticeKind.DELAYED, key="delayed:41", context={"expected": expected}
        )
    # Then the customer gets one e-mail naming the order, the new date, and saying sorry
    assert notice is not None and notice.kind == NoticeKind.DELAYED
    (message,) = mail.outbox
    assert message.to == ["dana@example.com"]
    assert "14 January 2027" in message.subject and order.display_id in message.subject
    assert "We now expect your service to be live by 14 January 2027." in message.body
    assert "sorry" in message.body
    assert order.service_address in message.body and order.plan.name in message.body
    # ... and the notice is kept as sent
    notice.refresh_from_db()
    assert notice.sent_at is not None
    assert (notice.subject, notice.body) == (message.subject, message.body)


def test_a_delayed_notice_without_the_new_date_is_refused_and_nothing_is_recorded(order):
    with transaction.atomic(), pytest.raises(ValueError, match="expected"):
        notice_send(order, NoticeKind.DELAYED, key="delayed:41")
    assert not CustomerNotice.objects.exists()
    assert not OutboxMessage.objects.filter(task_name=NOTICE_EMAIL_TASK).exists()


def test_the_same_event_twice_records_one_notice_and_sends_one_e_mail(
    order, django_capture_on_commit_callbacks
):
    # When the same trigger fires twice (a retried jeopardy run), in one transaction or two
    context = {"expected": datetime.date(2027, 1, 14)}
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        first = notice_send(order, NoticeKind.DELAYED, key="delayed:7", context=context)
        again = notice_send(order, NoticeKind.DELAYED, key="delayed:7", context=context)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        later = notice_send(
            order, NoticeKind.DELAYED, key="delayed:7", context={"expected": timezone.localdate()}
        )
    # Then there is one notice, one outbox message, one e-mail
    assert first is not None and first.pk == again.pk == later.pk
    assert CustomerNotice.objects.filter(order=order).count() == 1
    assert OutboxMessage.objects.filter(task_name=NOTICE_EMAIL_TASK).count() == 1
    assert len(mail.outbox) == 1
    # When the outbox task runs again (a message handed over twice)
    assert send_customer_notice(order_id=order.pk, notice_id=first.pk) is False
    # Then nothing more is sent
    assert len(mail.outbox) == 1


def test_another_event_of_the_same_kind_is_a_notice_of_its_own(
    order, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notice_send(order, NoticeKind.DELAYED, key="delayed:1", context={"expected": "x"})
        notice_send(order, NoticeKind.DELAYED, key="delayed:2", context={"expected": "y"})
    assert CustomerNotice.objects.filter(order=order).count() == 2
    assert len(mail.outbox) == 2


def test_nothing_is_recorded_or_sent_for_a_customer_without_an_e_mail_address(
    order, django_capture_on_commit_callbacks
):
    type(order.customer).objects.filter(pk=order.customer_id).update(email="")
    order.customer.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        assert notice_send(order, NoticeKind.NEEDS_ACTION, key="needs:1") is None
    assert not CustomerNotice.objects.exists()
    assert mail.outbox == []


def test_a_notice_stays_on_record_until_the_mail_server_takes_it(
    order, monkeypatch, django_capture_on_commit_callbacks
):
    # Given the mail server is down when the notice is recorded
    real_deliver = services.email_deliver

    def server_down(**kwargs):
        raise SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(services, "email_deliver", server_down)
    monkeypatch.setitem(current_app.conf, "task_eager_propagates", False)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notice = notice_send(order, NoticeKind.NEEDS_ACTION, key="needs:1")
    # Then nothing went, the notice is unsent, and its message waits to be tried again
    assert mail.outbox == []
    assert notice is not None
    notice.refresh_from_db()
    assert notice.sent_at is None
    message = OutboxMessage.objects.get(task_name=NOTICE_EMAIL_TASK)
    assert message.state == "waiting" and "Connection unexpectedly closed" in message.last_error
    # When the server is back and the message's time comes
    monkeypatch.setattr(services, "email_deliver", real_deliver)
    OutboxMessage.objects.filter(pk=message.pk).update(not_before=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_dispatch_due() == 1
    # Then it is sent once, with the outbox message's own Message-ID, and marked sent
    (sent,) = mail.outbox
    assert sent.extra_headers["Message-ID"].startswith(f"<outbox-{message.pk}@")
    notice.refresh_from_db()
    assert notice.sent_at is not None
    message.refresh_from_db()
    assert message.state == "completed"


@pytest.mark.postgresql  # about PostgreSQL's concurrent writers; SQLite has one at a time
@pytest.mark.django_db(transaction=True)
def test_the_same_event_in_two_transactions_at_once_records_one_notice_and_one_e_mail(
    plan, manual_area, run_in_threads
):
    order = submit_order(plan=plan, area=manual_area, email="both@example.com").order
    mail.outbox.clear()
    first_written = threading.Event()
    context = {"expected": datetime.date(2027, 2, 1)}

    def first() -> int:
        with transaction.atomic():
            notice = notice_send(order, NoticeKind.DELAYED, key="delayed:9", context=context)
            first_written.set()
            time.sleep(0.5)  # the other one is now waiting on this one's row
        return notice.pk

    def second() -> int:
        first_written.wait(5)
        with transaction.atomic():
            notice = notice_send(order, NoticeKind.DELAYED, key="delayed:9", context=context)
        return notice.pk

    # When two runs of the jeopardy check tell the customer about the same delay at once
    a, b = run_in_threads(first, second)
    # Then both get the one notice, and one e-mail left
    assert a == b
    assert CustomerNotice.objects.filter(order=order).count() == 1
    assert OutboxMessage.objects.filter(task_name=NOTICE_EMAIL_TASK).count() == 1
    assert [m.to for m in mail.outbox] == [["both@example.com"]]
