"""The transactional outbox (DESIGN invariant 3): nothing leaves before commit, nothing
committed is lost."""

from __future__ import annotations

import pytest
from celery import current_app
from celery.exceptions import Retry
from django.db import OperationalError as DatabaseError
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from billing.models import BillingAccount
from orders.models import Order, OutboxMessage
from orders.outbox import outbox_dispatch_due, outbox_enqueue, outbox_queue_for
from orders.outbox.dispatch import task_id_for
from orders.states import OrderStatus
from tests.factories import submit_order

FULFIL_TASK = "provisioning.fulfil_order"
START_BILLING_TASK = "billing.start_billing"


class Rollback(Exception):
    pass


@pytest.fixture
def sent(monkeypatch):
    """Task names handed to the broker (the tasks still run, eagerly)."""
    calls: list[str] = []
    for name in (FULFIL_TASK, "provisioning.run_task", "billing.start_billing"):
        task = current_app.tasks[name]
        original = task.apply_async

        def spy(*args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(task, "apply_async", spy)
    return calls


@pytest.mark.django_db
def test_work_is_not_sent_before_the_transaction_commits(
    plan, serviceable_area, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area).order
        # Given the order is written but its transaction has not committed
        # Then its work is recorded, not sent
        message = OutboxMessage.objects.get(order=order, task_name=FULFIL_TASK)
        assert message.dispatched_at is None
        assert sent == []
    # When it commits, the work goes out and the order runs to the end
    # (the line's four tasks, one after the other)
    assert sent == [FULFIL_TASK, *["provisioning.run_task"] * 4, "billing.start_billing"]
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert not OutboxMessage.objects.filter(completed_at__isnull=True).exists()


@pytest.mark.django_db
def test_work_from_a_rolled_back_transaction_is_never_sent(
    plan, serviceable_area, sent, django_capture_on_commit_callbacks
):
    # Given an order submitted inside a transaction that then fails
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Rollback),
        transaction.atomic(),
    ):
        submit_order(plan=plan, area=serviceable_area)
        raise Rollback
    # Then nothing was sent and nothing of it remains
    assert callbacks == []
    assert sent == []
    assert not Order.objects.exists()
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_order_taken_while_the_broker_is_down_is_sent_later_by_the_due_dispatcher(
    plan, serviceable_area, monkeypatch, django_capture_on_commit_callbacks
):
    # Given the broker is unreachable when the order's transaction commits
    fulfil = current_app.tasks[FULFIL_TASK]
    working_apply_async = fulfil.apply_async

    def broker_down(*args, **kwargs):
        raise OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(fulfil, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        submission = submit_order(plan=plan, area=serviceable_area)
    # Then the order is still taken, and its work waits on record with the error
    order = Order.objects.get(pk=submission.order.pk)
    assert order.status == OrderStatus.SUBMITTED
    message = OutboxMessage.objects.get(order=order, task_name=FULFIL_TASK)
    assert (message.state, message.send_attempts) == ("waiting", 1)
    assert "Connection refused" in message.last_error
    # When the broker is back and the due dispatcher runs
    monkeypatch.setattr(fulfil, "apply_async", working_apply_async)
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_dispatch_due() == 1
    # Then the message is sent once, the order goes through to the end, and every piece of
    # its work is on record as completed
    message.refresh_from_db()
    assert (message.state, message.send_attempts, message.attempts) == ("completed", 2, 1)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert not OutboxMessage.objects.filter(completed_at__isnull=True).exists()
    # ... and a second round finds nothing to send
    assert outbox_dispatch_due() == 0


@pytest.mark.django_db
def test_a_message_counts_as_done_only_when_its_work_commits(
    plan, serviceable_area, monkeypatch, django_capture_on_commit_callbacks
):
    # Given billing fails once with a database error in the middle of its work
    from billing import services as billing_services

    real_start = billing_services.billing_account_start
    calls = []

    def flaky_start(order_id):
        calls.append(order_id)
        if len(calls) == 1:
            real_start(order_id)  # writes the account, then the database goes away
            raise DatabaseError("server closed the connection unexpectedly")
        return real_start(order_id)

    monkeypatch.setattr(billing_services, "billing_account_start", flaky_start)
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area).order
    # Then nothing of the failed try remains, and its message is not done: it is rescheduled
    # with backoff and the reason kept (not acknowledged and dropped)
    assert not BillingAccount.objects.filter(order=order).exists()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ACTIVATED
    message = OutboxMessage.objects.get(order=order, task_name=START_BILLING_TASK)
    assert message.state == "waiting"
    assert message.not_before > timezone.now()
    assert "server closed the connection" in message.last_error
    # When its time comes, the due dispatcher hands it over again and the bill starts once
    OutboxMessage.objects.filter(pk=message.pk).update(not_before=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_dispatch_due() == 1
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("completed", 2)
    assert BillingAccount.objects.filter(order=order).count() == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED


@pytest.mark.django_db
def test_database_errors_are_retried_for_as_long_as_it_takes_and_defects_are_given_up(
    plan, serviceable_area, monkeypatch, settings, django_capture_on_commit_callbacks
):
    # Given billing always fails: first with a database error, then with a defect
    from billing import services as billing_services

    settings.OUTBOX_MAX_ATTEMPTS = 3
    failure: list[Exception] = [DatabaseError("could not connect to server")]

    def broken_start(order_id):
        raise failure[0]

    monkeypatch.setattr(billing_services, "billing_account_start", broken_start)
    monkeypatch.setitem(current_app.conf, "task_eager_propagates", False)
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area).order
    message = OutboxMessage.objects.get(order=order, task_name=START_BILLING_TASK)

    def run_when_due():
        OutboxMessage.objects.filter(pk=message.pk).update(not_before=timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            outbox_dispatch_due()
        message.refresh_from_db()

    # When the database error lasts longer than the budget for defects
    for _ in range(settings.OUTBOX_MAX_ATTEMPTS + 2):
        run_when_due()
    # Then the message is still waiting for its next try, not given up
    assert message.state == "waiting"
    assert message.attempts == settings.OUTBOX_MAX_ATTEMPTS + 3
    # When the failure is a defect instead, it is given up once the budget is spent
    failure[0] = KeyError("plan")
    run_when_due()
    assert message.state == "failed"
    assert "KeyError" in message.last_error
    # ... and a given-up message is not handed over again
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_dispatch_due() == 0


@pytest.mark.django_db
def test_a_copy_of_a_message_whose_work_is_done_does_nothing(
    plan, serviceable_area, django_capture_on_commit_callbacks, mailoutbox
):
    # Given a new customer's order went through and the invitation was sent
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area).order
    assert len(mailoutbox) == 1
    invitation = OutboxMessage.objects.get(order=order, task_name="portal.send_customer_invitation")
    assert invitation.state == "completed"
    # When the broker delivers the same message again (a redelivery, a recovery's resend)
    task = current_app.tasks[invitation.task_name]
    task.apply(kwargs=invitation.kwargs, task_id=task_id_for(invitation.pk))
    # Then no second e-mail goes out and the message is unchanged
    assert len(mailoutbox) == 1
    invitation.refresh_from_db()
    assert invitation.attempts == 1
    # ... and the e-mail carries the message's own Message-ID, for mail clients to dedupe
    assert mailoutbox[0].extra_headers["Message-ID"].startswith(f"<outbox-{invitation.pk}@")


