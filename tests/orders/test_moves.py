"""Move home (orders.moves): one request, two linked orders of one group, a new line at the new
address and the cease of the old line, carried out together. The cease waits while the new
line is set up and runs only when it is live: the customer is never without a line. Cancelling
the move cancels both; a rejected new line cancels the cease; a refusal writes nothing."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from inventory.models import Product, ProductStatus
from orders import services
from orders.changes import order_submit_change
from orders.errors import CancellationRefused, DuplicateOrder, NotServiceable
from orders.models import Order, OrderEvent, OrderGroup, ServiceArea
from orders.moves import MoveSubmission, NewAddress, order_submit_move
from orders.outbox import dispatch
from orders.overrides import order_force_status
from orders.selectors import customer_status_label
from orders.services import (
    order_amend,
    order_cancel,
    order_confirm_manual_activation,
    orders_release_due,
)
from orders.states import EventSource, ItemAction, ItemChange, ItemState, OrderStatus
from provisioning.models import FulfilmentTask, TaskState
from provisioning.scheduler import task_run
from provisioning.services import fulfilment_start
from tests.factories import ServiceAreaFactory, StaticIpOfferingFactory, submit_order
from tests.provisioning.running import held_by_network, run_ready

pytestmark = pytest.mark.django_db

NEW_HOME = NewAddress(address_line1="4 New Road", city="Newtown", postcode="NW1 4AA")


@pytest.fixture
def new_area(db) -> ServiceArea:
    return ServiceAreaFactory(postcode="NW1 4AA", exchange="Newtown")


def move(line: Product, *, address: NewAddress = NEW_HOME, **kwargs) -> MoveSubmission:
    """The move taken, its after-commit work kept back (the test runs the plans itself)."""
    return order_submit_move(
        line.pk, address, channel=EventSource.SUPPORT_PORTAL, submitted_by=None, **kwargs
    )


def fresh(order: Order) -> Order:
    return Order.objects.get(pk=order.pk)


def test_a_move_is_two_linked_orders_and_the_cease_waits_for_the_new_line(live_line, new_area):
    # When support takes Jane's move to her new home
    submission = move(live_line)

    # Then one group holds two orders: a new line at the new address for Jane...
    provide, cease = fresh(submission.provide), fresh(submission.cease)
    assert submission.group.kind == OrderGroup.Kind.MOVE
    assert set(submission.group.orders.all()) == {provide, cease}
    assert provide.customer == cease.customer == live_line.customer
    assert provide.service_postcode == "NW14AA" and provide.product_ref is None
    assert [(i.action, i.offering) for i in provide.items.all()] == [
        (ItemAction.ADD, live_line.offering)
    ]
    assert provide.status == OrderStatus.SUBMITTED
    # ... and the cease of the old line, held until the new line is live
    assert cease.product_ref == live_line.pk and cease.waits_for == provide
    assert [i.action for i in cease.items.all()] == [ItemAction.DELETE]
    assert cease.status == OrderStatus.SCHEDULED
    held = cease.events.get(to_status=OrderStatus.SCHEDULED)
    assert held.reason == f"Waits for the new line {provide.display_id} to go live."
    # ... which the customer reads as waiting for the new line, not for a date
    assert customer_status_label(cease) == "Scheduled: when your new line is live"


def test_the_old_line_is_ceased_only_when_the_new_one_is_live(
    live_line, new_area, django_capture_on_commit_callbacks
):
    submission = move(live_line)
    old_line_on_network = held_by_network(live_line.order)

    # Given the new line is being set up, up to its activation
    fulfilment_start(submission.provide.pk)
    run_ready(submission.provide, until="1.activate_line")

    # Then the old line still works and its cease has not started
    cease = fresh(submission.cease)
    assert cease.status == OrderStatus.SCHEDULED
    assert not FulfilmentTask.objects.filter(order=cease).exists()
    assert held_by_network(live_line.order) == old_line_on_network
    live_line.refresh_from_db()
    assert live_line.status == ProductStatus.ACTIVE

    # When the new line goes live (and its work after commit runs, as the workers would)
    with django_capture_on_commit_callbacks(execute=True):
        run_ready(submission.provide)

    # Then the cease was released by the new line going live, and ran
    provide, cease = fresh(submission.provide), fresh(submission.cease)
    assert provide.status == OrderStatus.COMPLETED
    assert cease.status == OrderStatus.COMPLETED
    live_at = provide.events.get(to_status=OrderStatus.ACTIVATED)
    released = cease.events.get(from_status=OrderStatus.SCHEDULED)
    assert released.pk > live_at.pk
    assert released.reason == (
        f"The new line {provide.display_id} is live: the old line is ceased now."
    )
    # ... the old line is off the network and terminated, the new one is active
    assert held_by_network(live_line.order) == set()
    live_line.refresh_from_db()
    assert live_line.status == ProductStatus.TERMINATED
    new_line = Product.objects.get(order=provide, parent__isnull=True)
    assert new_line.status == ProductStatus.ACTIVE
    assert new_line.customer == live_line.customer


def test_a_new_line_confirmed_live_by_a_person_releases_the_cease(
    live_line, manual_area, provisioning_user, django_capture_on_commit_callbacks
):
    # Given a move to an address whose exchange is not automated: the new line is set up by hand
    address = NewAddress(address_line1="2 Loch View", city="Inverness", postcode="IV1 1AA")
    with django_capture_on_commit_callbacks(execute=True):
        submission = move(live_line, address=address)
    assert fresh(submission.provide).status == OrderStatus.AWAITING_MANUAL
    assert fresh(submission.cease).status == OrderStatus.SCHEDULED

    # When the engineer confirms the new line is live
    with django_capture_on_commit_callbacks(execute=True):
        order_confirm_manual_activation(
            submission.provide.pk,
            actor=provisioning_user,
            reason="Engineer connected the line on site.",
            source=EventSource.STAFF_PORTAL,
        )

    # Then the old line is ceased
    assert fresh(submission.cease).status == OrderStatus.COMPLETED
    live_line.refresh_from_db()
    assert live_line.status == ProductStatus.TERMINATED


def test_the_release_beat_and_date_edits_never_release_the_waiting_cease(live_line, new_area):
    # Given a move for a date in a few days
    today = timezone.localdate()
    submission = move(live_line, requested_date=today + datetime.timedelta(days=3))
    assert fresh(submission.provide).status == OrderStatus.SCHEDULED

    # When the date comes, the beat releases the new line only
    assert orders_release_due(today=today + datetime.timedelta(days=5)) == 1
    assert fresh(submission.provide).status == OrderStatus.SUBMITTED
    assert fresh(submission.cease).status == OrderStatus.SCHEDULED

    # ... and bringing the cease's date forward to today does not release it either
    amended = order_amend(
        submission.cease.pk,
        actor=None,
        source=EventSource.SUPPORT_PORTAL,
        requested_activation_date=today,
    )
    assert amended.changed == ("requested_activation_date",)
    assert fresh(submission.cease).status == OrderStatus.SCHEDULED


@pytest.mark.parametrize("side", ["cease", "provide"])
def test_cancelling_either_order_of_the_move_cancels_both(
    live_line, new_area, sales_user, side, django_capture_on_commit_callbacks
):
    # Given the new line is half set up on the network
    submission = move(live_line)
    fulfilment_start(submission.provide.pk)
    run_ready(submission.provide, until="1.activate_line")

    # When the customer calls off the move, on either of its orders
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(
            getattr(submission, side).pk,
            actor=sales_user,
            reason="Customer is not moving after all.",
            source=EventSource.SALES_PORTAL,
        )

    # Then both are cancelled: the new line's work is undone, the old line stays as it was
    provide, cease = fresh(submission.provide), fresh(submission.cease)
    assert provide.status == OrderStatus.CANCELLED
    assert held_by_network(provide) == set()
    assert cease.status == OrderStatus.CANCELLED
    assert not FulfilmentTask.objects.filter(order=cease).exists()
    other = cease if side == "provide" else provide
    cancelled = other.events.filter(to_status__in=[OrderStatus.CANCELLING, OrderStatus.CANCELLED])
    assert cancelled.first().reason.startswith("The move is off: order ")
    live_line.refresh_from_db()
    assert live_line.status == ProductStatus.ACTIVE


@pytest.mark.parametrize("side", ["cease", "provide"])
def test_past_the_new_lines_point_of_no_return_the_move_cannot_be_cancelled(
    live_line, new_area, sales_user, side
):
    # Given the new line's activation has started on the network
    submission = move(live_line)
    fulfilment_start(submission.provide.pk)
    run_ready(submission.provide, until="1.activate_line")
    FulfilmentTask.objects.filter(order=submission.provide, key="1.activate_line").update(
        state=TaskState.RUNNING, started_at=timezone.now()
    )

    # When anyone tries to cancel either order, it is refused, saying why
    with pytest.raises(CancellationRefused) as refused:
        order_cancel(
            getattr(submission, side).pk,
            actor=sales_user,
            reason="Customer is not moving after all.",
            source=EventSource.SALES_PORTAL,
        )
    assert refused.value.reason_code == "PONR"
    assert "point of no return" in refused.value.message

    # ... and neither order changed
    assert fresh(submission.provide).status == OrderStatus.PROVISIONING
    assert fresh(submission.cease).status == OrderStatus.SCHEDULED


def test_a_forced_cancel_of_the_cease_past_that_point_leaves_the_new_line_going_on(
    live_line, new_area, lead_user
):
    # Given the new line's activation has started on the network
    submission = move(live_line)
    fulfilment_start(submission.provide.pk)
    run_ready(submission.provide, until="1.activate_line")
    FulfilmentTask.objects.filter(order=submission.provide, key="1.activate_line").update(
        state=TaskState.RUNNING, started_at=timezone.now()
    )

    # When a lead forces the cease cancelled (the customer keeps the old line too)
    order_force_status(
        submission.cease.pk,
        to_status=OrderStatus.CANCELLED,
        actor=lead_user,
        reason="Customer keeps both lines.",
        expected_version=None,
    )

    # Then the cease is cancelled, the new line goes on, and its history says why
    assert fresh(submission.cease).status == OrderStatus.CANCELLED
    provide = fresh(submission.provide)
    assert provide.status == OrderStatus.PROVISIONING
    note = provide.events.get(kind=OrderEvent.Kind.NOTE)
    assert note.reason.startswith(f"Order {submission.cease.display_id} of this move was cancelled")
    assert "point of no return" in note.reason


def test_a_forced_cancel_of_the_cease_locks_the_new_line_first_as_its_activation_does(
    live_line, new_area, lead_user, monkeypatch
):
    # Given a move under way, and every order lock taken from here on written down
    submission = move(live_line)
    locked: list[str] = []
    real_lock = services.order_lock

    def recording_lock(order_pk: str) -> Order:
        locked.append(order_pk)
        return real_lock(order_pk)

    monkeypatch.setattr(services, "order_lock", recording_lock)

    # When a lead forces the cease cancelled
    order_force_status(
        submission.cease.pk,
        to_status=OrderStatus.CANCELLED,
        actor=lead_user,
        reason="Customer keeps both lines.",
        expected_version=None,
    )

    # Then the new line was locked before the cease, the order the new line's activation takes
    # them in (the other order would let the two deadlock on PostgreSQL)
    assert locked[:2] == [submission.provide.pk, submission.cease.pk]
    assert fresh(submission.cease).status == OrderStatus.CANCELLED


def test_a_rejected_new_line_cancels_the_cease(live_line, new_area):
    # Given the new address's network was downgraded after the move was taken
    submission = move(live_line)
    ServiceArea.objects.filter(pk=new_area.pk).update(max_download_mbps=100)

    # When provisioning checks the new line, it rejects it
    fulfilment_start(submission.provide.pk)

    # Then the cease is cancelled with the reason, and the old line is kept
    assert fresh(submission.provide).status == OrderStatus.REJECTED
    cease = fresh(submission.cease)
    assert cease.status == OrderStatus.CANCELLED
    reason = cease.events.get(to_status=OrderStatus.CANCELLED).reason
    assert reason.startswith(f"The move is off: order {submission.provide.display_id} was rejected")
    live_line.refresh_from_db()
    assert live_line.status == ProductStatus.ACTIVE


def test_an_unserviceable_new_address_is_refused_with_nothing_written(live_line):
    before = Order.objects.count()

    with pytest.raises(NotServiceable) as refused:
        move(
            live_line, address=NewAddress(address_line1="1 Far Away", city="X", postcode="ZZ9 9ZZ")
        )

    assert "postcode" in refused.value.field_errors
    assert Order.objects.count() == before
    assert not OrderGroup.objects.exists()


def test_a_refused_cease_takes_the_new_line_back_too(live_line, new_area):
    # Given the line has a change of its own in flight
    suspension = order_submit_change(
        live_line.pk, ItemChange.SUSPEND, channel=EventSource.API, submitted_by=None
    ).order
    before = Order.objects.count()

    # When a move is taken, its cease is refused (one order at a time per line)...
    with pytest.raises(DuplicateOrder) as refused:
        move(live_line)

    # ... and the new line's order, written first in the same transaction, is gone with it
    assert refused.value.existing == suspension
    assert Order.objects.count() == before
    assert not OrderGroup.objects.exists()


def test_add_ons_move_with_the_line_and_the_same_request_is_taken_once(
    plan, serviceable_area, new_area, django_capture_on_commit_callbacks
):
    # Given a line with a static IP
    static_ip = StaticIpOfferingFactory()
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(
            plan=plan, add_ons=(static_ip,), area=serviceable_area, email="kim@example.com"
        ).order
    line = Product.objects.get(order=order, parent__isnull=True)

    # When the move is sent twice with the same key
    first = move(line, idempotency_key="move-kim-1")
    again = move(line, idempotency_key="move-kim-1")

    # Then there is one move; the new line comes with the static IP, the cease takes both off
    assert (again.provide, again.cease, again.created) == (first.provide, first.cease, False)
    assert OrderGroup.objects.count() == 1
    provide_items = list(first.provide.items.order_by("position"))
    assert [(i.offering, i.state) for i in provide_items] == [
        (plan, ItemState.PENDING),
        (static_ip, ItemState.PENDING),
    ]
    assert [i.action for i in first.cease.items.all()] == [ItemAction.DELETE] * 2


@pytest.mark.postgresql  # about PostgreSQL's row locks; SQLite has one writer at a time
@pytest.mark.django_db(transaction=True)
def test_a_cancel_of_the_move_and_the_new_line_going_live_at_once_end_in_one_valid_outcome(
    monkeypatch, run_in_threads, live_line, new_area, sales_user
):
    # Given the new line's activation is ready to run (the workers' messages kept back)
    monkeypatch.setattr(dispatch, "outbox_dispatch", lambda message_id: False)
    monkeypatch.setattr(dispatch, "outbox_dispatch_many", lambda message_ids: 0)
    submission = move(live_line)
    fulfilment_start(submission.provide.pk)
    run_ready(submission.provide, until="1.activate_line")
    activation = FulfilmentTask.objects.get(order=submission.provide, key="1.activate_line")

    def cancelling() -> str:
        try:
            order_cancel(
                submission.cease.pk,
                actor=sales_user,
                reason="Customer is not moving after all.",
                source=EventSource.SALES_PORTAL,
            )
        except CancellationRefused as refused:
            return refused.reason_code
        return "cancelled"

    # When the rep cancels the move while a worker activates the new line
    outcome, _ = run_in_threads(cancelling, lambda: task_run(activation.pk))

    # Then one of them won, and the pair agrees: both called off, or the new line live and the
    # old line's cease on its way
    provide, cease = fresh(submission.provide), fresh(submission.cease)
    if outcome == "cancelled":
        assert provide.status in (OrderStatus.CANCELLING, OrderStatus.CANCELLED)
        assert cease.status == OrderStatus.CANCELLED
    else:
        assert outcome in ("PONR", "CLOSED")
        assert provide.status == OrderStatus.ACTIVATED
        assert cease.status == OrderStatus.SUBMITTED
