"""manage.py import_orders: the dry run, the import with no side effects, the re-run, a mixed
file and duplicates (issue 12's migration import)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.utils import timezone

from billing.models import BillingAccount, BillingCharge
from imports import services
from inventory.models import Product, ProductStatus
from notices.models import CustomerNotice
from orders.changes import order_submit_change
from orders.cycle_times import activations_since
from orders.models import (
    Customer,
    DuplicateEntry,
    Order,
    OrderEvent,
    OrderMilestone,
    OutboxMessage,
    Plan,
    ServiceArea,
    Technology,
)
from orders.states import EventSource, ItemAction, ItemState, OrderStatus
from orders.system_actors import SystemComponent
from provisioning.models import ExceptionCase, FulfilmentTask, TaskAttempt
from support.contact_models import ContactTask
from tests.factories import CustomerFactory, PlanFactory, ServiceAreaFactory, submit_order
from tmf.clients import api_client_create
from tmf.models import EventDelivery, HubApi, HubSubscription

pytestmark = pytest.mark.django_db

HEADER = (
    "legacy_order_ref,legacy_customer_ref,name,email,phone,address_line1,address_line2,city,"
    "postcode,plan_code,state,ordered_at,activated_at,cancelled_at,monthly_price"
)
# A live service, a completed and a cancelled historical order; two of them one customer's.
GOOD_ROWS = [
    "L-1,C-1,Ada Lovelace,Ada@Example.com,07700 900101,12 Analytical Row,,London,SW1A 1AA,"
    "fibre-500,live,2021-03-01,2021-03-09T10:00,,39.00",
    "L-2,C-1,Ada Lovelace,ada@example.com,07700 900101,12 Analytical Row,,London,SW1A 1AA,"
    "fibre-150,completed,2018-06-04,2018-06-12,,",
    "L-3,C-2,Grace Hopper,grace@example.com,07700900103,7 Compiler Court,,Leeds,LS1 4AP,"
    "fibre-150,cancelled,2023-02-14T09:15,,2023-02-20,",
]

Write = Callable[..., Path]


@pytest.fixture
def catalogue(db: None) -> dict[str, Plan | ServiceArea]:
    return {
        "fibre-500": PlanFactory(
            code="fibre-500", download_mbps=500, monthly_price=Decimal("35.00")
        ),
        "fibre-150": PlanFactory(
            code="fibre-150", download_mbps=150, monthly_price=Decimal("30.00")
        ),
        "SW1A1AA": ServiceAreaFactory(
            postcode="SW1A 1AA", technology=Technology.FTTP, max_download_mbps=1000
        ),
        "LS14AP": ServiceAreaFactory(
            postcode="LS1 4AP", technology=Technology.FTTC, max_download_mbps=80
        ),
        "ZE29XA": ServiceAreaFactory(postcode="ZE2 9XA", max_download_mbps=0),
    }


@pytest.fixture
def write_csv(tmp_path: Path) -> Write:
    def write(*rows: str, header: str = HEADER, name: str = "legacy.csv") -> Path:
        path = tmp_path / name
        path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
        return path

    return write


def run(path: Path, *args: str) -> tuple[str, str, CommandError | None]:
    """The command's stdout and stderr, and the error it ended with (non-zero exit), if any."""
    out, err = StringIO(), StringIO()
    try:
        call_command("import_orders", str(path), *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def at(iso: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(iso)
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def hub_listeners() -> None:
    """Listeners on the order and inventory hubs: anything published would be a delivery."""
    client, _ = api_client_create("legacy-watch", ("read", "subscribe"))
    for api in (HubApi.PRODUCT_ORDERING, HubApi.INVENTORY):
        HubSubscription.objects.create(
            api=api, client=client, callback="https://crm.example/hook", secret="s3cret"
        )


def side_effects() -> dict[str, int]:
    return {
        "outbox": OutboxMessage.objects.count(),
        "fulfilment tasks": FulfilmentTask.objects.count(),
        "task attempts": TaskAttempt.objects.count(),
        "exception cases": ExceptionCase.objects.count(),
        "notices": CustomerNotice.objects.count(),
        "hub deliveries": EventDelivery.objects.count(),
        "contact tasks": ContactTask.objects.count(),
        "milestones": OrderMilestone.objects.count(),
        "duplicate entries": DuplicateEntry.objects.count(),
        "e-mails": len(mail.outbox),
    }


def test_dry_run_lists_every_bad_row_by_line_and_field_and_writes_nothing(
    catalogue: dict[str, object], write_csv: Write
) -> None:
    # Given a file with one good row and a bad one of each sort
    path = write_csv(
        GOOD_ROWS[0],
        "L-10,C-10,Bad Mail,not-an-email,07700900110,1 Road,,Town,SW1A 1AA,fibre-500,live,"
        "2021-01-01,2021-01-05,,",
        "L-11,C-11,No Plan,np@example.com,07700900111,1 Road,,Town,SW1A 1AA,fibre-9000,live,"
        "2021-01-01,2021-01-05,,",
        "L-12,C-12,Nowhere,nw@example.com,07700900112,1 Road,,Town,AB1 2CD,fibre-500,live,"
        "2021-01-01,2021-01-05,,",
        "L-13,C-13,No Cover,nc@example.com,07700900113,1 Road,,Town,ZE2 9XA,fibre-500,live,"
        "2021-01-01,2021-01-05,,",
        "L-14,C-14,Too Fast,tf@example.com,07700900114,1 Road,,Town,LS1 4AP,fibre-500,live,"
        "2021-01-01,2021-01-05,,",
        "L-15,C-15,Bad Date,bd@example.com,07700900115,1 Road,,Town,SW1A 1AA,fibre-500,live,"
        "01/02/2021,2021-02-05,,",
        "L-16,C-16,Pending,pe@example.com,07700900116,1 Road,,Town,SW1A 1AA,fibre-500,pending,"
        "2021-01-01,,,",
        "L-17,,,missing@example.com,07700900117,1 Road,,Town,SW1A 1AA,fibre-500,live,"
        "2021-01-01,2021-01-05,,",
        "L-18,C-18,Backwards,bw@example.com,07700900118,1 Road,,Town,SW1A 1AA,fibre-500,live,"
        "2021-03-01,2021-02-01,,",
        "L-19,C-19,Unstarted,us@example.com,07700900119,1 Road,,Town,SW1A 1AA,fibre-500,live,"
        "2021-03-01,,,-4",
    )

    # When it is imported as a dry run
    out, _, error = run(path, "--dry-run", "--no-progress")

    # Then every bad row is reported with its line and field, the good one would import, the
    # exit status says rows were refused, and nothing is written
    for expected in (
        "line 3, email: 'not-an-email' is not an e-mail address.",
        "line 4, plan_code: no offering 'fibre-9000' in the catalogue.",
        "line 5, postcode: AB1 2CD is not in any service area.",
        "line 6, postcode: We don't offer service at this postcode yet.",
        "line 7, plan_code: ",
        "line 8, ordered_at: '01/02/2021' is not a date",
        "line 9, state: 'pending' is not one of live, completed, cancelled",
        "line 10, legacy_customer_ref: required.",
        "line 10, name: required.",
        "line 11, activated_at: before the order was taken (ordered_at).",
        "line 12, activated_at: required for a live row.",
        "line 12, monthly_price: an amount from 0 to",
    ):
        assert expected in out
    assert "line 2" not in out
    assert (
        "Dry run, nothing written. 11 row(s): would import 1, already imported 0, refused 10."
        in out
    )
    assert error is not None and "10 row(s) refused" in str(error)
    assert not Customer.objects.exists()
    assert not Order.objects.exists()


def test_good_file_imports_customers_orders_and_products_as_they_stand_with_no_side_effects(
    catalogue: dict[str, object], write_csv: Write
) -> None:
    # Given listeners on the event hub and a legacy file with a live service and two
    # historical orders
    hub_listeners()
    path = write_csv(*GOOD_ROWS)

    # When it is imported
    out, _, error = run(path, "--no-progress")

    # Then the customers are taken on once each, with their legacy references
    assert error is None
    assert "3 row(s): imported 3, already imported 0, refused 0." in out
    ada = Customer.objects.get(legacy_ref="C-1")
    assert (ada.email, ada.phone, ada.postcode) == ("ada@example.com", "07700900101", "SW1A1AA")
    assert ada.created_at == at("2018-06-04")  # with us since their first legacy order
    assert Customer.objects.get(legacy_ref="C-2").name == "Grace Hopper"

    # ... the live service is a completed order as of its activation, at its legacy price
    live = Order.objects.get(legacy_ref="L-1")
    assert live.status == OrderStatus.COMPLETED
    assert live.channel == EventSource.MIGRATION
    assert live.submitted_at == at("2021-03-01")
    assert live.activated_at == live.completed_at == at("2021-03-09T10:00")
    assert live.monthly_price == Decimal("39.00")
    assert live.items.get().state == ItemState.COMPLETED
    # ... with its product in the installed base since then, and its billing account
    product = Product.objects.get(order=live)
    assert product.status == ProductStatus.ACTIVE
    assert product.start_date == at("2021-03-09T10:00")
    assert product.recurring_price == Decimal("39.00")
    account = BillingAccount.objects.get(order=live)
    assert account.start_date == datetime.date(2021, 3, 9)
    assert account.monthly_price == account.ordered_monthly_price == Decimal("39.00")
    assert BillingCharge.objects.get(account=account).start_date == datetime.date(2021, 3, 9)

    # ... its history says it was imported, by the migration, dated as in the legacy system
    history = list(live.events.order_by("created_at", "id"))
    assert [(e.from_status, e.to_status) for e in history] == [
        ("", OrderStatus.SUBMITTED),
        (OrderStatus.SUBMITTED, OrderStatus.COMPLETED),
    ]
    assert {e.source for e in history} == {EventSource.MIGRATION}
    assert {e.actor.username for e in history if e.actor} == {SystemComponent.MIGRATION.value}
    assert [e.created_at for e in history] == [at("2021-03-01"), at("2021-03-09T10:00")]
    assert "live service since 2021-03-09" in history[1].reason
    assert live.status_changed_at == at("2021-03-09T10:00")

    # ... the historical orders keep their dates, with no product and no bill
    completed = Order.objects.get(legacy_ref="L-2")
    assert completed.status == OrderStatus.COMPLETED
    assert completed.completed_at == at("2018-06-12")
    assert completed.monthly_price == Decimal("30.00")  # the plan's price when none is given
    cancelled = Order.objects.get(legacy_ref="L-3")
    assert cancelled.status == OrderStatus.CANCELLED
    assert cancelled.submitted_at == at("2023-02-14T09:15")
    assert cancelled.closed_at == at("2023-02-20")
    assert cancelled.activated_at is None
    assert cancelled.items.get().state == ItemState.CANCELLED
    assert not Product.objects.filter(order__in=[completed, cancelled]).exists()
    assert not BillingAccount.objects.filter(order__in=[completed, cancelled]).exists()

    # ... the audit log names the migration as the writer
    audited = LogEntry.objects.get_for_object(live).select_related("actor")
    assert audited.exists()
    assert {entry.actor.username for entry in audited} == {SystemComponent.MIGRATION.value}

    # ... and nothing was provisioned, billed, mailed, published or queued
    assert side_effects() == dict.fromkeys(side_effects(), 0)
    assert not OrderEvent.objects.filter(kind=OrderEvent.Kind.BILLING_STARTED).exists()

    # (the listeners do hear an order taken the normal way)
    submit_order(area=catalogue["SW1A1AA"], plan=catalogue["fibre-500"])  # type: ignore[arg-type]
    assert EventDelivery.objects.exists() and OutboxMessage.objects.exists()


def test_re_run_changes_nothing_and_says_so(catalogue: dict[str, object], write_csv: Write) -> None:
    # Given a file imported once
    path = write_csv(*GOOD_ROWS)
    assert run(path, "--no-progress")[2] is None

    def snapshot() -> dict[str, object]:
        return {
            "customers": list(Customer.objects.order_by("pk").values_list("pk", "name", "email")),
            "orders": list(
                Order.objects.order_by("pk").values_list("pk", "status", "updated_at", "version")
            ),
            "events": OrderEvent.objects.count(),
            "products": list(Product.objects.values_list("pk", "updated_at")),
            "accounts": BillingAccount.objects.count(),
            "charges": BillingCharge.objects.count(),
        }

    before = snapshot()

    # When the same file is imported again
    out, _, error = run(path, "--no-progress", "--verbosity", "2")

    # Then nothing changed, and the report says every row was imported before
    assert error is None
    assert snapshot() == before
    assert "3 row(s): imported 0, already imported 3, refused 0." in out
    order_id = Order.objects.get(legacy_ref="L-2").pk
    assert f"line 3: already imported (order {order_id}), unchanged." in out


def test_mixed_file_imports_the_good_rows_and_reports_the_bad(
    catalogue: dict[str, object], write_csv: Write
) -> None:
    # Given a file with good rows around a bad one, imported in batches of one row
    path = write_csv(
        GOOD_ROWS[0],
        "L-20,C-20,Bad Plan,bp@example.com,07700900120,1 Road,,Town,SW1A 1AA,no-such-plan,"
        "live,2021-01-01,2021-01-05,,",
        GOOD_ROWS[2],
    )

    # When it is imported (with the progress bar)
    out, err, error = run(path, "--batch-size", "1")

    # Then the good rows are in, the bad one is reported and not written, the exit status is
    # non-zero, and the progress bar reached the end on stderr
    assert set(Order.objects.values_list("legacy_ref", flat=True)) == {"L-1", "L-3"}
    assert "line 3, plan_code: no offering 'no-such-plan' in the catalogue." in out
    assert "3 row(s): imported 2, already imported 0, refused 1." in out
    assert error is not None and "1 row(s) refused" in str(error)
    assert not Customer.objects.filter(legacy_ref="C-20").exists()
    assert "3/3 rows (100%)" in err

    # ... and once the row is corrected, a second run imports just that row
    fixed = write_csv(
        GOOD_ROWS[0],
        "L-20,C-20,Bad Plan,bp@example.com,07700900120,1 Road,,Town,SW1A 1AA,fibre-500,"
        "live,2021-01-01,2021-01-05,,",
        GOOD_ROWS[2],
        name="fixed.csv",
    )
    out, _, error = run(fixed, "--no-progress")
    assert error is None
    assert "3 row(s): imported 1, already imported 2, refused 0." in out
    assert Order.objects.get(legacy_ref="L-20").status == OrderStatus.COMPLETED


def test_duplicates_inside_the_file_are_caught(
    catalogue: dict[str, object], write_csv: Write
) -> None:
    # Given a file with the same order twice, a customer with two e-mail addresses, one e-mail
    # for two customers and one live service twice under two references
    path = write_csv(
        GOOD_ROWS[0],
        "L-60,C-9,Someone Else,else@example.com,07700900199,9 Road,,Town,SW1A 1AA,fibre-500,"
        "completed,2020-01-01,2020-01-05,,",
        "L-60,C-8,Another One,another@example.com,07700900198,8 Road,,Town,SW1A 1AA,fibre-500,"
        "completed,2020-01-01,2020-01-05,,",
        "L-30,C-1,Ada Lovelace,ada.other@example.com,07700900101,12 Analytical Row,,London,"
        "SW1A 1AA,fibre-150,completed,2019-01-01,2019-01-05,,",
        "L-31,C-31,Grace Hopper,grace@example.com,07700900103,7 Compiler Court,,Leeds,LS1 4AP,"
        "fibre-150,cancelled,2023-02-14,,2023-02-20,",
        "L-32,C-32,Grace Hopper,grace@example.com,07700900103,7 Compiler Court,,Leeds,LS1 4AP,"
        "fibre-150,cancelled,2023-03-14,,2023-03-20,",
        "L-33,C-1,Ada Lovelace,ada@example.com,07700 900101,12 ANALYTICAL ROW,,London,SW1A1AA,"
        "fibre-500,live,2021-04-01,2021-04-09,,",
    )

    # When it is imported
    out, _, error = run(path, "--no-progress")

    # Then each duplicate is refused, naming the line it duplicates, and the rest is imported
    for expected in (
        "line 3, legacy_order_ref: L-60 is also on line(s) 4: each order once.",
        "line 4, legacy_order_ref: L-60 is also on line(s) 3: each order once.",
        "line 5, email: legacy customer C-1 has e-mail ada@example.com on line 2.",
        "line 7, email: grace@example.com is legacy customer C-31's e-mail (line 6); one "
        "customer per e-mail address.",
        "line 8, legacy_order_ref: the same live service as line 2 (customer, address and plan).",
    ):
        assert expected in out
    assert "7 row(s): imported 2, already imported 0, refused 5." in out
    assert error is not None
    assert set(Order.objects.values_list("legacy_ref", flat=True)) == {"L-1", "L-31"}


def test_duplicates_against_the_database_are_caught(
    catalogue: dict[str, object], write_csv: Write
) -> None:
    # Given a customer taken on here, and a legacy customer imported with an open order here
    CustomerFactory(email="grace@example.com")
    assert run(write_csv(GOOD_ROWS[1], name="first.csv"), "--no-progress")[2] is None
    ada = Customer.objects.get(legacy_ref="C-1")
    open_order = submit_order(
        area=catalogue["SW1A1AA"],  # type: ignore[arg-type]
        plan=catalogue["fibre-500"],  # type: ignore[arg-type]
        email=ada.email,
        address_line1="12 Analytical Row",
    ).order

    # When files come with a live service the customer has an open order for, an e-mail of a
    # customer here, and the legacy customer under another e-mail
    out, _, error = run(write_csv(GOOD_ROWS[0], GOOD_ROWS[2]), "--no-progress")
    other_out, _, other_error = run(
        write_csv(
            "L-50,C-1,Ada Lovelace,ada.new@example.com,07700900101,1 Other Street,,London,"
            "SW1A 1AA,fibre-150,cancelled,2019-01-01,,2019-01-02,",
            name="second.csv",
        ),
        "--no-progress",
    )

    # Then each row is refused with its reason, and none of them is written
    assert (
        f"line 2, plan_code: the customer has an open order {open_order.pk} for this address "
        "and plan." in out
    )
    assert (
        "line 3, email: grace@example.com is already a customer's taken on here (not "
        "imported): one customer per e-mail address, merge them by hand." in out
    )
    assert "2 row(s): imported 0, already imported 0, refused 2." in out
    assert error is not None
    assert (
        "line 2, email: legacy customer C-1 was imported with e-mail ada@example.com." in other_out
    )
    assert other_error is not None
    assert not Order.objects.filter(legacy_ref__in=["L-1", "L-3", "L-50"]).exists()


def test_a_file_that_is_not_a_legacy_export_is_refused_whole(
    db: None, write_csv: Write, tmp_path: Path
) -> None:
    # A misspelt column would be lost silently: the header must be the documented one.
    path = write_csv(header=HEADER.replace("monthly_price", "monthly_prise"))
    _, _, error = run(path, "--no-progress")
    assert error is not None
    assert "unknown column(s) monthly_prise" in str(error)
    assert "missing column(s)" not in str(error)

    _, _, error = run(tmp_path / "absent.csv", "--no-progress")
    assert error is not None and "no such file" in str(error)

    _, _, error = run(write_csv(name="ok.csv"), "--batch-size", "0")
    assert error is not None and "--batch-size: a whole number of at least 1, not '0'" in str(error)


def test_the_sample_file_imports_into_the_demo_catalogue(db: None) -> None:
    # Given the demo catalogue's lines and areas (portal load_demo_data) that the sample names
    for code, mbps in (
        ("fibre-40", 40),
        ("fibre-150", 150),
        ("fibre-500", 500),
        ("fibre-1000", 1000),
    ):
        PlanFactory(code=code, download_mbps=mbps)
    for postcode, technology, mbps in (
        ("SW1A 1AA", Technology.FTTP, 1000),
        ("M1 1AE", Technology.FTTP, 1000),
        ("LS1 4AP", Technology.FTTC, 80),
        ("PL1 1PH", Technology.FTTP, 1000),
    ):
        ServiceAreaFactory(postcode=postcode, technology=technology, max_download_mbps=mbps)
    sample = Path(__file__).resolve().parents[2] / "imports" / "samples" / "legacy_orders.csv"

    # When the sample is imported, then every row is in: three live lines, one historical
    # completed order and one cancelled order
    out, _, error = run(sample, "--no-progress")
    assert error is None
    assert "5 row(s): imported 5, already imported 0, refused 0." in out
    assert Product.objects.filter(status=ProductStatus.ACTIVE).count() == 3
    assert Order.objects.filter(status=OrderStatus.CANCELLED).count() == 1


def test_a_batch_that_loses_a_race_is_tried_again_and_finds_the_rows_imported(
    catalogue: dict[str, object], write_csv: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given another run of the same file that writes the first batch just before this one
    # does (this run's insert then hits the legacy_ref unique constraint)
    real = services.legacy_rows_import
    calls: list[int] = []

    def racing(rows, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(rows[0].line)
        if len(calls) == 1:
            real(rows, **kwargs)  # the other run's commit
            raise IntegrityError("duplicate key value violates order_legacy_ref_unique")
        return real(rows, **kwargs)

    monkeypatch.setattr(services, "legacy_rows_import", racing)

    # When the file is imported in batches of two
    out, _, error = run(write_csv(*GOOD_ROWS), "--no-progress", "--batch-size", "2")

    # Then the batch is tried again and its rows count as imported before, the rest imports
    assert error is None
    assert calls == [2, 2, 4]
    assert "3 row(s): imported 1, already imported 2, refused 0." in out
    assert Order.objects.filter(legacy_ref__in=["L-1", "L-2", "L-3"]).count() == 3


def test_a_batch_the_database_refuses_twice_stops_the_run_saying_where(
    catalogue: dict[str, object], write_csv: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = services.legacy_rows_import

    def refusing(rows, **kwargs):  # type: ignore[no-untyped-def]
        if rows[0].line == 4:
            raise IntegrityError("customer_email_unique_ci")
        return real(rows, **kwargs)

    monkeypatch.setattr(services, "legacy_rows_import", refusing)

    _, _, error = run(write_csv(*GOOD_ROWS), "--no-progress", "--batch-size", "2")

    assert error is not None
    assert "The rows from line 4 to line 4 could not be written" in str(error)
    assert "2 row(s) before them were imported" in str(error)
    assert set(Order.objects.values_list("legacy_ref", flat=True)) == {"L-1", "L-2"}


def test_an_imported_live_line_can_be_ceased_like_any_line(
    catalogue: dict[str, object],
    write_csv: Write,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    # Given a live service imported from the legacy system
    assert run(write_csv(GOOD_ROWS[0]), "--no-progress")[2] is None
    line = Product.objects.get(order__legacy_ref="L-1")

    # When the customer's line is ceased through the normal road (the worker runs eagerly)
    with django_capture_on_commit_callbacks(execute=True):
        cease = order_submit_change(
            line.pk, ItemAction.DELETE, channel=EventSource.SUPPORT_PORTAL, submitted_by=None
        ).order

    # Then the cease completes: the product is terminated and its imported charge ends
    cease.refresh_from_db()
    line.refresh_from_db()
    assert cease.status == OrderStatus.COMPLETED
    assert line.status == ProductStatus.TERMINATED
    charge = BillingCharge.objects.get(account__order__legacy_ref="L-1")
    assert charge.end_date is not None


def test_imported_lines_are_not_samples_of_our_cycle_times(
    catalogue: dict[str, object], write_csv: Write
) -> None:
    # Given a live service the legacy system activated last week, and one of ours
    week_ago = timezone.localdate() - datetime.timedelta(days=7)
    row = (
        f"L-70,C-70,Recent Line,recent@example.com,07700900170,70 Road,,Town,SW1A 1AA,"
        f"fibre-500,live,{week_ago - datetime.timedelta(days=30)},{week_ago},,"
    )
    assert run(write_csv(row), "--no-progress")[2] is None
    ours = submit_order(area=catalogue["SW1A1AA"], plan=catalogue["fibre-500"]).order  # type: ignore[arg-type]
    Order.objects.filter(pk=ours.pk).update(activated_at=timezone.now())

    # When the cycle-time measure reads the lines activated in its window
    measured = {
        submitted
        for *_, submitted, _requested, _activated in activations_since(
            timezone.now() - datetime.timedelta(days=90)
        )
    }

    # Then ours is a sample, the imported one (the legacy process's time) is not
    assert measured == {ours.submitted_at}


def test_an_imported_history_is_consistent_for_the_reconciliation(db: None) -> None:
    from reconciliation.models import Mismatch
    from tests.reconciliation.conftest import found_by_all

    # Given the sample's lines, historical orders and cancelled order imported
    test_the_sample_file_imports_into_the_demo_catalogue(db)

    # When every cross-system check runs (no grace period: all of it is settled)
    findings = found_by_all()

    # Then the imported live lines, their bills and products agree: nothing is a mismatch
    assert findings == []
    assert not Mismatch.objects.exists()


def test_imported_orders_are_counted_on_the_metrics_by_state(db: None) -> None:
    from observability.tallies import Metric, tally_rebuild, tally_values

    # Given the sample imported (live lines, a past completed order, a cancelled one)
    test_the_sample_file_imports_into_the_demo_catalogue(db)

    # Then /metrics' orders by state already count them, as a recount from the tables does
    counted = tally_values([Metric.ORDERS_BY_STATE])[Metric.ORDERS_BY_STATE]
    assert {state: n for state, n in counted.items() if n} == {"completed": 4, "cancelled": 1}
    recounted = tally_rebuild()[Metric.ORDERS_BY_STATE]
    assert {state: n for state, n in recounted.items() if n} == {"completed": 4, "cancelled": 1}
