"""The data steps of the migrations: an existing database keeps its meaning."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
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


def _migrate(targets: Sequence[tuple[str, str | None]]):  # type: ignore[no-untyped-def]
    """Migrate to ``targets`` (an app at None: none of its migrations) and answer the models
    as they are there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([(a, m) for a, m in targets if m is not None]).apps


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


ITEMS_BEFORE = [
    ("orders", "0011_outbox_record_of_work"),
    ("provisioning", "0003_open_work_on_the_outbox"),
    ("billing", "0005_open_work_on_the_outbox"),
    ("inventory", None),
]
ITEMS_AFTER = [
    ("orders", "0012_catalogue_specifications_and_order_items"),
    ("provisioning", "0006_remove_provisioning_jobs"),
    ("billing", "0006_billing_charges_per_item"),
    ("inventory", "0002_products_from_completed_orders"),
]
T0 = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.UTC)


def _at(minutes: int) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=minutes)


class _OldShape:
    """Writes a database of single-plan orders as the old activation code left them."""

    def __init__(self, apps) -> None:  # type: ignore[no-untyped-def]
        self.apps = apps
        self.plan = apps.get_model("orders", "Plan").objects.create(
            code="fibre-100",
            name="Fibre 100",
            download_mbps=100,
            upload_mbps=20,
            monthly_price=Decimal("30.00"),
        )
        self.area = apps.get_model("orders", "ServiceArea").objects.create(
            postcode="M11AE", exchange="Manchester Central", technology="fttp"
        )
        self.customer = apps.get_model("orders", "Customer").objects.create(
            name="Ada",
            email="ada@example.com",
            phone="07700900123",
            address_line1="1",
            city="Manchester",
        )
        self.lead = apps.get_model("auth", "User").objects.create(username="lead")
        self.houses = 1

    def order(self, order_id: str, status: str, **fields):  # type: ignore[no-untyped-def]
        """An order for the next house along the street (one open order per address)."""
        self.houses += 1
        return self.apps.get_model("orders", "Order").objects.create(
            id=order_id,
            customer=self.customer,
            plan=self.plan,
            status=status,
            service_address_line1=f"{self.houses} Mill Street",
            service_city="Manchester",
            service_postcode="M11AE",
            service_area=self.area,
            monthly_price=Decimal("30.00"),
            currency="GBP",
            channel="sales_portal",
            status_changed_at=_at(30),
            **fields,
        )

    def job(self, order, attempt: int, trigger: str, status: str, steps, **fields):  # type: ignore[no-untyped-def]
        """``steps``: (old step name, status, reference or error code) in the order run."""
        job = self.apps.get_model("provisioning", "ProvisioningJob").objects.create(
            order=order,
            attempt=attempt,
            trigger=trigger,
            status=status,
            created_at=_at(attempt * 10),
            started_at=_at(attempt * 10),
            **fields,
        )
        for n, (name, step_status, value) in enumerate(steps):
            failed = step_status == "failed"
            self.apps.get_model("provisioning", "ProvisioningStep").objects.create(
                job=job,
                name=name,
                status=step_status,
                network_reference="" if failed else value,
                error_code=value if failed else "",
                error_message=f"{value} at the exchange." if failed else "",
                started_at=_at(attempt * 10 + n),
                finished_at=_at(attempt * 10 + n + 1),
            )
        return job


ALL_FOUR = [
    ("reserve_port", "succeeded", "RESERVE_PORT-1A2B3C4D"),
    ("subscriber_profile", "succeeded", "SUBSCRIBER_PROFILE-5E6F7A8B"),
    ("speed_profile", "succeeded", "SPEED_PROFILE-9C0D1E2F"),
    ("activate_line", "succeeded", "ACTIVATE_LINE-3A4B5C6D"),
]


