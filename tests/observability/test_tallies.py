"""The tallies behind /metrics (observability.tallies, observability.receivers): counted in the
transaction of the event, folded by beat, rebuilt from scratch after a bulk load."""

from __future__ import annotations

from smtplib import SMTPServerDisconnected

import pytest
from celery import current_app
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from notices import services as notice_services
from notices.models import NoticeKind
from notices.services import NOTICE_EMAIL_TASK, notice_send
from observability.models import Tally, TallyDelta
from observability.tallies import Metric, tally_fold, tally_values
from observability.tasks import fold_tallies
from orders.models import Order, OutboxMessage
from orders.outbox.dispatch import outbox_dispatch_due
from orders.states import OrderStatus
from provisioning.models import ReasonCode, TaskAttempt
from tests.factories import OrderFactory, TaskAttemptFactory, submit_order

pytestmark = pytest.mark.django_db


def by_state() -> dict[str, int]:
    return {k: v for k, v in tally_values([Metric.ORDERS_BY_STATE])["orders_by_state"].items() if v}


def fresh_count() -> dict[str, int]:
    rows = Order.objects.order_by().values_list("status").annotate(n=Count("pk"))
    return dict(rows)


def test_each_status_change_moves_one_order_between_states():
    # Given orders taken and moved on (each move writes its status event)
    OrderFactory()
    OrderFactory(status=OrderStatus.PROVISIONING)
    OrderFactory(status=OrderStatus.COMPLETED)
    # Then the tally says where each order is now, as a count of the table would
    assert by_state() == {"submitted": 1, "provisioning": 1, "completed": 1} == fresh_count()


def test_a_status_change_that_rolls_back_counts_nothing():
    OrderFactory()

    # When an order's transaction fails after its status events were written
    class Refused(Exception):
        pass

    with pytest.raises(Refused), transaction.atomic():
        OrderFactory(status=OrderStatus.COMPLETED)
        raise Refused
    # Then only the order that exists is counted
    assert by_state() == {"submitted": 1}


def test_a_deleted_order_leaves_the_count_of_its_state():
    keep, gone = OrderFactory(status=OrderStatus.COMPLETED), OrderFactory()
    gone.delete()
    assert by_state() == {"completed": 1}
    assert keep.pk


def test_the_fold_moves_deltas_into_tallies_without_changing_any_value():
    # Given counts still held as deltas
    for _ in range(3):
        OrderFactory(status=OrderStatus.COMPLETED)
    before = by_state()
    assert TallyDelta.objects.exists()
    # When beat's fold task runs (twice: the second finds nothing to do)
    assert fold_tallies.delay().get() > 0
    assert fold_tallies.delay().get() == 0
    # Then the values are the same, read from the tallies alone
    assert not TallyDelta.objects.exists()
    assert by_state() == before == {"completed": 3}
    assert Tally.objects.get(metric="orders_by_state", label="completed").value == 3


def test_the_fold_works_in_batches_and_keeps_counting_after():
    for _ in range(3):
        OrderFactory()
    assert tally_fold(batch=2) == 2
    OrderFactory(status=OrderStatus.CANCELLED)
    assert by_state() == {"submitted": 3, "cancelled": 1}
    while tally_fold(batch=2):
        pass
    assert by_state() == {"submitted": 3, "cancelled": 1} == fresh_count()


def test_rebuild_after_a_bulk_load_equals_a_fresh_count(capsys):
    # Given orders counted as they came, then a bulk load that changed rows without events
    # (bench data, an import)
    for status in (OrderStatus.SUBMITTED, OrderStatus.COMPLETED, OrderStatus.COMPLETED):
        OrderFactory(status=status)
    tally_fold()
    Order.objects.filter(status=OrderStatus.COMPLETED).update(status=OrderStatus.CANCELLED)
    assert by_state() != fresh_count()  # the load went round the tallies
    attempt = TaskAttemptFactory(outcome=TaskAttempt.Outcome.FAILED, error_code="LINE_TEST_FAILED")
    TaskAttempt.objects.filter(pk=attempt.pk).update(error_code=ReasonCode.PORT_UNAVAILABLE)
    # When the rebuild command runs
    call_command("metrics_tally_rebuild")
    # Then every tally is what a count of its table says
    assert by_state() == fresh_count() == {"submitted": 1, "cancelled": 2, "awaiting_manual": 1}
    values = tally_values()
    assert values["task_failures"] == {"PORT_UNAVAILABLE": 1}
    assert values["task_attempts"] == {attempt.task.task_type: 1}
    assert not TallyDelta.objects.exists()
    assert "orders_by_state: 4" in capsys.readouterr().out


def test_a_failed_attempt_is_counted_once_under_its_reason():
    # Given an attempt that fails
    attempt = TaskAttemptFactory()
    attempt.outcome, attempt.error_code = TaskAttempt.Outcome.FAILED, ReasonCode.PORT_UNAVAILABLE
    attempt.finished_at = timezone.now()
    attempt.save()
    # When its row is saved again, here and after being read again
    attempt.save()
    again = TaskAttempt.objects.get(pk=attempt.pk)
    again.error_message = "noted later"
    again.save()
    # Then it counts one attempt and one failure for its reason
    values = tally_values()
    assert values["task_attempts"] == {attempt.task.task_type: 1}
    assert values["task_failures"] == {"PORT_UNAVAILABLE": 1}


def test_an_email_the_mail_server_refuses_counts_as_failed_then_sent(
    plan, manual_area, monkeypatch, django_capture_on_commit_callbacks
):
    # Given an order, and a mail server that is down when the customer's notice is sent
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=manual_area, email="dana@example.com").order
    real_deliver = notice_services.email_deliver

    def server_down(**kwargs):
        raise SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(notice_services, "email_deliver", server_down)
    monkeypatch.setitem(current_app.conf, "task_eager_propagates", False)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notice_send(order, NoticeKind.NEEDS_ACTION, key="needs:1")
    # Then one failed try is counted, to be retried
    assert tally_values()["emails_failed"] == {"retrying": 1}
    assert tally_values()["emails_sent"] == {}
    # When the server is back and the retry goes
    monkeypatch.setattr(notice_services, "email_deliver", real_deliver)
    OutboxMessage.objects.filter(task_name=NOTICE_EMAIL_TASK).update(not_before=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_dispatch_due() == 1
    # Then it is counted sent, once
    assert tally_values()["emails_sent"] == {"needs_action": 1}
    assert tally_values()["emails_failed"] == {"retrying": 1}


def test_work_given_up_by_the_outbox_is_counted_by_task(
    plan, manual_area, monkeypatch, settings, django_capture_on_commit_callbacks
):
    # Given an e-mail whose sending fails with a defect (not a mail server outage) every time
    settings.OUTBOX_MAX_ATTEMPTS = 1
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=manual_area, email="dana@example.com").order

    def defect(**kwargs):
        raise ValueError("template variable missing")

    monkeypatch.setattr(notice_services, "email_deliver", defect)
    monkeypatch.setitem(current_app.conf, "task_eager_propagates", False)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notice_send(order, NoticeKind.NEEDS_ACTION, key="needs:1")
    # Then it is given up, and counted so
    assert OutboxMessage.objects.get(task_name=NOTICE_EMAIL_TASK).state == "failed"
    values = tally_values()
    assert values["emails_failed"] == {"given_up": 1}
    assert values["outbox_given_up"] == {NOTICE_EMAIL_TASK: 1}