@pytest.mark.django_db
def test_delayed_work_waits_on_record_not_in_the_broker(
    plan, serviceable_area, monkeypatch, django_capture_on_commit_callbacks
):
    # Given work recorded to run in a minute
    sent: list[dict] = []
    fulfil = current_app.tasks[FULFIL_TASK]
    monkeypatch.setattr(fulfil, "apply_async", lambda *a, **k: sent.append(k))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = outbox_enqueue(FULFIL_TASK, order_id="K7QM3XPA9Z", countdown=60)
    # Then nothing is handed to the broker at commit, nor by the due dispatcher before time
    assert sent == []
    assert outbox_dispatch_due() == 0
    # When its time comes it is handed over, without a countdown, under its own task id
    OutboxMessage.objects.filter(pk=message.pk).update(not_before=timezone.now())
    assert outbox_dispatch_due() == 1
    assert sent == [
        {
            "kwargs": {"order_id": "K7QM3XPA9Z"},
            "task_id": task_id_for(message.pk),
            "queue": "celery",
        }
    ]


@pytest.mark.django_db
def test_one_message_per_key():
    # Given work recorded under a key (one e-mail per business event)
    with transaction.atomic():
        first = outbox_enqueue(FULFIL_TASK, order_id="K7QM3XPA9Z", key="invitation:K7QM3XPA9Z")
        again = outbox_enqueue(FULFIL_TASK, order_id="K7QM3XPA9Z", key="invitation:K7QM3XPA9Z")
    # Then recording it again returns the same message
    assert again.pk == first.pk
    assert OutboxMessage.objects.count() == 1


