"""factory-boy factories, and ``submit_order`` for orders made the honest way.

Prefer ``submit_order`` (it goes through ``orders.services.order_submit``: customer lookup,
serviceability, duplicate checks, the status event and the outbox). ``OrderFactory`` writes rows
directly, for tests that need many orders or a state without its road (query counts, admin
lists); it still writes the 'submitted' status event so the history is never empty.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from itertools import count
from typing import Any

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from billing.models import BillingAccount
from billing.services import first_period
from inventory.models import Product
from orders.catalogue import specification_for
from orders.fulfilment import TaskMode, TaskType
from orders.items import ItemRequest
from orders.models import (
    Customer,
    Order,
    OrderEvent,
    OrderItem,
    Plan,
    ProductKind,
    ServiceArea,
    Technology,
)
from orders.roles import Role
from orders.services import CustomerDetails, OrderSubmission, PhoneMatch, order_submit
from orders.states import EventSource, ItemState, OrderStatus
from provisioning.models import ExceptionCase, FulfilmentTask, ReasonCode, TaskAttempt, TaskState
from support.models import SupportTicket

_unique = count(1)


class UserFactory(factory.django.DjangoModelFactory):
    """A user; ``role=Role.SALES`` (or any ``orders.roles.Role``) puts them in that group."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user-{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@isp.example")
    first_name = factory.Sequence(lambda n: f"User{n}")
    last_name = "Example"
    password = factory.django.Password("password")

    @factory.post_generation
    def role(self, create: bool, extracted: Role | str | None, **kwargs: Any) -> None:
        if extracted:
            # The groups are created by post_migrate (orders.roles.ensure_role_groups).
            self.groups.add(Group.objects.get(name=Role(extracted).value))


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    # A prefix of its own: tests name plans "fibre-500", "fibre-900" by hand and
    # scenarios.plan_factory makes "plan-<n>"; a "fibre-<n>" sequence reached 500 in a long run
    # and collided with the test's own plan.
    code = factory.Sequence(lambda n: f"factory-plan-{n}")
    name = factory.Sequence(lambda n: f"Fibre {n}")
    specification = factory.LazyFunction(lambda: specification_for(ProductKind.INTERNET_ACCESS))
    download_mbps = 500
    upload_mbps = factory.LazyAttribute(lambda p: max(1, p.download_mbps // 5))
    monthly_price = Decimal("35.00")
    currency = "GBP"


class StaticIpOfferingFactory(factory.django.DjangoModelFactory):
    """A static IPv4 add-on: a monthly charge, no one-time fee."""

    class Meta:
        model = Plan

    code = factory.Sequence(lambda n: f"static-ip-{n}")
    name = factory.Sequence(lambda n: f"Static IP {n}")
    specification = factory.LazyFunction(lambda: specification_for(ProductKind.STATIC_IP))
    download_mbps = None
    upload_mbps = None
    monthly_price = Decimal("5.00")
    currency = "GBP"


class RouterOfferingFactory(factory.django.DjangoModelFactory):
    """A managed router add-on: a monthly charge and a one-time fee, for full fibre only."""

    class Meta:
        model = Plan

    code = factory.Sequence(lambda n: f"router-{n}")
    name = factory.Sequence(lambda n: f"Router {n}")
    specification = factory.LazyFunction(lambda: specification_for(ProductKind.ROUTER))
    download_mbps = None
    upload_mbps = None
    characteristic_values = factory.LazyFunction(lambda: {"model": "Fritz!Box 5590"})
    technologies = factory.LazyFunction(lambda: [Technology.FTTP])
    monthly_price = Decimal("3.00")
    one_time_price = Decimal("49.00")
    currency = "GBP"


class ServiceAreaFactory(factory.django.DjangoModelFactory):
    """An automated full-fibre area up to 1 Gbps, at a postcode of its own."""

    class Meta:
        model = ServiceArea

    postcode = factory.Sequence(lambda n: f"TS{n % 100} {n // 100 % 10}AA")
    exchange = factory.Sequence(lambda n: f"Testham {n}")
    technology = Technology.FTTP
    max_download_mbps = 1000
    auto_provisioning = True


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone = factory.Sequence(lambda n: f"07700{n:06d}")
    address_line1 = factory.Sequence(lambda n: f"{n} Test Street")
    city = "Testville"
    postcode = "SW1A1AA"


# The line item's state for an order OrderFactory builds directly in a status.
FACTORY_ITEM_STATE = {
    OrderStatus.AWAITING_MANUAL: ItemState.IN_PROGRESS,
    OrderStatus.PROVISIONING: ItemState.IN_PROGRESS,
    OrderStatus.EXCEPTION: ItemState.HELD,
    OrderStatus.ACTIVATED: ItemState.COMPLETED,
    OrderStatus.COMPLETED: ItemState.COMPLETED,
    OrderStatus.CANCELLED: ItemState.CANCELLED,
    OrderStatus.REJECTED: ItemState.REJECTED,
}


class OrderFactory(factory.django.DjangoModelFactory):
    """An order row written directly, with its 'submitted' status event (and, when built in
    another ``status``, the event that moved it there). Use ``submit_order`` to go through the
    real intake."""

    class Meta:
        model = Order
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    plan = factory.SubFactory(PlanFactory)
    service_area = factory.SubFactory(ServiceAreaFactory)
    service_address_line1 = factory.LazyAttribute(lambda o: o.customer.address_line1)
    service_city = factory.LazyAttribute(lambda o: o.customer.city)
    service_postcode = factory.LazyAttribute(lambda o: o.service_area.postcode)
    monthly_price = factory.LazyAttribute(lambda o: o.plan.monthly_price)
    currency = factory.LazyAttribute(lambda o: o.plan.currency)
    channel = EventSource.SALES_PORTAL

    @factory.post_generation
    def history(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if not create:
            return
        OrderItem.objects.create(
            order=self,
            item_id="1",
            offering=self.plan,
            recurring_price=self.monthly_price,
            currency=self.currency,
            state=FACTORY_ITEM_STATE.get(self.status, ItemState.PENDING),
            completed_at=self.activated_at,
        )
        OrderEvent.objects.create(
            order=self,
            kind=OrderEvent.Kind.STATUS_CHANGED,
            from_status="",
            to_status=OrderStatus.SUBMITTED,
            source=self.channel,
            actor=self.submitted_by,
            reason="Order submitted.",
        )
        if self.status != OrderStatus.SUBMITTED:
            OrderEvent.objects.create(
                order=self,
                kind=OrderEvent.Kind.STATUS_CHANGED,
                from_status=OrderStatus.SUBMITTED,
                to_status=self.status,
                source=EventSource.ADMIN,
                reason="Made by OrderFactory.",
            )


def activation_history(
    *,
    area: ServiceArea,
    plan: Plan,
    working_days: list[int],
    submitted_at: datetime.datetime,
    requested: datetime.date | None = None,
) -> list[Order]:
    """Completed new lines of ``plan`` in ``area``, all submitted at ``submitted_at`` (a
    weekday), each live the given number of working days after its start (its submission, or
    ``requested`` when given): the history orders.cycle_times measures."""
    submitted = timezone.localdate(submitted_at)
    start = max(submitted, requested) if requested else submitted
    made = []
    for days in working_days:
        live_on = start
        for _ in range(days):
            live_on += datetime.timedelta(days=1)
            while live_on.weekday() >= 5:
                live_on += datetime.timedelta(days=1)
        activated_at = timezone.make_aware(datetime.datetime.combine(live_on, datetime.time(15)))
        made.append(
            OrderFactory(
                status=OrderStatus.COMPLETED,
                service_area=area,
                plan=plan,
                submitted_at=submitted_at,
                requested_activation_date=requested,
                activated_at=max(activated_at, submitted_at),
                completed_at=max(activated_at, submitted_at),
            )
        )
    return made


class ExceptionCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExceptionCase

    order = factory.SubFactory(OrderFactory)
    reason_code = ReasonCode.PORT_UNAVAILABLE
    reason_detail = "No free access port at exchange Testham."
    owner = factory.SubFactory(UserFactory, role=Role.PROVISIONING_LEAD)


class BillingAccountFactory(factory.django.DjangoModelFactory):
    """A billing account whose plan, price and first period follow its order."""

    class Meta:
        model = BillingAccount

    order = factory.SubFactory(OrderFactory)
    customer = factory.LazyAttribute(lambda b: b.order.customer)
    plan = factory.LazyAttribute(lambda b: b.order.plan)
    monthly_price = factory.LazyAttribute(lambda b: b.order.monthly_price)
    currency = factory.LazyAttribute(lambda b: b.order.currency)
    start_date = factory.LazyFunction(timezone.localdate)
    first_period_end = factory.LazyAttribute(
        lambda b: first_period(b.start_date, b.monthly_price)[0]
    )
    first_period_amount = factory.LazyAttribute(
        lambda b: first_period(b.start_date, b.monthly_price)[1]
    )
    # The order's terms as billing read them (what the worklist's mismatch check compares).
    ordered_plan = factory.LazyAttribute(lambda b: b.order.plan)
    ordered_monthly_price = factory.LazyAttribute(lambda b: b.order.monthly_price)
    ordered_currency = factory.LazyAttribute(lambda b: b.order.currency)
    ordered_activation_date = factory.LazyAttribute(lambda b: b.order.activation_date)


class SupportTicketFactory(factory.django.DjangoModelFactory):
    """A customer's ticket written directly (``support.services.ticket_open`` is the real
    road, limited to a few open tickets per order): for worklists of many tickets."""

    class Meta:
        model = SupportTicket

    order = factory.SubFactory(OrderFactory)
    customer = factory.LazyAttribute(lambda t: t.order.customer)
    subject = SupportTicket.Subject.ACTIVATION_DATE
    message = factory.Sequence(lambda n: f"Message {n}: when will my line work?")


def customer_details(**overrides: str) -> CustomerDetails:
    """Complete intake details. E-mail and phone are new on every call, so two calls are two
    customers unless the test passes the same e-mail or phone on purpose."""
    n = next(_unique)
    values = {
        "name": f"Pat Example {n}",
        "email": f"pat{n}@example.com",
        "phone": f"07800{n:06d}",
        "address_line1": f"{n} Acacia Avenue",
        "city": "Testville",
        "postcode": "SW1A 1AA",
    }
    values.update(overrides)
    return CustomerDetails(**values)


def submit_order(
    *,
    plan: Plan | None = None,
    add_ons: tuple[Plan, ...] = (),
    items: list[ItemRequest] | None = None,
    area: ServiceArea | None = None,
    requested_activation_date: datetime.date | None = None,
    channel: EventSource = EventSource.SALES_PORTAL,
    submitted_by: User | None = None,
    idempotency_key: str | None = None,
    phone_match: PhoneMatch = PhoneMatch.NEW_CUSTOMER,
    same_customer: int | None = None,
    **customer: str,
) -> OrderSubmission:
    """Take an order through ``orders.services.order_submit``.

    ``area`` sets the postcode (default: a new automated area); other keyword arguments
    override the customer details (name, email, phone, address_line1, city, postcode). The
    after-commit work runs only if the caller wraps this in
    ``django_capture_on_commit_callbacks(execute=True)`` (or commits for real).
    """
    if area is None and "postcode" not in customer:
        area = ServiceAreaFactory()
    if area is not None:
        customer.setdefault("postcode", area.postcode)
    return order_submit(
        customer=customer_details(**customer),
        plan=plan if plan is not None or items is not None else PlanFactory(),
        add_ons=add_ons,
        items=items,
        requested_activation_date=requested_activation_date,
        channel=channel,
        submitted_by=submitted_by,
        idempotency_key=idempotency_key,
        phone_match=phone_match,
        same_customer=same_customer,
    )


class FulfilmentTaskFactory(factory.django.DjangoModelFactory):
    """One task of an order's plan written directly (the scheduler is the real road), on the
    order's line item: for worklists of many tasks. Default: a manual task ready in the pool."""

    class Meta:
        model = FulfilmentTask

    order = factory.SubFactory(OrderFactory, status=OrderStatus.AWAITING_MANUAL)
    item = factory.LazyAttribute(lambda t: t.order.items.get(item_id="1"))
    task_type = TaskType.RESERVE_PORT
    key = factory.LazyAttribute(lambda t: f"{t.item.item_id}.{t.task_type}")
    mode = TaskMode.MANUAL
    state = TaskState.READY
    ready_at = factory.LazyFunction(timezone.now)


class TaskAttemptFactory(factory.django.DjangoModelFactory):
    """One attempt at a task, numbered after the task's others."""

    class Meta:
        model = TaskAttempt

    task = factory.SubFactory(
        FulfilmentTaskFactory, mode=TaskMode.AUTOMATIC, state=TaskState.RUNNING
    )
    order = factory.LazyAttribute(lambda a: a.task.order)
    number = factory.LazyAttribute(lambda a: a.task.attempt_log.count() + 1)
    trigger = TaskAttempt.Trigger.INITIAL
    outcome = TaskAttempt.Outcome.RUNNING


class ProductFactory(factory.django.DjangoModelFactory):
    """A product of the installed base written directly (inventory.services.products_record
    is the real road), from a completed order item."""

    class Meta:
        model = Product

    order_item = factory.LazyFunction(
        lambda: OrderFactory(status=OrderStatus.COMPLETED, activated_at=timezone.now()).items.get()
    )
    order = factory.LazyAttribute(lambda p: p.order_item.order)
    customer = factory.LazyAttribute(lambda p: p.order.customer)
    offering = factory.LazyAttribute(lambda p: p.order_item.offering)
    specification = factory.LazyAttribute(lambda p: p.offering.specification)
    name = factory.LazyAttribute(lambda p: p.offering.name)
    start_date = factory.LazyFunction(timezone.now)
    network_identifiers = factory.Sequence(
        lambda n: {"port": f"TST-{n:04d}", "subscriber": f"sub-test-{n}"}
    )
    recurring_price = factory.LazyAttribute(lambda p: p.order_item.recurring_price)
    one_time_price = factory.LazyAttribute(lambda p: p.order_item.one_time_price)
    currency = factory.LazyAttribute(lambda p: p.order_item.currency)
    service_address = factory.LazyAttribute(lambda p: p.order.service_address)
