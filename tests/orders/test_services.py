"""Order intake and the lifecycle (orders/services.py): DESIGN invariants 2, 4, 6 and 9."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from orders import services
from orders.models import Customer, Order, OrderEvent, OutboxMessage
from orders.services import (
    CustomerUnconfirmed,
    DuplicateOrder,
    NotServiceable,
    OrderConflict,
    OrderError,
    PhoneMatch,
    order_cancel,
    order_confirm_manual_activation,
    orders_release_due,
)
from orders.states import EventSource, OrderStatus
from tests.factories import CustomerFactory, PlanFactory, ServiceAreaFactory, submit_order

pytestmark = pytest.mark.django_db


def status_path(order: Order) -> list[tuple[str, str]]:
    """The order's status history as (from, to) pairs, oldest first."""
    return list(
        OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.STATUS_CHANGED)
        .order_by("created_at", "id")
        .values_list("from_status", "to_status")
    )


def snapshot(order: Order) -> tuple[str, int]:
    order.refresh_from_db()
    return order.status, order.events.count()


# --- intake ---------------------------------------------------------------------------------
def test_submit_creates_a_submitted_order_with_one_status_event(plan, manual_area, sales_user):
    # Given a complete order for a serviceable address
    # When the sales rep submits it (after-commit work not yet run)
    submission = submit_order(plan=plan, area=manual_area, submitted_by=sales_user)
    # Then one order exists, submitted, with exactly one history row that says who and where
    order = submission.order
    assert submission.created is True
    assert submission.customer_created is True
    assert Order.objects.get().pk == order.pk
    assert order.status == OrderStatus.SUBMITTED
    event = OrderEvent.objects.get(order=order)
    assert (event.kind, event.from_status, event.to_status) == (
        OrderEvent.Kind.STATUS_CHANGED,
        "",
        OrderStatus.SUBMITTED,
    )
    assert event.actor == sales_user
    assert event.source == EventSource.SALES_PORTAL
    assert order.submitted_by == sales_user
    # ... and its activation is queued for after commit
    queued = OutboxMessage.objects.filter(order=order, dispatched_at__isnull=True)
    assert queued.filter(task_name="provisioning.fulfil_order").count() == 1


def test_us04_price_is_locked_when_the_order_is_taken(plan, manual_area):
    # Given an order taken at 35.00
    order = submit_order(plan=plan, area=manual_area).order
    # When the catalog price changes afterwards
    plan.monthly_price = Decimal("49.99")
    plan.save()
    # Then the order keeps the price it was sold at
    order.refresh_from_db()
    assert order.monthly_price == Decimal("35.00")
    assert order.currency == "GBP"


def test_same_idempotency_key_returns_the_first_order_and_creates_nothing(plan, manual_area):
    # Given an order submitted with an idempotency key
    first = submit_order(
        plan=plan, area=manual_area, idempotency_key="form-123", email="a@example.com"
    )
    counts = (Order.objects.count(), Customer.objects.count(), OrderEvent.objects.count())
    # When the same request arrives again (double click, client retry)
    again = submit_order(
        plan=plan, area=manual_area, idempotency_key="form-123", email="a@example.com"
    )
    # Then the first order comes back and nothing new is written
    assert again.created is False
    assert again.order.pk == first.order.pk
    assert (Order.objects.count(), Customer.objects.count(), OrderEvent.objects.count()) == counts


def test_open_order_for_same_customer_address_and_plan_is_a_duplicate(plan, manual_area):
    # Given an open order (waiting in the manual pool) for a customer, address and plan
    details = {"email": "dup@example.com", "address_line1": "1 High Street"}
    first = submit_order(plan=plan, area=manual_area, **details).order
    # When the same order is submitted again without an idempotency key
    with pytest.raises(DuplicateOrder) as refused:
        submit_order(plan=plan, area=manual_area, **details)
    # Then it is refused, naming the open order
    assert refused.value.existing.pk == first.pk
    assert first.display_id in refused.value.message
    assert Order.objects.count() == 1


