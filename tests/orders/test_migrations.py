"""The data steps of the migrations: an existing database keeps its meaning."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("orders", "0007_customer_contact_event"),
    ("billing", "0003_work_billingaccount_permission"),
]
AFTER = [
    ("orders", "0010_order_activated_unbilled_index"),
    ("billing", "0004_billingaccount_ordered_terms_and_indexes"),
]


def _migrate(targets: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def latest_schema_after():  # type: ignore[no-untyped-def]
    """Whatever a test migrates to, the database is back at the newest schema afterwards."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("latest_schema_after")
def test_existing_orders_and_accounts_get_their_status_time_and_order_terms() -> None:
    # given a database before the scale migrations, with an activated, billed order whose
    # newest status event is an hour old
    apps = _migrate(BEFORE)
    Plan = apps.get_model("orders", "Plan")
    Area = apps.get_model("orders", "ServiceArea")
    Customer = apps.get_model("orders", "Customer")
    Order = apps.get_model("orders", "Order")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    Account = apps.get_model("billing", "BillingAccount")
    plan = Plan.objects.create(
        code="m", name="M", download_mbps=100, upload_mbps=10, monthly_price=Decimal("30.00")
    )
    area = Area.objects.create(postcode="M11AE", exchange="X", technology="fttp")
    customer = Customer.objects.create(
        name="Ada", email="ada@example.com", phone="07700900123", address_line1="1", city="M"
    )
    activated = datetime.datetime(2026, 6, 1, 23, 30, tzinfo=datetime.UTC)  # 2 June in London
    order = Order.objects.create(
        id="K7QM3XPA9Z",
        customer=customer,
        plan=plan,
        status="completed",
        service_address_line1="1",
        service_city="M",
        service_postcode="M11AE",
        service_area=area,
        monthly_price=Decimal("30.00"),
        currency="GBP",
        channel="sales_portal",
        activated_at=activated,
    )
    for minutes, to_status in ((0, "submitted"), (60, "completed")):
        OrderEvent.objects.create(
            order=order,
            kind="status_changed",
            to_status=to_status,
            source="sales_portal",
            created_at=activated + datetime.timedelta(minutes=minutes),
        )
    Account.objects.create(
        order=order,
        customer=customer,
        plan=plan,
        monthly_price=Decimal("30.00"),
        currency="GBP",
        start_date=datetime.date(2026, 6, 2),
        first_period_end=datetime.date(2026, 6, 30),
        first_period_amount=Decimal("29.00"),
    )

    # when the migrations run
    apps = _migrate(AFTER)

    # then the order is in its status since its newest status event, and the account carries
    # the order's terms (the local date of activation), so nothing reads as a mismatch
    order = apps.get_model("orders", "Order").objects.get()
    account = apps.get_model("billing", "BillingAccount").objects.get()
    assert order.status_changed_at == activated + datetime.timedelta(minutes=60)
    assert (
        account.ordered_plan_id,
        account.ordered_monthly_price,
        account.ordered_currency,
        account.ordered_activation_date,
    ) == (plan.pk, Decimal("30.00"), "GBP", datetime.date(2026, 6, 2))


OUTBOX_BEFORE = [
    ("orders", "0010_order_activated_unbilled_index"),
    ("provisioning", "0002_job_and_case_list_indexes"),
    ("billing", "0004_billingaccount_ordered_terms_and_indexes"),
    ("tmf", "0001_initial"),
]
OUTBOX_AFTER = [
    ("orders", "0011_outbox_record_of_work"),
    ("provisioning", "0003_open_work_on_the_outbox"),
    ("billing", "0005_open_work_on_the_outbox"),
    ("tmf", "0002_open_deliveries_on_the_outbox"),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("latest_schema_after")
def test_messages_sent_before_count_as_done_and_open_work_goes_back_on_record() -> None:
    # given a database from before the outbox kept work on record: a message sent long ago,
    # and a submitted order whose fulfilment message was sent (and may have been lost)
    apps = _migrate(OUTBOX_BEFORE)
    Plan = apps.get_model("orders", "Plan")
    Customer = apps.get_model("orders", "Customer")
    Order = apps.get_model("orders", "Order")
    Outbox = apps.get_model("orders", "OutboxMessage")
    plan = Plan.objects.create(
        code="m", name="M", download_mbps=100, upload_mbps=10, monthly_price=Decimal("30.00")
    )
    area = apps.get_model("orders", "ServiceArea").objects.create(
        postcode="M11AE", exchange="X", technology="fttp"
    )
    customer = Customer.objects.create(
        name="Ada", email="ada@example.com", phone="07700900123", address_line1="1", city="M"
    )
    order = Order.objects.create(
        id="K7QM3XPA9Z",
        customer=customer,
        plan=plan,
        status="submitted",
        service_address_line1="1",
        service_city="M",
        service_postcode="M11AE",
        service_area=area,
        monthly_price=Decimal("30.00"),
        currency="GBP",
        channel="sales_portal",
    )
    sent = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)
    Outbox.objects.create(
        task_name="provisioning.fulfil_order",
        order=order,
        kwargs={"order_id": order.pk},
        dispatched_at=sent,
    )

    # when the migrations run
    apps = _migrate(OUTBOX_AFTER)

    # then the old message counts as done when it was sent, and the order's fulfilment is on
    # record again as work not yet done
    messages = apps.get_model("orders", "OutboxMessage").objects.order_by("pk")
    assert [(m.task_name, m.completed_at) for m in messages] == [
        ("provisioning.fulfil_order", sent),
        ("provisioning.fulfil_order", None),
    ]
    assert messages[1].kwargs == {"order_id": order.pk}
