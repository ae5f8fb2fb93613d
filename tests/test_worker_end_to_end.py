"""Acceptance with a real Celery worker process: many orders, from intake to a started bill or
to the exception queue, with no doubles and nothing left unsent (DESIGN invariants 3-6)."""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.db.models import Count

from billing.models import BillingAccount
from orders.catalogue import specification_for
from orders.models import Order, OrderEvent, OutboxMessage, Plan, ProductKind, ServiceArea
from orders.roles import Role
from orders.services import CustomerDetails, order_submit
from orders.states import EventSource, OrderStatus
from provisioning.models import ExceptionCase, ReasonCode, TaskAttempt

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ORDER_COUNT = 200
RESUBMIT_EVERY = 25  # every 25th order is sent a second time with the same idempotency key
SETTLE_TIMEOUT_SECONDS = 240.0
IN_FLIGHT = (OrderStatus.SUBMITTED, OrderStatus.PROVISIONING, OrderStatus.ACTIVATED)


def _area_for(n: int, *, ordinary: ServiceArea, faulty: ServiceArea, flakey: ServiceArea):
    # One in eight fails permanently, one in eight fails once and then succeeds.
    return {3: faulty, 6: flakey}.get(n % 8, ordinary)


def _details(n: int, area: ServiceArea) -> CustomerDetails:
    return CustomerDetails(
        name=f"Customer {n:03d}",
        email=f"customer{n:03d}@example.com",
        phone=f"07700{n:06d}",
        address_line1=f"{n} Load Street",
        city="Testville",
        postcode=area.postcode,
    )


def _settle(timeout: float) -> tuple[bool, Counter[str], int]:
    """Wait until no order is in flight and every outbox message is done."""
    deadline = time.monotonic() + timeout
    while True:
        by_status = Counter(
            dict(Order.objects.order_by().values_list("status").annotate(n=Count("pk")))
        )
        pending = OutboxMessage.objects.filter(completed_at__isnull=True).count()
        settled = not any(by_status.get(s) for s in IN_FLIGHT) and pending == 0
        if settled or time.monotonic() > deadline:
            return settled, by_status, pending
        time.sleep(0.5)


def _stuck_summary(by_status: Counter[str], pending: int) -> str:
    lines = [f"orders by status: {dict(by_status)}; outbox messages not done: {pending}"]
    for order in Order.objects.filter(status__in=IN_FLIGHT)[:15]:
        last = order.events.order_by("-created_at", "-id").first()
        lines.append(f"  {order.pk} {order.status} ({order.service_area.exchange}); last: {last}")
    return "\n".join(lines)