def test_after_the_first_order_is_completed_a_new_one_is_allowed(
    plan, serviceable_area, django_capture_on_commit_callbacks
):
    details = {"email": "again@example.com", "address_line1": "1 High Street"}
    with django_capture_on_commit_callbacks(execute=True):
        first = submit_order(plan=plan, area=serviceable_area, **details).order
    first.refresh_from_db()
    assert first.status == OrderStatus.COMPLETED
    # When the customer orders the same plan at the same address again
    second = submit_order(plan=plan, area=serviceable_area, **details)
    # Then it is a new order for the same customer
    assert second.created is True
    assert second.order.pk != first.pk
    assert second.order.customer_id == first.customer_id


def test_after_the_first_order_is_cancelled_a_new_one_is_allowed(plan, manual_area, sales_user):
    details = {"email": "again@example.com", "address_line1": "1 High Street"}
    first = submit_order(plan=plan, area=manual_area, **details).order
    order_cancel(
        first, actor=sales_user, reason="Customer changed their mind.", source=EventSource.ADMIN
    )
    second = submit_order(plan=plan, area=manual_area, **details)
    assert second.created is True
    assert Order.objects.count() == 2


def test_existing_customer_is_found_by_email_in_any_case(plan, manual_area):
    first = submit_order(plan=plan, area=manual_area, email="Jane.Doe@Example.com")
    # When the same person orders again, e-mail typed differently, new phone, new address
    second = submit_order(
        plan=plan,
        area=manual_area,
        email="  jane.doe@EXAMPLE.COM ",
        phone="07999 111222",
        address_line1="9 Other Road",
    )
    # Then the customer record is reused, not typed twice
    assert second.customer_created is False
    assert second.order.customer_id == first.order.customer_id
    assert Customer.objects.count() == 1


def test_a_phone_number_alone_never_attaches_the_order_to_its_customer(plan, manual_area):
    # Given a customer, and a household member who orders with the same phone number
    first = submit_order(plan=plan, area=manual_area, name="Jane Doe", phone="+44 7700 900123")
    # When the second person orders with their own name, e-mail and address
    second = submit_order(
        plan=plan,
        area=manual_area,
        name="John Doe",
        email="john.doe@example.com",
        phone="+44-7700-900-123",
        address_line1="9 Other Road",
    )
    # Then the order is theirs, with what they typed, and not in the first customer's orders
    assert second.customer_created is True
    john = second.order.customer
    assert (john.name, john.email, john.address_line1) == (
        "John Doe",
        "john.doe@example.com",
        "9 Other Road",
    )
    assert list(first.order.customer.orders.all()) == [first.order]


def test_a_phone_only_match_is_put_to_the_person_taking_the_order(plan, manual_area):
    # Given a customer with this phone number and another e-mail
    first = submit_order(plan=plan, area=manual_area, phone="07700 900123")
    before = Order.objects.count(), Customer.objects.count()
    # When an order for a new e-mail and the same number asks on a phone-only match
    with pytest.raises(CustomerUnconfirmed) as asked:
        submit_order(
            plan=plan,
            area=manual_area,
            email="new.address@example.com",
            phone="+44 7700 900123",
            phone_match=PhoneMatch.ASK,
        )
    # Then it names the customer(s) with that number, on the choice to make; nothing written
    assert asked.value.candidates == [first.order.customer]
    assert set(asked.value.field_errors) == {"same_customer"}
    assert (Order.objects.count(), Customer.objects.count()) == before


def test_a_confirmed_phone_match_orders_for_that_customer(plan, manual_area):
    # Given a customer with this phone number, confirmed by the rep as the one ordering
    first = submit_order(plan=plan, area=manual_area, phone="07700 900123")
    # When the order is submitted for them with the e-mail they gave today
    second = submit_order(
        plan=plan,
        area=manual_area,
        email="new.address@example.com",
        phone="07700 900123",
        address_line1="9 Other Road",
        phone_match=PhoneMatch.ASK,
        same_customer=first.order.customer_id,
    )
    # Then it is that customer's order, at the address typed
    assert second.customer_created is False
    assert second.order.customer_id == first.order.customer_id
    assert second.order.service_address_line1 == "9 Other Road"


