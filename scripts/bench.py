"""Performance figures (`make bench`, i.e. `python -m scripts.bench`): printed, never asserted.

Everything runs against a throwaway database (a fresh SQLite file in a temporary VAR_DIR, or,
when DATABASE_URL is set, a new database on that server, dropped afterwards) with the local
settings and DEBUG off. The broker is the filesystem one in the same temporary VAR_DIR unless
CELERY_BROKER_URL is set.

(a) order intake: ``order_submit`` called N times; the activation work is only enqueued (to a
    queue no worker reads, emptied afterwards).
(b) end to end: a real Celery worker process with the network simulator at a realistic latency
    per step; a burst of orders is submitted and each one's submit -> completed time measured.
(c) status visibility: while the worker carries orders through their lifecycle, the customer's
    live tracking fragment is polled; for each status change, the time from the change being
    written to the fragment first reflecting it.
(e) items (scripts/bench_items.py): SQL statements per order and orders/s for a 1-item and a
    3-item order, at intake and through the whole plan, run in process as a worker runs it.
(g) FreeRADIUS (scripts/bench_radius.py): the RADIUS adapter's activation time per order,
    Access-Request round trips and a plan change's CoA against a real FreeRADIUS; "skipped"
    where it is not installed.
(f) live push (scripts/bench_push.py): a real uvicorn with 1,000 open pages (event streams);
    a status change committed -> every page of the order told, and -> its fragment showing it,
    p50 and p99.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VISIBILITY_POLL_SECONDS = 0.02


@dataclass
class Result:
    name: str
    figures: list[str] = field(default_factory=list)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:.2f} s"


def configure_django(var_dir: Path) -> None:
    """Local settings on the throwaway VAR_DIR; must run before Django is imported."""
    os.environ["VAR_DIR"] = str(var_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["DEBUG"] = "0"  # DEBUG keeps every SQL query in memory and slows all down
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def create_throwaway_database(var_dir: Path) -> Callable[[], None]:
    """Create and migrate a fresh database next to the configured one; returns its dropper."""
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        test_name = str(var_dir / "bench.sqlite3")
    else:
        test_name = f"{old_name}_bench_{os.getpid()}"
    connection.settings_dict.setdefault("TEST", {})["NAME"] = test_name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)

    def drop() -> None:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)

    return drop


@dataclass
class Catalog:
    plan: Any
    area: Any
    sales: Any


def make_catalog() -> Catalog:
    from django.contrib.auth.models import Group, User

    from orders.catalogue import specification_for
    from orders.models import Plan, ProductKind, ServiceArea
    from orders.roles import Role

    plan = Plan.objects.create(
        code="bench-500",
        name="Fibre 500",
        specification=specification_for(ProductKind.INTERNET_ACCESS),
        download_mbps=500,
        upload_mbps=75,
        monthly_price=Decimal("42.00"),
    )
    area = ServiceArea.objects.create(
        postcode="SW1A 1AA", exchange="Westminster", technology="fttp", max_download_mbps=1000
    )
    sales = User.objects.create_user("bench-sales")
    sales.groups.add(Group.objects.get(name=Role.SALES))
    return Catalog(plan=plan, area=area, sales=sales)


_customer_numbers = itertools.count(1)


def submit(catalog: Catalog, n: int, *, customer: str = "") -> Any:
    """Submit order ``n``; a new customer each time unless ``customer`` names one."""
    from orders.services import CustomerDetails, order_submit
    from orders.states import EventSource

    number = next(_customer_numbers)
    # Customers are found again by e-mail or phone: a new customer needs both to be new.
    phone = f"07{999_999_999 if customer else number:09d}"
    customer = customer or f"customer-{number}"
    return order_submit(
        customer=CustomerDetails(
            name=f"Bench {customer}",
            email=f"{customer}@bench.example",
            phone=phone,
            address_line1=f"{n} Bench Road",
            city="Benchford",
            postcode=catalog.area.postcode,
        ),
        plan=catalog.plan,
        requested_activation_date=None,
        channel=EventSource.SALES_PORTAL,
        submitted_by=catalog.sales,
    ).order


def bench_intake(catalog: Catalog, *, count: int) -> Result:
    """(a) ``order_submit`` latency and rate, activation only enqueued."""
    from config.celery import app

    # A queue no worker reads: publishing costs what it always costs, nothing gets activated,
    # and emptying exactly this queue afterwards is safe on a shared broker too.
    queue = f"bench-intake-{os.getpid()}"
    default_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    latencies: list[float] = []
    try:
        started = time.perf_counter()
        for n in range(count):
            t0 = time.perf_counter()
            submit(catalog, n)
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
    finally:
        app.conf.task_default_queue = default_queue
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(queue)
    return Result(
        f"(a) order intake: {count} x order_submit",
        [
            f"{count / elapsed:.1f} orders/s",
            f"latency p50 {ms(percentile(latencies, 50))}, p95 {ms(percentile(latencies, 95))}, "
            f"max {ms(max(latencies))}",
        ],
    )


def _unread_queue() -> Any:
    """Publish to a queue no worker reads for the duration (see bench_intake)."""
    import contextlib

    from config.celery import app

    @contextlib.contextmanager
    def swap() -> Any:
        queue = f"bench-unread-{os.getpid()}"
        default_queue = app.conf.task_default_queue
        app.conf.task_default_queue = queue
        try:
            yield
        finally:
            app.conf.task_default_queue = default_queue
            with app.connection_for_write() as conn:
                conn.default_channel.queue_purge(queue)

    return swap()


def bench_api_intake(catalog: Catalog, *, count: int) -> Result:
    """(d) TMF622: POST productOrder through the whole stack (middleware, bearer auth, parsing,
    order_submit, the hub's deliveries for one listener, the representation), then GET pages."""
    from rest_framework.test import APIClient

    from tmf.clients import api_client_create
    from tmf.models import HubApi, HubSubscription

    client_row, token = api_client_create("bench-crm", ["read", "create"])
    HubSubscription.objects.create(
        api=HubApi.PRODUCT_ORDERING,
        client=client_row,
        callback="http://127.0.0.1:9/listener",
        secret=HubSubscription.new_secret(),
    )
    from tmf.auth import ClientRateThrottle

    # One client sending as fast as it can would meet its rate limit (TMF_API_RATE): lifted
    # here, as the figure is the stack's own cost.
    ClientRateThrottle.THROTTLE_RATES = {**ClientRateThrottle.THROTTLE_RATES, "client": None}
    api = APIClient(SERVER_NAME="127.0.0.1")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    base = "/tmf-api/productOrderingManagement/v4/productOrder"
    latencies: list[float] = []
    with _unread_queue():
        started = time.perf_counter()
        for n in range(count):
            number = next(_customer_numbers)
            body = {
                "externalId": f"BENCH-{n}",
                "relatedParty": [
                    {
                        "id": f"crm-{number}",
                        "role": "Customer",
                        "@referredType": "Individual",
                        "name": f"Bench API {number}",
                        "contactMedium": [
                            {
                                "mediumType": "email",
                                "characteristic": {"emailAddress": f"api-{number}@bench.example"},
                            },
                            {
                                "mediumType": "mobile",
                                "characteristic": {"phoneNumber": f"07{number:09d}"},
                            },
                        ],
                    }
                ],
                "productOrderItem": [
                    {
                        "id": "1",
                        "action": "add",
                        "productOffering": {"id": catalog.plan.code},
                        "product": {
                            "place": [
                                {
                                    "role": "installationAddress",
                                    "streetName": f"{n} API Road",
                                    "city": "Benchford",
                                    "postcode": catalog.area.postcode,
                                }
                            ]
                        },
                    }
                ],
            }
            t0 = time.perf_counter()
            response = api.post(base, body, format="json")
            latencies.append(time.perf_counter() - t0)
            if response.status_code != 201:
                return Result("(d) TMF622 intake", [f"failed: {response.status_code}"])
        elapsed = time.perf_counter() - started
    pages: list[float] = []
    for _ in range(20):
        t0 = time.perf_counter()
        api.get(base, {"limit": 100})
        pages.append(time.perf_counter() - t0)
    return Result(
        f"(d) TMF622 intake: {count} x POST productOrder (one hub listener)",
        [
            f"{count / elapsed:.1f} orders/s",
            f"latency p50 {ms(percentile(latencies, 50))}, p95 {ms(percentile(latencies, 95))}, "
            f"max {ms(max(latencies))}",
            f"GET productOrder?limit=100: p50 {ms(percentile(pages, 50))}, "
            f"p95 {ms(percentile(pages, 95))}",
        ],
    )


def wait_until(predicate: Callable[[], bool], *, timeout: float, every: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


def bench_end_to_end(
    catalog: Catalog, *, count: int, latency_ms: int, concurrency: int, worker_log: Path
) -> Result:
    """(b) a burst of orders through the running worker: submit -> completed."""
    from orders.models import Order
    from orders.states import OrderStatus

    started = time.perf_counter()
    ids = [submit(catalog, n).pk for n in range(count)]
    # Four network steps per activation, `concurrency` activations at a time, plus slack.
    budget = 60 + 3 * count * 4 * latency_ms / 1000 / concurrency
    done = wait_until(
        lambda: Order.objects.filter(pk__in=ids, status=OrderStatus.COMPLETED).count() == count,
        timeout=budget,
    )
    elapsed = time.perf_counter() - started
    rows = list(
        Order.objects.filter(pk__in=ids, completed_at__isnull=False).values_list(
            "submitted_at", "completed_at"
        )
    )
    durations = [(completed - submitted).total_seconds() for submitted, completed in rows]
    name = (
        f"(b) end to end: {count} orders, {latency_ms} ms per network step, "
        f"{concurrency} worker processes"
    )
    if not durations:
        return Result(name, [f"no order completed within {budget:.0f} s; see {worker_log}"])
    figures = [
        f"{len(durations) / elapsed:.2f} orders/s ({len(durations)} completed in {secs(elapsed)})",
        f"submit -> completed p50 {secs(percentile(durations, 50))}, "
        f"p95 {secs(percentile(durations, 95))}, max {secs(max(durations))}",
    ]
    if not done:
        figures.append(f"only {len(durations)} of {count} completed in time; see {worker_log}")
    return Result(name, figures)


def fetch_live_fragment(client: Any, order: Any, *, since: int | None = None) -> tuple[int, int]:
    """GET the customer's live tracking fragment for ``order`` as the logged-in ``client``.
    Returns (HTTP status, version): 200 with a fresh fragment, 204 when nothing changed since
    ``since``; the version is the id of the order's newest event."""
    from django.urls import reverse

    url = reverse("portal:order_live", kwargs={"order_id": order.pk})
    response = client.get(url, {"since": since} if since is not None else {})
    return response.status_code, int(response.headers.get("X-Live-Version", 0))


def live_fragment_available() -> str:
    """Empty when the customer's live fragment URL resolves; otherwise why not."""
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("portal:order_live", kwargs={"order_id": "K7QM3XPA9Z"})
    except NoReverseMatch as exc:
        return f"the URL 'portal:order_live' does not resolve yet ({exc})"
    return ""


def bench_status_visibility(catalog: Catalog, *, count: int, worker_log: Path) -> Result:
    """(c) status change written -> customer's tracking fragment shows it."""
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from orders.models import OrderEvent
    from orders.roles import Role
    from orders.services import customer_link_user
    from orders.states import OrderStatus

    name = f"(c) status visibility: {count} orders, customer tracking fragment"
    missing = live_fragment_available()
    if missing:
        return Result(name, [f"skipped: {missing}"])
    user = User.objects.create_user("bench-customer")
    user.groups.add(Group.objects.get(name=Role.CUSTOMER))
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)

    delays: list[float] = []
    unloaded: list[float] = []  # submit -> completed with nothing else in the queue
    get_times: dict[int, list[float]] = {200: [], 204: []}
    for n in range(count):
        # The same customer (one account) each time; the previous order is complete by now.
        order = submit(catalog, n, customer="visibility")
        customer_link_user(order.customer_id, user)
        status, version = fetch_live_fragment(client, order)
        first_version = version
        seen: list[tuple[float, int]] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            status, version = fetch_live_fragment(client, order, since=version)
            get_times.setdefault(status, []).append(time.perf_counter() - t0)
            seen.append((time.time(), version))
            completed_event = (
                OrderEvent.objects.filter(order=order, to_status=OrderStatus.COMPLETED)
                .values_list("pk", flat=True)
                .first()
            )
            if completed_event is not None and version >= completed_event:
                break
            time.sleep(VISIBILITY_POLL_SECONDS)
        changes = OrderEvent.objects.filter(
            order=order, kind=OrderEvent.Kind.STATUS_CHANGED, pk__gt=first_version
        ).values_list("pk", "created_at")
        for event_id, written_at in changes:
            shown = next((t for t, v in seen if v >= event_id), None)
            if shown is not None:
                delays.append(max(0.0, shown - written_at.timestamp()))
        order.refresh_from_db()
        if order.completed_at is not None:
            unloaded.append((order.completed_at - order.submitted_at).total_seconds())
    if not delays:
        return Result(name, [f"no status change observed; see {worker_log}"])
    poll_ms = settings.LIVE_STATUS_POLL_MS
    return Result(
        name,
        [
            f"{len(delays)} status changes; written -> shown p50 {ms(percentile(delays, 50))}, "
            f"p95 {ms(percentile(delays, 95))}, max {ms(max(delays))} "
            f"(polling every {VISIBILITY_POLL_SECONDS * 1000:.0f} ms; the pages poll every "
            f"{poll_ms} ms, which adds up to {poll_ms} ms)",
            "fragment GET "
            + ", ".join(
                f"{code}: p50 {ms(percentile(t, 50))}, p95 {ms(percentile(t, 95))}"
                for code, t in sorted(get_times.items())
                if t
            ),
            "one order at a time: submit -> completed "
            + (
                f"p50 {secs(percentile(unloaded, 50))}, max {secs(max(unloaded))}"
                if unloaded
                else "n/a"
            ),
        ],
    )


def print_table(results: list[Result], *, header: list[str]) -> None:
    width = 78
    print()
    print("=" * width)
    for line in header:
        print(line)
    print("=" * width)
    for result in results:
        print(result.name)
        for figure in result.figures:
            print(f"    {figure}")
    print("=" * width)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bench", description="Performance figures, printed."
    )
    parser.add_argument("--intake-orders", type=int, default=300)
    parser.add_argument("--item-orders", type=int, default=100, help="per kind, for (e)")
    parser.add_argument(
        "--only-items", action="store_true", help="(e) only: no worker, no API, no e2e"
    )
    parser.add_argument("--e2e-orders", type=int, default=100)
    parser.add_argument("--visibility-orders", type=int, default=10)
    parser.add_argument("--latency-ms", type=int, default=200, help="simulator latency per step")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--push-streams", type=int, default=1000, help="open pages, for (f)")
    parser.add_argument("--push-orders", type=int, default=100, help="orders they show, (f)")
    parser.add_argument("--push-changes", type=int, default=40, help="at most --push-orders")
    parser.add_argument("--only-push", action="store_true", help="(f) only")
    parser.add_argument("--radius-orders", type=int, default=200, help="for (g)")
    parser.add_argument("--only-radius", action="store_true", help="(g) only")
    parser.add_argument("--keep", action="store_true", help="keep the temporary VAR_DIR")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    var_dir = Path(tempfile.mkdtemp(prefix="oa-bench-"))
    configure_django(var_dir)
    if args.only_radius:
        from scripts.bench_radius import print_radius_only

        return print_radius_only(args, var_dir=var_dir)

    from django.conf import settings
    from django.db import connection

    from tests.plugins.celery_worker import CeleryWorker, WorkerError, database_url

    drop_database = create_throwaway_database(var_dir)
    broker = str(settings.CELERY_BROKER_URL)
    header = [
        f"order-to-activation benchmarks  {datetime.datetime.now():%Y-%m-%d %H:%M}",
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"database {connection.vendor}; broker {broker.split('://')[0]}",
    ]
    if not broker.startswith("filesystem://"):
        header.append("note: no other worker may consume this broker's default queue meanwhile")
    results: list[Result] = []
    worker_log = var_dir / "bench-worker.log"
    worker: CeleryWorker | None = None
    try:
        catalog = make_catalog()
        if not (args.only_items or args.only_push):
            from scripts.bench_radius import bench_radius

            print(f"(g) FreeRADIUS: {args.radius_orders} orders...", flush=True)
            results.append(Result("(g) FreeRADIUS", bench_radius(count=args.radius_orders)))
        if args.only_push or not args.only_items:
            from scripts.bench_push import bench_push

            name = f"(f) live push: {args.push_streams} open pages on {args.push_orders} orders"
            print(f"{name}...", flush=True)
            with _unread_queue():  # the orders' own work is not what is measured here
                figures = bench_push(
                    catalog,
                    submit=submit,
                    var_dir=var_dir,
                    streams=args.push_streams,
                    orders=args.push_orders,
                    changes=min(args.push_changes, args.push_orders),
                )
            results.append(Result(name, figures))
        if args.only_push:
            pass
        elif not args.only_items:
            print(f"(a) intake: {args.intake_orders} orders...", flush=True)
            results.append(bench_intake(catalog, count=args.intake_orders))
        from scripts.bench_items import bench_items

        if not args.only_push:
            print(f"(e) items: {args.item_orders} orders of each kind...", flush=True)
            results.append(bench_items(catalog, count=args.item_orders, unread_queue=_unread_queue))
        if not args.only_items and not args.only_push:
            print(f"(d) TMF622 intake: {args.intake_orders} orders...", flush=True)
            results.append(bench_api_intake(catalog, count=args.intake_orders))

            env = {
                **os.environ,
                "DATABASE_URL": database_url(connection.settings_dict),
                "CELERY_BROKER_URL": broker,
                "NETWORK_SIMULATOR_LATENCY_MS": str(args.latency_ms),
                "PYTHONUNBUFFERED": "1",
            }
            print(f"starting a Celery worker (log: {worker_log})...", flush=True)
            worker = CeleryWorker(env=env, log_path=worker_log, concurrency=args.concurrency)
            worker.start()
            print(f"(b) end to end: {args.e2e_orders} orders...", flush=True)
            results.append(
                bench_end_to_end(
                    catalog,
                    count=args.e2e_orders,
                    latency_ms=args.latency_ms,
                    concurrency=args.concurrency,
                    worker_log=worker_log,
                )
            )
            print(f"(c) status visibility: {args.visibility_orders} orders...", flush=True)
            results.append(
                bench_status_visibility(
                    catalog, count=args.visibility_orders, worker_log=worker_log
                )
            )
    except WorkerError as exc:
        results.append(Result("worker", [str(exc)]))
    finally:
        if worker is not None:
            worker.stop()
        drop_database()
        if args.keep:
            print(f"kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)
    print_table(results, header=header)
    return 0


if __name__ == "__main__":
    sys.exit(main())