def _plan(apps, order_id: str) -> dict[str, tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    tasks = apps.get_model("provisioning", "FulfilmentTask").objects.filter(order_id=order_id)
    return {t.key: (t.state, t.mode, t.attempts) for t in tasks.order_by("pk")}


def _attempts(apps, order_id: str) -> list[tuple[str, int, str, str, str]]:  # type: ignore[no-untyped-def]
    attempts = apps.get_model("provisioning", "TaskAttempt").objects.filter(order_id=order_id)
    return [
        (a.task.key, a.number, a.trigger, a.outcome, a.error_code or a.network_reference)
        for a in attempts.select_related("task").order_by("started_at", "pk")
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("latest_schema_after")
def test_single_plan_orders_get_their_plan_with_its_history_charges_and_products() -> None:
    # given single-plan orders in every state, as the old activation code left them
    old = _OldShape(_migrate(ITEMS_BEFORE))
    for order_id, status in (
        ("SUBMITTED1", "submitted"),
        ("SCHEDULED1", "scheduled"),
        ("REJECTED01", "rejected"),
        ("MANUALPOOL", "awaiting_manual"),
        ("NEWPROVIS1", "provisioning"),
    ):
        old.order(order_id, status)
    # in provisioning: the subscriber timed out, the automatic retry waits for a worker
    retrying = old.order("RETRYING01", "provisioning")
    old.job(
        retrying,
        1,
        "initial",
        "failed",
        [
            ("reserve_port", "succeeded", "RESERVE_PORT-77777777"),
            ("subscriber_profile", "failed", "NETWORK_TIMEOUT"),
        ],
        transient=True,
    )
    old.job(retrying, 2, "auto_retry", "pending", [])
    Outbox = old.apps.get_model("orders", "OutboxMessage")
    Outbox.objects.create(
        task_name="provisioning.activation_attempt",
        order=retrying,
        kwargs={"order_id": retrying.pk, "job_id": 2},
    )
    # in exception: the speed profile failed for good and a case is open
    held = old.order("EXCEPTION1", "exception")
    old.job(
        held,
        1,
        "initial",
        "failed",
        [
            ("reserve_port", "succeeded", "RESERVE_PORT-88888888"),
            ("subscriber_profile", "succeeded", "SUBSCRIBER_PROFILE-88888888"),
            ("speed_profile", "failed", "SPEED_PROFILE_FAILED"),
        ],
    )
    Case = old.apps.get_model("provisioning", "ExceptionCase")
    Case.objects.create(order=held, reason_code="SPEED_PROFILE_FAILED", owner=old.lead)
    activated = old.order("ACTIVATED1", "activated", activated_at=_at(20))
    old.job(activated, 1, "initial", "succeeded", ALL_FOUR)
    # completed after an automatic retry of the subscriber, and billed
    old.houses = 0
    completed = old.order("COMPLETED1", "completed", activated_at=_at(24), completed_at=_at(25))
    old.houses = 20
    old.job(
        completed,
        1,
        "initial",
        "failed",
        [
            ("reserve_port", "succeeded", "RESERVE_PORT-1A2B3C4D"),
            ("subscriber_profile", "failed", "NETWORK_TIMEOUT"),
        ],
        transient=True,
    )
    old.job(
        completed,
        2,
        "auto_retry",
        "succeeded",
        [("reserve_port", "skipped", ""), *ALL_FOUR[1:]],
    )
    old.apps.get_model("billing", "BillingAccount").objects.create(
        order=completed,
        customer=old.customer,
        plan=old.plan,
        monthly_price=Decimal("30.00"),
        currency="GBP",
        start_date=datetime.date(2026, 6, 1),
        first_period_end=datetime.date(2026, 6, 30),
        first_period_amount=Decimal("30.00"),
        ordered_plan=old.plan,
        ordered_monthly_price=Decimal("30.00"),
        ordered_currency="GBP",
        ordered_activation_date=datetime.date(2026, 6, 1),
    )
    # confirmed live by a person from the manual pool: no step on record
    old.order("BYHAND0001", "completed", activated_at=_at(24), completed_at=_at(25))
    # cancelled from the exception queue after the port could not be reserved
    cancelled = old.order("CANCELLED1", "cancelled")
    old.job(cancelled, 1, "initial", "failed", [("reserve_port", "failed", "PORT_UNAVAILABLE")])

    # when the migrations run
    apps = _migrate(ITEMS_AFTER)

    # then every order holds its line, and each order that was planned has the access plan's
    # four tasks as the scheduler would have them, with their history
    keys = ["1.reserve_port", "1.create_subscriber", "1.apply_speed_profile", "1.activate_line"]

    def plan(*states: tuple[str, str, int]) -> dict[str, tuple[str, str, int]]:
        return dict(zip(keys, states, strict=True))

    done, auto = "done", "automatic"
    for order_id in ("SUBMITTED1", "SCHEDULED1", "REJECTED01"):
        assert _plan(apps, order_id) == {}
    assert _plan(apps, "MANUALPOOL") == plan(
        ("ready", "manual", 0),
        ("waiting", "manual", 0),
        ("waiting", "manual", 0),
        ("waiting", "manual", 0),
    )
    assert _plan(apps, "NEWPROVIS1") == plan(
        ("ready", auto, 0), ("waiting", auto, 0), ("waiting", auto, 0), ("waiting", auto, 0)
    )
    assert _plan(apps, "RETRYING01") == plan(
        (done, auto, 1), ("ready", auto, 1), ("waiting", auto, 0), ("waiting", auto, 0)
    )
    assert _plan(apps, "EXCEPTION1") == plan(
        (done, auto, 1), (done, auto, 1), ("failed", auto, 1), ("waiting", auto, 0)
    )
    assert _plan(apps, "ACTIVATED1") == plan(*[(done, auto, 1)] * 4)
    assert _plan(apps, "COMPLETED1") == plan(
        (done, auto, 1), (done, auto, 2), *[(done, auto, 1)] * 2
    )
    assert _plan(apps, "BYHAND0001") == plan(*[(done, auto, 0)] * 4)
    assert _plan(apps, "CANCELLED1") == plan(("cancelled", auto, 1), *[("cancelled", auto, 0)] * 3)
    Task = apps.get_model("provisioning", "FulfilmentTask")
    assert Task.objects.get(order_id="ACTIVATED1", key="1.activate_line").is_ponr
    assert Task.objects.get(order_id="ACTIVATED1", key="1.create_subscriber").depends_on == [
        "1.reserve_port"
    ]
    failed = Task.objects.get(order_id="EXCEPTION1", state="failed")
    assert (failed.error_code, failed.error_message) == (
        "SPEED_PROFILE_FAILED",
        "SPEED_PROFILE_FAILED at the exchange.",
    )
    assert Task.objects.get(order_id="RETRYING01", state="ready").error_code == "NETWORK_TIMEOUT"
    assert "confirmed live" in Task.objects.get(order_id="BYHAND0001", key="1.activate_line").note

    # and each step run is an attempt of its task, numbered per task
    assert _attempts(apps, "COMPLETED1") == [
        ("1.reserve_port", 1, "initial", "succeeded", "RESERVE_PORT-1A2B3C4D"),
        ("1.create_subscriber", 1, "initial", "failed", "NETWORK_TIMEOUT"),
        ("1.create_subscriber", 2, "auto_retry", "succeeded", "SUBSCRIBER_PROFILE-5E6F7A8B"),
        ("1.apply_speed_profile", 1, "initial", "succeeded", "SPEED_PROFILE-9C0D1E2F"),
        ("1.activate_line", 1, "initial", "succeeded", "ACTIVATE_LINE-3A4B5C6D"),
    ]
    assert _attempts(apps, "CANCELLED1") == [
        ("1.reserve_port", 1, "initial", "failed", "PORT_UNAVAILABLE")
    ]

    # and the open case names the failed task
    assert apps.get_model("provisioning", "ExceptionCase").objects.get().task_id == failed.pk

    # and open work is on record: each ready automatic task of an order in provisioning has
    # its message (the retry as the retry it was), the old attempt's message is done
    Outbox = apps.get_model("orders", "OutboxMessage")
    run = Outbox.objects.filter(task_name="provisioning.run_task").order_by("order_id")
    assert [m.kwargs for m in run] == [
        {
            "order_id": "NEWPROVIS1",
            "task_id": Task.objects.get(order_id="NEWPROVIS1", key="1.reserve_port").pk,
            "trigger": "initial",
            "requested_by": None,
        },
        {
            "order_id": "RETRYING01",
            "task_id": Task.objects.get(order_id="RETRYING01", key="1.create_subscriber").pk,
            "trigger": "auto_retry",
            "requested_by": None,
        },
    ]
    assert all(m.completed_at is None for m in run)
    old_message = Outbox.objects.get(task_name="provisioning.activation_attempt")
    assert old_message.completed_at is not None

    # and the delivered line carries the identifiers the steps recorded
    Item = apps.get_model("orders", "OrderItem")
    identifiers = {
        "port": "RESERVE_PORT-1A2B3C4D",
        "subscriber": "SUBSCRIBER_PROFILE-5E6F7A8B",
    }
    assert Item.objects.get(order_id="COMPLETED1").network_identifiers == identifiers
    assert Item.objects.get(order_id="ACTIVATED1").network_identifiers == {
        "port": "RESERVE_PORT-1A2B3C4D",
        "subscriber": "SUBSCRIBER_PROFILE-5E6F7A8B",
    }

    # and the billed order's account has the charge for its line, as billed
    charge = apps.get_model("billing", "BillingCharge").objects.get()
    assert (
        charge.item.order_id,
        charge.offering_id,
        charge.recurring_price,
        charge.start_date,
        charge.first_period_end,
        charge.first_period_amount,
    ) == (
        "COMPLETED1",
        old.plan.pk,
        Decimal("30.00"),
        datetime.date(2026, 6, 1),
        datetime.date(2026, 6, 30),
        Decimal("30.00"),
    )

    # and each completed order's line is a product in the installed base
    products = apps.get_model("inventory", "Product").objects.order_by("order_id")
    assert [(p.order_id, p.status, p.network_identifiers) for p in products] == [
        ("BYHAND0001", "active", {}),
        ("COMPLETED1", "active", identifiers),
    ]
    product = products[1]
    assert product.characteristics == {
        "downloadSpeed": 100,
        "uploadSpeed": 20,
        "technology": "fttp",
    }
    assert (product.name, product.service_address, product.start_date) == (
        "Fibre 100",
        "1 Mill Street, Manchester M1 1AE",
        _at(24),
    )
    assert product.specification.code == "internet-access"