def test_a_confirmation_naming_a_customer_without_that_number_asks_again(plan, manual_area):
    other = submit_order(plan=plan, area=manual_area, phone="07700 111111").order.customer
    submit_order(plan=plan, area=manual_area, phone="07700 900123")
    with pytest.raises(CustomerUnconfirmed):
        submit_order(
            plan=plan,
            area=manual_area,
            phone="07700 900123",
            phone_match=PhoneMatch.ASK,
            same_customer=other.pk,
        )


def test_a_customer_committed_between_the_email_and_phone_lookups_is_an_email_match(
    plan, manual_area, monkeypatch
):
    # Given a concurrent first order for the same person that commits its customer just after
    # this order looked the e-mail up, before it looks the phone number up
    real_sharing_phone = services.customers_sharing_phone

    def the_twin_commits_first(phone):
        CustomerFactory(name="Jane Doe", email="jane@example.com", phone=phone)
        return real_sharing_phone(phone)

    monkeypatch.setattr(services, "customers_sharing_phone", the_twin_commits_first)
    # When this order is taken by a rep (who would be asked on a phone-only match)
    submission = submit_order(
        plan=plan,
        area=manual_area,
        email="Jane@Example.com",
        phone="07700 900123",
        phone_match=PhoneMatch.ASK,
    )
    # Then it is hers (the same e-mail), with no question asked
    assert submission.order.customer.email == "jane@example.com"
    assert Customer.objects.count() == 1


def test_unserviceable_postcode_is_refused_at_the_postcode_field(plan):
    with pytest.raises(NotServiceable) as refused:
        submit_order(plan=plan, postcode="ZZ9 9ZZ")
    assert set(refused.value.field_errors) == {"postcode"}
    assert "don't offer service" in refused.value.field_errors["postcode"]
    assert Order.objects.count() == Customer.objects.count() == 0


def test_plan_faster_than_the_area_is_refused_at_the_plan_field():
    slow_area = ServiceAreaFactory(max_download_mbps=80)
    gigabit = PlanFactory(download_mbps=1000, name="Gigabit")
    with pytest.raises(NotServiceable) as refused:
        submit_order(plan=gigabit, area=slow_area)
    assert set(refused.value.field_errors) == {"plan"}
    assert "Gigabit" in refused.value.field_errors["plan"]
    assert Order.objects.count() == 0


def test_requested_date_in_the_past_is_refused(plan, manual_area):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    with pytest.raises(OrderError) as refused:
        submit_order(plan=plan, area=manual_area, requested_activation_date=yesterday)
    assert set(refused.value.field_errors) == {"requested_activation_date"}
    assert Order.objects.count() == 0


def test_future_dated_order_is_held_then_released_on_its_date_and_activates(
    plan, serviceable_area, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    due = today + datetime.timedelta(days=7)
    # Given an order for a date next week
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area, requested_activation_date=due).order
    order.refresh_from_db()
    # Then it waits, scheduled, with nothing queued for activation
    assert order.status == OrderStatus.SCHEDULED
    assert not order.tasks.exists()
    # When the scheduler runs before the date, nothing moves
    with django_capture_on_commit_callbacks(execute=True):
        assert orders_release_due(today=due - datetime.timedelta(days=1)) == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.SCHEDULED
    # When it runs on the date, the order is released and activates
    with django_capture_on_commit_callbacks(execute=True):
        assert orders_release_due(today=due) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert status_path(order)[:3] == [
        ("", OrderStatus.SUBMITTED),
        (OrderStatus.SUBMITTED, OrderStatus.SCHEDULED),
        (OrderStatus.SCHEDULED, OrderStatus.SUBMITTED),
    ]