def test_two_hundred_orders_end_completed_and_billed_or_in_one_owned_exception_case(
    celery_worker_process, capsys
):
    # Given two plans, an ordinary exchange, Faultybridge (no free ports) and Flakeyford (times
    # out once), a provisioning lead to own exception cases and a sales rep taking the orders
    plans = [
        Plan.objects.create(
            specification=specification_for(ProductKind.INTERNET_ACCESS),
            code="e2e-150",
            name="Fibre 150",
            download_mbps=150,
            upload_mbps=30,
            monthly_price=Decimal("32.00"),
        ),
        Plan.objects.create(
            specification=specification_for(ProductKind.INTERNET_ACCESS),
            code="e2e-500",
            name="Fibre 500",
            download_mbps=500,
            upload_mbps=75,
            monthly_price=Decimal("42.50"),
        ),
    ]
    ordinary, faulty, flakey = (
        ServiceArea.objects.create(
            postcode=postcode, exchange=exchange, technology="fttp", max_download_mbps=1000
        )
        for postcode, exchange in (
            ("SW1A 1AA", "Westminster"),
            ("FA1 1LT", "Faultybridge"),
            ("FL1 1KY", "Flakeyford"),
        )
    )
    lead = User.objects.create_user("lead", password="x")
    lead.groups.add(Group.objects.get(name=Role.PROVISIONING_LEAD))
    sales = User.objects.create_user("sales", password="x")
    sales.groups.add(Group.objects.get(name=Role.SALES))

    # When 200 distinct customers order, and some orders are submitted a second time with the
    # same idempotency key (a client retry), while a real worker activates them
    started = time.monotonic()
    submitted: dict[str, ServiceArea] = {}
    for n in range(ORDER_COUNT):
        area = _area_for(n, ordinary=ordinary, faulty=faulty, flakey=flakey)
        for _ in range(2 if n % RESUBMIT_EVERY == 0 else 1):
            submission = order_submit(
                customer=_details(n, area),
                plan=plans[n % 2],
                requested_activation_date=None,
                channel=EventSource.SALES_PORTAL,
                submitted_by=sales,
                idempotency_key=f"e2e-{n}",
            )
            assert submission.order.pk not in submitted or not submission.created
            submitted[submission.order.pk] = area
    intake_seconds = time.monotonic() - started
    settled, by_status, pending = _settle(SETTLE_TIMEOUT_SECONDS)
    wall = time.monotonic() - started
    with capsys.disabled():
        print(
            f"\n[worker e2e] {ORDER_COUNT} orders: intake {intake_seconds:.1f} s, all settled "
            f"after {wall:.1f} s ({ORDER_COUNT / wall:.1f} orders/s end to end); {dict(by_status)}"
        )

    # Then every order settled: completed, or held in the exception queue
    assert settled, _stuck_summary(by_status, pending)
    assert len(submitted) == ORDER_COUNT
    assert Order.objects.count() == ORDER_COUNT
    assert not Order.objects.filter(status__in=IN_FLIGHT).exists()
    assert set(by_status) <= {OrderStatus.COMPLETED, OrderStatus.EXCEPTION}

    # and the exception orders are exactly the Faultybridge ones
    exception_ids = set(
        Order.objects.filter(status=OrderStatus.EXCEPTION).values_list("pk", flat=True)
    )
    faulty_ids = {pk for pk, area in submitted.items() if area == faulty}
    assert exception_ids == faulty_ids
    assert len(faulty_ids) == ORDER_COUNT // 8

    # and each completed order has exactly one billing account matching the order record
    for order in Order.objects.filter(status=OrderStatus.COMPLETED).select_related("plan"):
        accounts = list(BillingAccount.objects.filter(order=order))
        assert len(accounts) == 1, order.pk
        account = accounts[0]
        assert account.plan_id == order.plan_id, order.pk
        assert account.monthly_price == order.monthly_price, order.pk
        assert account.start_date == order.activation_date, order.pk

    # and each exception order has exactly one active case, with a reason code and an owner,
    # and no billing account
    for pk in exception_ids:
        cases = list(
            ExceptionCase.objects.filter(
                order_id=pk, state__in=[ExceptionCase.State.OPEN, ExceptionCase.State.RETRYING]
            )
        )
        assert len(cases) == 1, pk
        assert cases[0].reason_code == ReasonCode.PORT_UNAVAILABLE, pk
        assert cases[0].owner == lead, pk
    assert not BillingAccount.objects.filter(order_id__in=exception_ids).exists()

    # and the Flakeyford orders completed after their subscriber was created at the second try
    # (a timeout, then success), every other task done once
    flakey_ids = [pk for pk, area in submitted.items() if area == flakey]
    assert len(flakey_ids) == ORDER_COUNT // 8
    for pk in flakey_ids:
        attempts = list(
            TaskAttempt.objects.filter(order_id=pk)
            .order_by("task__key", "number")
            .values_list("task__key", "outcome", "error_code")
        )
        assert attempts == [
            ("1.activate_line", "succeeded", ""),
            ("1.apply_speed_profile", "succeeded", ""),
            ("1.create_subscriber", "failed", ReasonCode.NETWORK_TIMEOUT),
            ("1.create_subscriber", "succeeded", ""),
            ("1.reserve_port", "succeeded", ""),
        ], pk
    assert Order.objects.filter(pk__in=flakey_ids, status=OrderStatus.COMPLETED).count() == len(
        flakey_ids
    )

    # and every order's history starts with exactly one 'submitted' event (no double intake)
    assert (
        OrderEvent.objects.filter(
            kind=OrderEvent.Kind.STATUS_CHANGED, to_status=OrderStatus.SUBMITTED
        ).count()
        == ORDER_COUNT
    )
    # and nothing is left in the outbox
    assert not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()
