"""Figures at scale (`make bench-scale`, i.e. `python -m scripts.bench_scale`): printed, never
asserted.

On the PostgreSQL server that DATABASE_URL names (SQLite is refused: its figures would say
nothing about production), in a database of its own beside the configured one
(``<name>_bench_scale_<N>``, kept between runs), it

1. generates N orders (``--orders``, default 1,000,000; ``N=...`` with make) with about 0.9
   customers per order, about 5 events per order, items (one order in three with a static IP
   and a router), their fulfilment tasks and attempts (retries among them), billing accounts
   and per-item charges, products, exception cases (open and resolved, naming their task),
   support tickets, TMF622 cancellation requests and hub deliveries, each order's milestones
   with the jeopardies, escalations, customer notices, contact tasks and scheduled
   cancellations they lead to (scripts.bench_scale_watch), in bulk (COPY), then ANALYZE. A
   dataset of the same size left by an earlier run is reused (``--regenerate`` forces a new
   one); an interrupted generation is started again from empty;
2. measures every role's landing page, support search (by order ID, name, e-mail, phone), an
   order page (staff and customer; support's for a 3-item plan and for an order in jeopardy),
   the operations manager's page, support's contact worklist, the jeopardy scan, the manual
   task pool and the retry log of task attempts, the admin changelists and the TMF lists
   (first page, a deep offset, a cursor page, filters; TMF637's products where the build
   serves them) through Django's test Client in this process (no network, no gunicorn: the
   figures are the application's and the database's), after a warm-up, and prints p50, p95
   and the number of SQL queries of each, and the Prometheus scrape of /metrics.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from scripts.bench_scale_data import existing_dataset, generate
from scripts.bench_scale_kpis import kpi_pages, kpi_refresh_today, kpi_summary_ensure
from scripts.bench_scale_outbox import outbox_history_ensure

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


# --- Django on the bench database ----------------------------------------------------------------
def configure_django(n_orders: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DEBUG"] = "0"  # DEBUG keeps every SQL query in memory
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("TMF_API_RATE", "1000000/min")
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    # Nothing the bench does may reach a real worker (or a `make run` one sharing var/).
    os.environ["CELERY_BROKER_URL"] = "memory://"
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        sys.exit(
            "make bench-scale needs PostgreSQL: set DATABASE_URL=postgres://USER@HOST:PORT/NAME "
            "(SQLite, the embedded default, is refused: its figures would say nothing about a "
            "million orders in production)."
        )
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    base = settings.DATABASES["default"]["NAME"]
    bench_name = f"{base}_bench_scale_{n_orders}"
    _create_database_if_missing(bench_name)
    settings.DATABASES["default"]["NAME"] = bench_name
    django.setup()


def _create_database_if_missing(name: str) -> None:
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    with psycopg.connect(
        dbname="postgres",
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        autocommit=True,
    ) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{name}"')


# --- measurement ---------------------------------------------------------------------------------
@dataclass
class Row:
    name: str
    p50: float
    p95: float
    queries: int
    status: int
    sql_ms: float = 0.0  # time in the database, of one request (the rest is Python)
    slowest: str = ""  # the slowest SELECT of that request


def measure(name: str, request: Callable[[], Any], *, warmup: int, runs: int) -> Row:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    response = None
    for _ in range(warmup):
        response = request()
    times = []
    queries, sql_ms, slowest = 0, 0.0, ""
    for i in range(runs):
        if i == 0:
            with CaptureQueriesContext(connection) as captured:
                response = request()
            queries = len(captured)
            timed = [(float(q["time"]), q["sql"]) for q in captured.captured_queries]
            sql_ms = sum(t for t, _ in timed) * 1000
            selects = [(t, sql) for t, sql in timed if sql.startswith("SELECT")]
            slowest = max(selects)[1] if selects else ""
        start = time.perf_counter()
        response = request()
        times.append(time.perf_counter() - start)
        reset_queries()
    status = response.status_code if response is not None else 0
    return Row(
        name,
        percentile(times, 50) * 1000,
        percentile(times, 95) * 1000,
        queries,
        status,
        sql_ms,
        slowest,
    )


def explain(sql: str) -> str:
    """EXPLAIN ANALYZE of a captured query (its parameters are already in its text)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(f"      {line}" for (line,) in cur.fetchall())