# --- the lifecycle ----------------------------------------------------------------------------
def test_every_status_change_writes_exactly_one_event_with_from_and_to(
    plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given an order that goes the whole way on its own
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area).order
    order.refresh_from_db()
    # Then its history is an unbroken chain, one row per change, ending at the current status
    path = status_path(order)
    assert path == [
        ("", OrderStatus.SUBMITTED),
        (OrderStatus.SUBMITTED, OrderStatus.PROVISIONING),
        (OrderStatus.PROVISIONING, OrderStatus.ACTIVATED),
        (OrderStatus.ACTIVATED, OrderStatus.COMPLETED),
    ]
    assert path[-1][1] == order.status
    assert order.activated_at is not None
    assert order.completed_at is not None


def test_a_manual_path_is_recorded_the_same_way_with_the_person_as_actor(
    plan, manual_area, lead_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=manual_area).order
    with django_capture_on_commit_callbacks(execute=True):
        order_confirm_manual_activation(
            order, actor=lead_user, reason="Engineer lit the port.", source=EventSource.ADMIN
        )
    order.refresh_from_db()
    assert status_path(order) == [
        ("", OrderStatus.SUBMITTED),
        (OrderStatus.SUBMITTED, OrderStatus.AWAITING_MANUAL),
        (OrderStatus.AWAITING_MANUAL, OrderStatus.ACTIVATED),
        (OrderStatus.ACTIVATED, OrderStatus.COMPLETED),
    ]
    confirmed = order.events.get(to_status=OrderStatus.ACTIVATED)
    assert confirmed.actor == lead_user
    assert confirmed.reason == "Engineer lit the port."


def test_status_cannot_be_assigned_directly(plan, manual_area):
    order = submit_order(plan=plan, area=manual_area).order
    # When code tries to set the status field instead of running a transition
    with pytest.raises(AttributeError, match="modification is not allowed"):
        order.status = OrderStatus.COMPLETED
    # Then nothing changed
    assert snapshot(order) == (OrderStatus.SUBMITTED, 1)


def test_cancelling_a_completed_order_is_a_conflict_and_changes_nothing(
    plan, serviceable_area, sales_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area).order
    before = snapshot(order)
    assert before[0] == OrderStatus.COMPLETED
    with pytest.raises(OrderConflict, match="cannot be cancelled: it is completed"):
        order_cancel(order, actor=sales_user, reason="Too late.", source=EventSource.ADMIN)
    assert snapshot(order) == before


def test_acting_on_a_stale_view_of_the_order_is_a_conflict_and_changes_nothing(
    plan, manual_area, sales_user, lead_user, django_capture_on_commit_callbacks
):
    # Given two people looking at the same order waiting for manual provisioning
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=manual_area).order
    seen_by_both = OrderStatus.AWAITING_MANUAL
    # When the lead activates it first
    with django_capture_on_commit_callbacks(execute=True):
        order_confirm_manual_activation(
            order,
            actor=lead_user,
            reason="Activated.",
            source=EventSource.ADMIN,
            expected_status=seen_by_both,
        )
    before = snapshot(order)
    # Then the sales rep's cancel, made on what they saw, is refused with a clear message
    with pytest.raises(OrderConflict, match="changed while you were looking"):
        order_cancel(
            order,
            actor=sales_user,
            reason="Customer called to cancel.",
            source=EventSource.SALES_PORTAL,
            expected_status=seen_by_both,
        )
    assert snapshot(order) == before


def test_cancel_requires_a_reason(plan, manual_area, sales_user):
    order = submit_order(plan=plan, area=manual_area).order
    with pytest.raises(OrderError) as refused:
        order_cancel(order, actor=sales_user, reason="   ", source=EventSource.SALES_PORTAL)
    assert set(refused.value.field_errors) == {"reason"}
    assert snapshot(order) == (OrderStatus.SUBMITTED, 1)
    # ... with a reason it goes through, and the reason is on the event
    order_cancel(order, actor=sales_user, reason="Moving house.", source=EventSource.SALES_PORTAL)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.closed_at is not None
    event = order.events.get(to_status=OrderStatus.CANCELLED)
    assert (event.actor, event.reason) == (sales_user, "Moving house.")
