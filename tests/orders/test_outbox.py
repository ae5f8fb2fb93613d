"""The transactional outbox (DESIGN invariant 3): nothing leaves before commit, nothing
committed is lost."""

from __future__ import annotations

import pytest
from celery import current_app
from django.db import transaction
from kombu.exceptions import OperationalError

from orders.models import Order, OutboxMessage
from orders.outbox import outbox_enqueue, outbox_sweep
from orders.states import OrderStatus
from tests.factories import submit_order

FULFIL_TASK = "provisioning.fulfil_order"


class Rollback(Exception):
    pass


@pytest.fixture
def sent(monkeypatch):
    """Task names handed to the broker (the tasks still run, eagerly)."""
    calls: list[str] = []
    for name in (FULFIL_TASK, "provisioning.activation_attempt", "billing.start_billing"):
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
    assert sent == [FULFIL_TASK, "provisioning.activation_attempt", "billing.start_billing"]
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()


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
def test_order_taken_while_the_broker_is_down_is_sent_later_by_the_sweeper(
    plan, serviceable_area, monkeypatch, settings, django_capture_on_commit_callbacks
):
    # Given the broker is unreachable when the order's transaction commits
    fulfil = current_app.tasks[FULFIL_TASK]
    working_apply_async = fulfil.apply_async

    def broker_down(*args, **kwargs):
        raise OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(fulfil, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        submission = submit_order(plan=plan, area=serviceable_area)
    # Then the order is still taken, and its work waits in the outbox with the error
    order = Order.objects.get(pk=submission.order.pk)
    assert order.status == OrderStatus.SUBMITTED
    message = OutboxMessage.objects.get(order=order, task_name=FULFIL_TASK)
    assert message.dispatched_at is None
    assert message.send_attempts == 1
    assert "Connection refused" in message.last_error
    # When the broker is back and the sweeper runs
    monkeypatch.setattr(fulfil, "apply_async", working_apply_async)
    settings.OUTBOX_SWEEP_AFTER_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_sweep() == 1
    # Then the message is sent once and the order goes through to the end
    message.refresh_from_db()
    assert message.dispatched_at is not None
    assert message.send_attempts == 2
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()
    # ... and a second sweep finds nothing to resend
    assert outbox_sweep() == 0


@pytest.mark.django_db
def test_sweeper_leaves_fresh_messages_to_their_own_after_commit_dispatch(
    plan, serviceable_area, settings
):
    # Given an undispatched message younger than the sweep delay (its commit may be under way)
    settings.OUTBOX_SWEEP_AFTER_SECONDS = 60
    submit_order(plan=plan, area=serviceable_area)
    # Then the sweeper does not send it a second time
    assert outbox_sweep() == 0
    assert OutboxMessage.objects.get(task_name=FULFIL_TASK).dispatched_at is None


def test_enqueue_outside_a_transaction_is_refused():
    # Work recorded outside the transaction that causes it could be sent for a change that
    # then never commits, or be lost; so it is a programming error.
    assert not transaction.get_connection().in_atomic_block
    with pytest.raises(RuntimeError, match="inside the transaction"):
        outbox_enqueue(FULFIL_TASK, order_id="K7QM3XPA9Z")