def run_measurements(
    *, warmup: int, runs: int, explain_over: float | None = None, only: str = ""
) -> list[Row]:
    from django.contrib.auth.models import User
    from django.db.models import Max, Min
    from django.test import Client

    from orders.jeopardy import jeopardy_scan
    from orders.models import Customer, Order
    from orders.outbox.dispatch import outbox_due
    from orders.outbox.recovery import outbox_find_lost
    from provisioning.selectors import manual_pool_tasks, retry_log
    from tmf.clients import api_client_rotate

    users = {u.username: u for u in User.objects.filter(username__startswith="bench-")}

    def client_for(username: str) -> Client:
        client = Client()
        client.force_login(users[username])
        return client

    staff = {
        role: client_for(f"bench-{role}")
        for role in ("sales-00", "prov-0", "lead", "billing", "support", "admin", "ops-0")
    }
    # A customer with two orders (the ones customers 1.. have when orders outnumber them).
    customer = Customer.objects.filter(user__isnull=False).order_by("pk").first()
    assert customer is not None and customer.user is not None
    me = Client()
    me.force_login(customer.user)
    my_order = Order.objects.filter(customer=customer).order_by("-submitted_at").first()
    assert my_order is not None
    some = Order.objects.filter(pk__gte="8").order_by("pk").first() or my_order
    # An order held on its static IP: three items, seven tasks, attempts (the lead's case).
    planned = (
        Order.objects.filter(status="exception", tasks__key="2.allocate_address")
        .order_by("pk")
        .first()
        or some
    )
    # An open order in jeopardy with its notices and a contact task (the new cards and panels).
    watched = (
        Order.objects.filter(
            jeopardies__cleared_at__isnull=True, contact_tasks__done_at__isnull=True
        )
        .order_by("-submitted_at")
        .first()
        or some
    )
    # A signed-in customer's open order that went late (its delayed notice, its milestones).
    late_mine = (
        Order.objects.filter(
            customer__user__isnull=False,
            jeopardies__cleared_at__isnull=True,
            customer_notices__kind="delayed",
        )
        .select_related("customer__user")
        .order_by("-submitted_at")
        .first()
    )
    late_me = Client()
    if late_mine is not None:
        late_me.force_login(late_mine.customer.user)
    named = Customer.objects.get(pk=max(1, Customer.objects.count() // 2))
    _, token = api_client_rotate("bench-crm")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    base = "/tmf-api/productOrderingManagement/v4"
    n_orders = Order.objects.count()
    deep = max(0, int(n_orders * 0.9))
    bounds = Order.objects.aggregate(first=Min("submitted_at"), last=Max("submitted_at"))
    mid = bounds["first"] + (bounds["last"] - bounds["first"]) / 2
    first_page = api.get(f"{base}/productOrder?limit=100")
    next_link = first_page.headers.get("Link", "")
    cursor_url = next_link.split(";")[0].strip("<> ") if 'rel="next"' in next_link else ""
    cursor_path = cursor_url.split("testserver", 1)[-1] if cursor_url else ""

    def get(client: Client, url: str) -> Callable[[], Any]:
        return lambda: client.get(url)

    def call(function: Callable[[], Any]) -> Callable[[], Any]:
        """A housekeeping function, timed like a page (what beat runs every few seconds)."""

        def run() -> Any:
            function()
            return SimpleNamespace(status_code=200)

        return run

    pages: list[tuple[str, Callable[[], Any]]] = [
        ("worklist: sales", get(staff["sales-00"], "/work/sales/")),
        ("worklist: provisioning", get(staff["prov-0"], "/work/provisioning/")),
        ("worklist: provisioning lead", get(staff["lead"], "/work/lead/")),
        ("worklist: lead, mine, > 1 day", get(staff["lead"], "/work/lead/?owner=mine&age=gt1d")),
        ("worklist: billing", get(staff["billing"], "/work/billing/")),
        ("worklist: operations manager", get(staff["ops-0"], "/work/operations/")),
        ("support: contact worklist", get(staff["support"], "/support/contacts/")),
        ("support: search by order ID", get(staff["support"], f"/support/?q={some.display_id}")),
        ("support: search by name", get(staff["support"], f"/support/?q={named.name}")),
        ("support: search by e-mail", get(staff["support"], f"/support/?q={named.email.upper()}")),
        ("support: search by phone", get(staff["support"], f"/support/?q={named.phone}")),
        ("support: order page", get(staff["support"], f"/support/orders/{some.pk}/")),
        (
            "support: order page, 3-item plan",
            get(staff["support"], f"/support/orders/{planned.pk}/"),
        ),
        (
            "support: order page, in jeopardy",
            get(staff["support"], f"/support/orders/{watched.pk}/"),
        ),
        ("provisioning: manual task pool", call(lambda: manual_pool_tasks(users["bench-prov-0"]))),
        ("provisioning: retry log", call(lambda: retry_log(users["bench-prov-0"]))),
        ("sales: order page", get(staff["sales-00"], f"/sales/orders/{some.pk}/")),
        ("customer: my orders", get(me, "/my/orders/")),
        ("customer: order page", get(me, f"/my/orders/{my_order.pk}/")),
        (
            "customer: order page, late",
            get(late_me, f"/my/orders/{(late_mine or my_order).pk}/"),
        ),
        ("admin: orders", get(staff["admin"], "/admin/orders/order/")),
        (
            "admin: orders, status filter",
            get(staff["admin"], "/admin/orders/order/?status__exact=awaiting_manual"),
        ),
        (
            "admin: orders, search by name",
            get(staff["admin"], f"/admin/orders/order/?q={named.name.split()[1]}"),
        ),
        ("admin: customers", get(staff["admin"], "/admin/orders/customer/")),
        ("admin: exception cases", get(staff["admin"], "/admin/provisioning/exceptioncase/")),
        ("admin: fulfilment tasks", get(staff["admin"], "/admin/provisioning/fulfilmenttask/")),
        ("admin: billing accounts", get(staff["admin"], "/admin/billing/billingaccount/")),
        ("admin: event deliveries", get(staff["admin"], "/admin/tmf/eventdelivery/")),
        ("admin: outbox messages", get(staff["admin"], "/admin/orders/outboxmessage/")),
        (
            "admin: outbox, not done yet",
            get(staff["admin"], "/admin/orders/outboxmessage/?state=open"),
        ),
        (
            "admin: outbox, given up",
            get(staff["admin"], "/admin/orders/outboxmessage/?state=failed"),
        ),
        ("support: open tickets", get(staff["support"], "/support/queue/")),
        ("outbox: recovery (find lost)", call(outbox_find_lost)),
        ("jeopardy: scan (beat)", call(jeopardy_scan)),
        ("outbox: due dispatcher (scan)", call(outbox_due)),
        ("tmf622: first page", get(api, f"{base}/productOrder?limit=100")),
        ("tmf622: offset 90%", get(api, f"{base}/productOrder?offset={deep}&limit=100")),
        ("tmf622: next page (cursor)", get(api, cursor_path or f"{base}/productOrder?limit=100")),
        ("tmf622: state=held", get(api, f"{base}/productOrder?state=held&limit=100")),
        (
            "tmf622: orderDate.lt=mid",
            get(api, f"{base}/productOrder?orderDate.lt={mid.date().isoformat()}&limit=100"),
        ),
        ("tmf622: relatedParty.id", get(api, f"{base}/productOrder?relatedParty.id={customer.pk}")),
        ("tmf622: one order", get(api, f"{base}/productOrder/{some.pk}")),
        ("tmf622: cancelProductOrder", get(api, f"{base}/cancelProductOrder?limit=100")),
    ]
    pages += _inventory_pages(api, get, customer_id=customer.pk)
    pages += kpi_pages(staff, get)
    pages.append(("kpis: refresh today (beat)", call(kpi_refresh_today)))
    pages.append(("metrics: Prometheus scrape", get(_metrics_scraper(), "/metrics")))
    rows = []
    for name, request in pages:
        if only and only not in name:
            continue
        rows.append(measure(name, request, warmup=warmup, runs=runs))
        row = rows[-1]
        print(
            f"  {row.name:<34} {row.p50:8.1f} {row.p95:8.1f} {row.queries:5d} "
            f"{row.sql_ms:8.1f}  {row.status}",
            flush=True,
        )
        if explain_over is not None and row.p95 > explain_over and row.slowest:
            print(f"    slowest query: {row.slowest[:200]}\n{explain(row.slowest)}", flush=True)
    return rows


def _metrics_scraper() -> Any:
    """Prometheus' client for /metrics (observability): the tallies and bounded queries it reads
    must cost the same at any size."""
    from django.conf import settings
    from django.test import Client

    settings.METRICS_TOKEN = settings.METRICS_TOKEN or "bench-scale-metrics-token"
    return Client(HTTP_AUTHORIZATION=f"Bearer {settings.METRICS_TOKEN}")


def _inventory_pages(
    api: Any, get: Callable[[Any, str], Callable[[], Any]], *, customer_id: int
) -> list[tuple[str, Callable[[], Any]]]:
    """TMF637's product list, where this build serves it (another part of issue 9 adds it)."""
    from django.urls import Resolver404, resolve

    base = "/tmf-api/productInventory/v4/product"
    try:
        resolve(base)
    except Resolver404:
        print("  (no TMF637 product list in this build: not measured)", flush=True)
        return []
    return [
        ("tmf637: first page", get(api, f"{base}?limit=100")),
        ("tmf637: relatedParty.id", get(api, f"{base}?relatedParty.id={customer_id}&limit=100")),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=int(os.environ.get("N", 1_000_000)))
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--explain",
        type=float,
        nargs="?",
        const=200.0,
        metavar="MS",
        help="EXPLAIN ANALYZE the slowest query of each page whose p95 is over MS (200)",
    )
    parser.add_argument(
        "--only", default="", metavar="TEXT", help="measure only the pages whose name has TEXT"
    )
    args = parser.parse_args(argv)
    configure_django(args.orders)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    print(f"bench-scale on {connection.settings_dict['NAME']} ({args.orders:,} orders)")
    found = existing_dataset()
    if found is not None and found[0] == args.orders and not args.regenerate:
        print(f"reusing the dataset generated earlier in {found[1]:.0f} s")
        generation = found[1]
        regenerated = False
    else:
        regenerated = True
        print("generating:")
        generation = generate(args.orders)
        print(f"generated in {generation:.0f} s")
    from observability.models import Tally

    if regenerated or not Tally.objects.exists():
        # The bulk load wrote no events: /metrics' tallies are counted once from the tables.
        call_command("metrics_tally_rebuild", verbosity=0, stdout=io.StringIO())
    outbox_history_ensure()
    kpi_summary_ensure()
    print(f"\n  {'page':<34} {'p50 ms':>8} {'p95 ms':>8} {'SQL':>5} {'SQL ms':>8}  HTTP")
    rows = run_measurements(
        warmup=args.warmup, runs=args.runs, explain_over=args.explain, only=args.only
    )
    out = io.StringIO()
    out.write(f"\n{args.orders:,} orders (generated in {generation:.0f} s), ")
    out.write(f"{args.runs} runs after {args.warmup} warm-up, Django test Client in-process\n")
    out.write(
        "| page | p50 ms | p95 ms | SQL queries | SQL ms |\n| --- | ---: | ---: | ---: | ---: |\n"
    )
    for row in rows:
        flag = "" if row.status == 200 else f" (HTTP {row.status})"
        out.write(
            f"| {row.name}{flag} | {row.p50:.1f} | {row.p95:.1f} | {row.queries} "
            f"| {row.sql_ms:.1f} |\n"
        )
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
