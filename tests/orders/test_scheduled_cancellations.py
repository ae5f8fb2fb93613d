"""Cancellations for a later date (orders.scheduled_cancellations): scheduled with the reasons
it can be refused, withdrawn, and carried out once by the due scan through order_cancel, or
refused on the date when the order can no longer be cancelled."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from orders.errors import CancellationRefused, OrderConflict, OrderError
from orders.models import Order, OrderEvent, ScheduledCancellation, ScheduledCancellationState
from orders.scheduled_cancellations import (
    order_cancellation_schedule,
    order_cancellation_withdraw,
    scheduled_cancellations_carry_out_due,
)
from orders.services import order_cancel
from orders.states import EventSource, OrderStatus
from orders.tasks import cancel_due_orders
from provisioning.models import FulfilmentTask, TaskState
from provisioning.services import fulfilment_start
from tests.factories import submit_order
from tests.provisioning.running import run_ready

pytestmark = pytest.mark.django_db
State = ScheduledCancellationState
REASON = "Customer moves abroad at the end of the month."


def later(days: int = 3) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=days)


@pytest.fixture
def submitted(plan, serviceable_area):
    return submit_order(plan=plan, area=serviceable_area).order


@pytest.fixture
def in_flight(plan, serviceable_area):
    order = submit_order(plan=plan, area=serviceable_area).order
    fulfilment_start(order.pk)
    run_ready(order, until="1.activate_line")
    return Order.objects.get(pk=order.pk)


def past_ponr(order: Order) -> None:
    FulfilmentTask.objects.filter(order=order, key="1.activate_line").update(
        state=TaskState.RUNNING, started_at=timezone.now()
    )


def schedule(order: Order, *, due: datetime.datetime, user=None) -> ScheduledCancellation:
    return order_cancellation_schedule(
        order, due_at=due, reason=REASON, actor=user, source=EventSource.SALES_PORTAL
    )


def kinds(order: Order) -> list[str]:
    return list(
        OrderEvent.objects.filter(order=order).order_by("pk").values_list("kind", flat=True)
    )


def test_a_cancellation_is_scheduled_for_its_date_and_the_order_goes_on(submitted, sales_user):
    due = later()

    scheduled = schedule(submitted, due=due, user=sales_user)

    assert scheduled.state == State.SCHEDULED
    assert (scheduled.due_at, scheduled.requested_by, scheduled.channel) == (
        due,
        sales_user,
        EventSource.SALES_PORTAL,
    )
    assert Order.objects.get(pk=submitted.pk).status == OrderStatus.SUBMITTED
    event = OrderEvent.objects.get(order=submitted, kind=OrderEvent.Kind.CANCELLATION_SCHEDULED)
    assert event.actor == sales_user and REASON in event.reason


def test_a_date_not_in_the_future_is_an_error_on_the_date(submitted):
    with pytest.raises(OrderError) as refused:
        schedule(submitted, due=timezone.now() - datetime.timedelta(minutes=1))

    assert "future" in refused.value.field_errors["due_at"]
    assert not ScheduledCancellation.objects.exists()


def test_an_order_past_its_point_of_no_return_cannot_be_scheduled(in_flight):
    past_ponr(in_flight)

    with pytest.raises(CancellationRefused) as refused:
        schedule(in_flight, due=later())

    assert refused.value.reason_code == CancellationRefused.PONR
    assert not ScheduledCancellation.objects.exists()


def test_a_closed_or_cancelling_order_cannot_be_scheduled(submitted, in_flight):
    order_cancel(submitted, actor=None, reason="Gone.", source=EventSource.SALES_PORTAL)
    order_cancel(in_flight, actor=None, reason="Gone.", source=EventSource.SALES_PORTAL)

    for order, code in (
        (submitted, CancellationRefused.CLOSED),
        (in_flight, CancellationRefused.CANCELLING),
    ):
        with pytest.raises(CancellationRefused) as refused:
            schedule(order, due=later())
        assert refused.value.reason_code == code
    assert not ScheduledCancellation.objects.exists()


def test_only_one_cancellation_is_scheduled_at_a_time(submitted):
    schedule(submitted, due=later(3))

    with pytest.raises(CancellationRefused) as refused:
        schedule(submitted, due=later(5))

    assert refused.value.reason_code == CancellationRefused.SCHEDULED
    with pytest.raises(IntegrityError), transaction.atomic():
        ScheduledCancellation.objects.create(
            order=submitted, due_at=later(6), reason="x", channel=EventSource.API
        )


def test_a_withdrawn_cancellation_is_never_carried_out(submitted, sales_user):
    due = later()
    schedule(submitted, due=due)

    withdrawn = order_cancellation_withdraw(
        submitted, actor=sales_user, source=EventSource.SALES_PORTAL
    )

    assert withdrawn.state == State.WITHDRAWN and withdrawn.settled_by == sales_user
    assert scheduled_cancellations_carry_out_due(now=due) == 0
    assert Order.objects.get(pk=submitted.pk).status == OrderStatus.SUBMITTED
    assert OrderEvent.Kind.CANCELLATION_WITHDRAWN in kinds(submitted)
    with pytest.raises(OrderConflict):
        order_cancellation_withdraw(submitted, actor=sales_user, source=EventSource.SALES_PORTAL)
    # and a new date can be chosen after withdrawing
    assert schedule(submitted, due=later(9)).state == State.SCHEDULED


def test_the_due_scan_carries_out_a_cancellation_once_even_if_run_twice(submitted):
    due = later()
    scheduled = schedule(submitted, due=due)
    assert scheduled_cancellations_carry_out_due(now=due - datetime.timedelta(seconds=1)) == 0

    assert scheduled_cancellations_carry_out_due(now=due) == 1
    assert scheduled_cancellations_carry_out_due(now=due) == 0

    order = Order.objects.get(pk=submitted.pk)
    assert order.status == OrderStatus.CANCELLED
    scheduled.refresh_from_db()
    assert scheduled.state == State.CARRIED_OUT and scheduled.settled_at is not None
    [cancelled] = OrderEvent.objects.filter(order=order, to_status=OrderStatus.CANCELLED)
    assert cancelled.source == EventSource.SCHEDULER
    assert REASON in cancelled.reason and "Scheduled cancellation" in cancelled.reason


def test_the_beat_task_carries_out_what_is_due(submitted):
    scheduled = schedule(submitted, due=later())
    ScheduledCancellation.objects.filter(pk=scheduled.pk).update(due_at=timezone.now())

    assert cancel_due_orders.apply().get() == 1

    assert Order.objects.get(pk=submitted.pk).status == OrderStatus.CANCELLED


def test_an_order_in_flight_on_the_date_is_cancelled_with_its_undos(in_flight):
    due = later()
    schedule(in_flight, due=due)

    scheduled_cancellations_carry_out_due(now=due)

    assert Order.objects.get(pk=in_flight.pk).status == OrderStatus.CANCELLING
    run_ready(in_flight)
    assert Order.objects.get(pk=in_flight.pk).status == OrderStatus.CANCELLED


def test_past_the_point_of_no_return_on_the_date_the_schedule_is_refused_with_why(in_flight):
    due = later()
    scheduled = schedule(in_flight, due=due)
    past_ponr(in_flight)

    assert scheduled_cancellations_carry_out_due(now=due) == 1

    assert Order.objects.get(pk=in_flight.pk).status == OrderStatus.PROVISIONING
    scheduled.refresh_from_db()
    assert scheduled.state == State.REFUSED
    assert "point of no return" in scheduled.outcome
    refusal = OrderEvent.objects.get(order=in_flight, kind=OrderEvent.Kind.CANCELLATION_REFUSED)
    assert refusal.reason_code == CancellationRefused.PONR


def test_an_order_that_completed_before_the_date_is_left_alone(
    plan, serviceable_area, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area).order
    order = Order.objects.get(pk=order.pk)
    assert order.status == OrderStatus.COMPLETED
    due = later()
    scheduled = ScheduledCancellation.objects.create(
        order=order, due_at=due, reason=REASON, channel=EventSource.API
    )
    before = order.status

    scheduled_cancellations_carry_out_due(now=due)

    assert Order.objects.get(pk=order.pk).status == before
    scheduled.refresh_from_db()
    assert scheduled.state == State.REFUSED and "cannot be cancelled" in scheduled.outcome


def test_an_order_cancelled_now_before_the_date_has_its_schedule_settled(submitted):
    due = later()
    scheduled = schedule(submitted, due=due)

    order_cancel(submitted, actor=None, reason="Cancel at once.", source=EventSource.SUPPORT_PORTAL)

    scheduled.refresh_from_db()
    assert scheduled.state == State.WITHDRAWN and "before the date" in scheduled.outcome
    assert scheduled_cancellations_carry_out_due(now=due) == 0
    assert OrderEvent.objects.filter(order=submitted, to_status=OrderStatus.CANCELLED).count() == 1


def test_the_due_scan_runs_every_minute_on_the_housekeeping_queue(settings):
    entries = [
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == cancel_due_orders.name
    ]

    assert [entry["schedule"] for entry in entries] == [60.0]
    assert settings.CELERY_TASK_ROUTES[cancel_due_orders.name] == {
        "queue": settings.OUTBOX_HOUSEKEEPING_QUEUE
    }


def test_the_back_office_order_page_shows_its_cancellations_for_a_later_date(
    client, submitted, lead_user
):
    schedule(submitted, due=later())

    client.force_login(lead_user)
    page = client.get(reverse("admin:orders_order_change", args=[submitted.pk]))

    assert page.status_code == 200
    text = page.content.decode()
    assert "Cancellations for a later date" in text and REASON in text


def test_a_withdrawal_by_the_system_says_so_without_a_name(submitted):
    schedule(submitted, due=later())

    withdrawn = order_cancellation_withdraw(submitted, actor=None, source=EventSource.ADMIN)

    assert (withdrawn.state, withdrawn.outcome, withdrawn.settled_by) == (
        State.WITHDRAWN,
        "Withdrawn.",
        None,
    )