def test_housekeeping_has_its_own_queue():
    # The due dispatcher and recovery must not wait behind the backlog they clear.
    for name in ("orders.outbox_dispatch_due", "orders.outbox_recover"):
        assert outbox_queue_for(name) == "housekeeping"
    for name in (FULFIL_TASK, START_BILLING_TASK, "portal.send_customer_invitation"):
        assert outbox_queue_for(name) == "celery"


def test_enqueue_outside_a_transaction_is_refused():
    # Work recorded outside the transaction that causes it could be sent for a change that
    # then never commits, or be lost; so it is a programming error.
    assert not transaction.get_connection().in_atomic_block
    with pytest.raises(RuntimeError, match="inside the transaction"):
        outbox_enqueue(FULFIL_TASK, order_id="K7QM3XPA9Z")


@pytest.mark.django_db
def test_a_task_that_cannot_reach_the_database_asks_celery_to_retry_it_with_backoff(
    plan, serviceable_area, monkeypatch, django_capture_on_commit_callbacks
):
    # Given an order whose billing message is on record, not yet run
    from orders.outbox import work

    task = current_app.tasks[START_BILLING_TASK]
    monkeypatch.setattr(task, "apply_async", lambda *a, **k: None)
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area).order
    message = OutboxMessage.objects.get(order=order, task_name=START_BILLING_TASK)
    monkeypatch.undo()
    # When it arrives while the database is unreachable (it cannot even be marked started)
    real_begin = work._begin

    def begin_during_outage(message_id, **kwargs):
        raise DatabaseError("connection to server at 127.0.0.1 failed: Connection refused")

    asked: list[dict] = []

    def retry(**kwargs):
        asked.append(kwargs)
        return Retry(when=kwargs["countdown"])

    monkeypatch.setattr(work, "_begin", begin_during_outage)
    monkeypatch.setattr(task, "retry", retry)
    result = task.apply(
        kwargs=message.kwargs, task_id=task_id_for(message.pk), retries=2, throw=False
    )
    # Then it is not acknowledged as failed and dropped: Celery is asked to retry it, without
    # a limit, after a backoff that grows with its retries (5 s * 2^2)
    assert result.state == "RETRY"
    assert [(a["countdown"], a["max_retries"]) for a in asked] == [(20.0, None)]
    message.refresh_from_db()
    assert message.state == "queued"
    # When the retry comes with the database back, the work is done once
    monkeypatch.setattr(work, "_begin", real_begin)
    with django_capture_on_commit_callbacks(execute=True):
        task.apply(kwargs=message.kwargs, task_id=task_id_for(message.pk))
    message.refresh_from_db()
    assert message.state == "completed"
    assert BillingAccount.objects.filter(order=order).count() == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED
