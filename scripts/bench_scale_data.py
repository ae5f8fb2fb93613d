"""The dataset of `make bench-scale` (scripts.bench_scale): N orders with their customers,
events, items, fulfilment tasks and their attempts (scripts.bench_scale_plans), billing
accounts and charges, products, exception cases, tickets, TMF622 cancellations and hub
deliveries, written with COPY in one pass. Rows follow what the services write (status
events in lifecycle order, the order's ``status_changed_at`` equal to its newest status event,
billing accounts that copy their order's terms, ownership grants for customers who sign in).
"""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from scripts.bench_scale_plans import (
    ATTEMPT_COLUMNS,
    CHARGE_COLUMNS,
    ITEM_COLUMNS,
    PRODUCT_COLUMNS,
    ROUTER_FEE,
    ROUTER_PRICE,
    STATIC_IP_PRICE,
    TASK_COLUMNS,
    Fulfilment,
)
from scripts.bench_scale_shape import (
    CHAINS,
    FIRST_NAMES,
    LAST_NAMES,
    SALES_REPS,
    Chain,
    Copier,
    S,
    status_for,
)
from scripts.bench_scale_watch import watch_fill

META_TABLE = "bench_scale_dataset"


def generate(n_orders: int) -> float:
    """Empty the generated tables and fill them for ``n_orders``; returns the seconds taken."""
    from django.contrib.auth.models import Group, User
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.utils import timezone

    from orders import order_id
    from orders.catalogue import (
        INTERNET_ACCESS,
        MANAGED_ROUTER,
        STATIC_IP,
        specifications_ensure,
    )
    from orders.models import Customer, Order, Plan, ServiceArea
    from orders.roles import Role
    from tmf.clients import api_client_create
    from tmf.models import ApiClient, HubSubscription

    started = time.monotonic()
    tz = ZoneInfo(os.environ.get("TIME_ZONE", "Europe/London"))
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {META_TABLE}")
        cur.execute(
            "TRUNCATE orders_order, orders_customer, orders_orderevent, orders_outboxmessage, "
            "orders_orderitem, provisioning_fulfilmenttask, provisioning_taskattempt, "
            "provisioning_exceptioncase, billing_billingaccount, billing_billingcharge, "
            "billing_billingwaiver, inventory_product, "
            "support_supportticket, tmf_cancelproductorder, tmf_deletedproductorder, "
            "tmf_eventdelivery, tmf_deliveryattempt, tmf_hubsubscription, tmf_idempotencyrecord, "
            "guardian_userobjectpermission, auditlog_logentry, orders_ordermilestone, "
            "orders_jeopardy, orders_escalation, notices_customernotice, support_contacttask, "
            "orders_scheduledcancellation RESTART IDENTITY CASCADE"
        )
        # Customers' sign-ins have no rows elsewhere once the tables above are empty.
        cur.execute("DELETE FROM auth_user WHERE username LIKE 'bench-customer-%%'")
    User.objects.filter(username__startswith="bench-").delete()
    print(f"  emptied ({time.monotonic() - started:.0f} s)", flush=True)

    # A few rows through the ORM: the catalogue, the areas, the staff and a client system.
    specifications = specifications_ensure()
    plans = [
        Plan.objects.update_or_create(
            code=code,
            defaults={
                "specification": specifications[INTERNET_ACCESS],
                "name": name,
                "download_mbps": mbps,
                "upload_mbps": mbps // 10 or 1,
                "monthly_price": Decimal(price),
            },
        )[0]
        for code, name, mbps, price in (
            ("bench-fibre-100", "Fibre 100", 100, "25.00"),
            ("bench-fibre-500", "Fibre 500", 500, "35.00"),
            ("bench-fibre-1000", "Fibre 1000", 1000, "45.00"),
            ("bench-fttc-80", "FTTC 80", 80, "22.00"),
        )
    ]
    static_ip, _ = Plan.objects.update_or_create(
        code="bench-static-ip",
        defaults={
            "specification": specifications[STATIC_IP],
            "name": "Static IP",
            "monthly_price": STATIC_IP_PRICE,
        },
    )
    router, _ = Plan.objects.update_or_create(
        code="bench-router",
        defaults={
            "specification": specifications[MANAGED_ROUTER],
            "name": "Fritz!Box 5590 Fiber",
            "characteristic_values": {"model": "Fritz!Box 5590 Fiber"},
            "technologies": ["fttp"],
            "monthly_price": ROUTER_PRICE,
            "one_time_price": ROUTER_FEE,
        },
    )
    areas = []
    for i in range(50):
        postcode = f"BN{i // 10 + 1}{i % 10}ZZ"
        area, _ = ServiceArea.objects.update_or_create(
            postcode=postcode,
            defaults={
                "exchange": f"Bench exchange {i}",
                "technology": "fttp",
                "max_download_mbps": 1000,
                "auto_provisioning": i != 0,
            },
        )
        areas.append(area)

    def staff(username: str, role: Role | None, **extra: Any) -> User:
        user = User.objects.create_user(username, password="bench", **extra)  # noqa: S106
        if role is not None:
            user.groups.add(Group.objects.get(name=role.value))
        return user

    reps = [staff(f"bench-sales-{i:02d}", Role.SALES) for i in range(SALES_REPS)]
    provisioners = [staff(f"bench-prov-{i}", Role.PROVISIONING) for i in range(5)]
    lead = staff("bench-lead", Role.PROVISIONING_LEAD)
    staff("bench-billing", Role.BILLING)
    support = staff("bench-support", Role.SUPPORT)
    managers = [staff(f"bench-ops-{i}", Role.OPERATIONS_MANAGER) for i in range(2)]
    staff("bench-admin", None, is_staff=True, is_superuser=True)
    ApiClient.objects.filter(name="bench-crm").delete()
    client, _ = api_client_create("bench-crm", ["read", "create", "cancel", "subscribe"])
    subscription = HubSubscription.objects.create(
        api="productOrder",
        client=client,
        callback="http://127.0.0.1:9/listener",
        secret="s",  # noqa: S106
    )

    n_customers = max(1, round(n_orders * 0.9))
    n_customer_users = max(10, n_customers // 100)
    now = timezone.now()
    span = datetime.timedelta(days=730)
    step = span / n_orders
    first = now - span - datetime.timedelta(hours=1)
    cur = connection.cursor().cursor  # the psycopg cursor, for COPY
    copy = Copier(cur)

    # Customers: names repeat as they do (about ten customers share each full name).
    def customers() -> Iterator[tuple[Any, ...]]:
        nf, nl = len(FIRST_NAMES), len(LAST_NAMES)
        for i in range(1, n_customers + 1):
            name = f"{FIRST_NAMES[i % nf]} {LAST_NAMES[(i // nf) % nl]}"
            if i > nf * nl * 10:
                name += f" {i % 97}"
            yield (
                i,
                name,
                f"customer{i}@example.net",
                f"+447{i:09d}",
                f"{i % 300 + 1} Bench Street",
                "",
                "Brighton",
                areas[i % len(areas)].postcode,
                first + step * (i % n_orders),
            )

    t = time.monotonic()
    copy(
        "orders_customer",
        [
            "id",
            "name",
            "email",
            "phone",
            "address_line1",
            "address_line2",
            "city",
            "postcode",
            "created_at",
        ],
        customers(),
    )
    cur.execute("SELECT setval(pg_get_serial_sequence('orders_customer', 'id'), %s)", [n_customers])
    print(f"  {n_customers:,} customers ({time.monotonic() - t:.0f} s)", flush=True)

    # Customer sign-ins: the first customers have one, as invited customers do.
    t = time.monotonic()
    cur.execute("SELECT COALESCE(MAX(id), 0) FROM auth_user")
    user_base = cur.fetchone()[0]
    copy(
        "auth_user",
        [
            "id",
            "password",
            "is_superuser",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "date_joined",
        ],
        (
            (
                user_base + i,
                "!",
                False,
                f"bench-customer-{i}",
                "",
                "",
                f"customer{i}@example.net",
                False,
                True,
                now,
            )
            for i in range(1, n_customer_users + 1)
        ),
    )
    cur.execute("SELECT setval(pg_get_serial_sequence('auth_user', 'id'), MAX(id)) FROM auth_user")
    cur.execute(
        "UPDATE orders_customer SET user_id = %s + id WHERE id <= %s",
        [user_base, n_customer_users],
    )
    print(f"  {n_customer_users:,} customer sign-ins ({time.monotonic() - t:.0f} s)", flush=True)

    # Orders, their events, jobs, accounts, cases, tickets: one pass, one COPY per table.
    ids = [order_id.generate() for _ in range(n_orders)]
    statuses = [status_for(j) for j in range(n_orders)]
    submitted = [first + step * j for j in range(n_orders)]
    # The newest completed orders were activated today, as a billing team's day has.
    today_start = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)

    def minutes(j: int, m: int) -> datetime.datetime:
        return submitted[j] + datetime.timedelta(minutes=m)

    def plan_of(j: int) -> Any:
        return plans[(j + j // n_customers) % len(plans)]

    fulfilment = Fulfilment(
        ids=ids,
        statuses=statuses,
        minutes=minutes,
        plan_of=plan_of,
        static_ip=static_ip,
        router=router,
    )

    def last_status_minutes(chain: Chain) -> int:
        return [e for e in chain.events if e[0] == S][-1][4]

    def orders() -> Iterator[tuple[Any, ...]]:
        for j in range(n_orders):
            status = statuses[j]
            chain = CHAINS[status]
            plan = plans[(j + j // n_customers) % len(plans)]
            area = areas[j % len(areas)]
            customer_id = 1 + (j % n_customers)
            api = j % 5 < 2
            rep = None if api else reps[j % SALES_REPS].pk
            activated = minutes(j, 20) if status in ("completed", "activated") else None
            completed = minutes(j, 21) if status == "completed" else None
            closed = (
                minutes(j, last_status_minutes(chain))
                if status
                in (
                    "cancelled",
                    "rejected",
                )
                else None
            )
            requested = (
                (now + datetime.timedelta(days=30)).date() if status == "scheduled" else None
            )
            yield (
                ids[j],
                customer_id,
                plan.pk,
                status,
                f"{customer_id % 300 + 1} Bench Street",
                "",
                "Brighton",
                area.postcode,
                area.pk,
                *fulfilment.totals(j),
                plan.currency,
                requested,
                "api" if api else "sales_portal",
                rep,
                None,
                f"CRM-{j}" if api else "",
                submitted[j],
                minutes(j, last_status_minutes(chain)),
                activated,
                completed,
                closed,
                minutes(j, last_status_minutes(chain)),
                1 + sum(1 for e in chain.events if e[0] == S),
            )

    t = time.monotonic()
    copy(
        "orders_order",
        [
            "id",
            "customer_id",
            "plan_id",
            "status",
            "service_address_line1",
            "service_address_line2",
            "service_city",
            "service_postcode",
            "service_area_id",
            "monthly_price",
            "one_time_price",
            "currency",
            "requested_activation_date",
            "channel",
            "submitted_by_id",
            "idempotency_key",
            "external_id",
            "submitted_at",
            "status_changed_at",
            "activated_at",
            "completed_at",
            "closed_at",
            "updated_at",
            "version",
        ],
        orders(),
    )
    print(f"  {n_orders:,} orders ({time.monotonic() - t:.0f} s)", flush=True)

    def events() -> Iterator[tuple[Any, ...]]:
        for j in range(n_orders):
            chain = CHAINS[statuses[j]]
            source = "api" if j % 5 < 2 else "sales_portal"
            for kind, from_status, to_status, code, m in chain.events:
                reason = f"Because {code}." if code else ""
                yield (
                    ids[j],
                    kind,
                    from_status,
                    to_status,
                    None,
                    source,
                    reason,
                    code,
                    "",
                    "{}",
                    minutes(j, m),
                )
            if j % 3 == 0:
                yield (
                    ids[j],
                    "note",
                    "",
                    "",
                    None,
                    "staff_portal",
                    "Called the customer.",
                    "",
                    "",
                    "{}",
                    minutes(j, 30),
                )

    t = time.monotonic()
    n_events = copy(
        "orders_orderevent",
        [
            "order_id",
            "kind",
            "from_status",
            "to_status",
            "actor_id",
            "source",
            "reason",
            "reason_code",
            "customer_message",
            "data",
            "created_at",
        ],
        events(),
    )
    print(f"  {n_events:,} events ({time.monotonic() - t:.0f} s)", flush=True)

    t = time.monotonic()
    copy("orders_orderitem", ITEM_COLUMNS, fulfilment.items())
    cur.execute(
        "SELECT setval(pg_get_serial_sequence('orders_orderitem', 'id'), %s)",
        [fulfilment.n_items],
    )
    print(f"  {fulfilment.n_items:,} order items ({time.monotonic() - t:.0f} s)", flush=True)
    t = time.monotonic()
    copy("provisioning_fulfilmenttask", TASK_COLUMNS, fulfilment.tasks())
    cur.execute(
        "SELECT setval(pg_get_serial_sequence('provisioning_fulfilmenttask', 'id'), %s)",
        [max(1, fulfilment.n_tasks)],
    )
    print(f"  {fulfilment.n_tasks:,} fulfilment tasks ({time.monotonic() - t:.0f} s)", flush=True)
    t = time.monotonic()
    n_attempts = copy("provisioning_taskattempt", ATTEMPT_COLUMNS, fulfilment.attempts())
    print(f"  {n_attempts:,} task attempts ({time.monotonic() - t:.0f} s)", flush=True)

    owners = [lead.pk, *(p.pk for p in provisioners), None]
    t = time.monotonic()
    n_cases = copy(
        "provisioning_exceptioncase",
        [
            "order_id",
            "reason_code",
            "reason_detail",
            "owner_id",
            "state",
            "failure_count",
            "opened_at",
            "updated_at",
            "resolved_at",
            "resolved_by_id",
            "resolution",
            "resolution_note",
            "task_id",
        ],
        fulfilment.cases(owners, lead.pk),
    )
    print(f"  {n_cases:,} exception cases ({time.monotonic() - t:.0f} s)", flush=True)

    completed_js = [j for j in range(n_orders) if statuses[j] == "completed"]
    today_js = set(completed_js[-100:])

    billed: list[tuple[int, int, datetime.date]] = []  # (account id, order index, start)

    def accounts() -> Iterator[tuple[Any, ...]]:
        for account_id, j in enumerate(completed_js, start=1):
            plan = plan_of(j)
            monthly, _ = fulfilment.totals(j)
            activated = (
                today_start + datetime.timedelta(minutes=j % 600)
                if j in today_js
                else (minutes(j, 20))
            )
            start = activated.astimezone(tz).date()
            billed.append((account_id, j, start))
            yield (
                account_id,
                ids[j],
                1 + (j % n_customers),
                plan.pk,
                monthly,
                plan.currency,
                start,
                start + datetime.timedelta(days=30),
                monthly,
                "active",
                activated + datetime.timedelta(minutes=1),
                plan.pk,
                monthly,
                plan.currency,
                start,
            )

    t = time.monotonic()
    n_accounts = copy(
        "billing_billingaccount",
        [
            "id",
            "order_id",
            "customer_id",
            "plan_id",
            "monthly_price",
            "currency",
            "start_date",
            "first_period_end",
            "first_period_amount",
            "status",
            "created_at",
            "ordered_plan_id",
            "ordered_monthly_price",
            "ordered_currency",
            "ordered_activation_date",
        ],
        accounts(),
    )
    today_ids = [ids[j] for j in today_js]
    cur.execute(
        "UPDATE orders_order SET activated_at = b.created_at - interval '1 minute', "
        "completed_at = b.created_at FROM billing_billingaccount b "
        "WHERE b.order_id = orders_order.id AND orders_order.id = ANY(%s)",
        [today_ids],
    )
    cur.execute(
        "SELECT setval(pg_get_serial_sequence('billing_billingaccount', 'id'), %s)",
        [max(1, n_accounts)],
    )
    print(f"  {n_accounts:,} billing accounts ({time.monotonic() - t:.0f} s)", flush=True)
    t = time.monotonic()
    n_charges = copy("billing_billingcharge", CHARGE_COLUMNS, fulfilment.charges(billed))
    print(f"  {n_charges:,} billing charges ({time.monotonic() - t:.0f} s)", flush=True)
    t = time.monotonic()
    n_products = copy(
        "inventory_product",
        PRODUCT_COLUMNS,
        fulfilment.products(
            customer_of=lambda j: 1 + (j % n_customers),
            address_of=lambda j: (
                f"{(1 + j % n_customers) % 300 + 1} Bench Street, Brighton "
                f"{areas[j % len(areas)].postcode[:-3]} {areas[j % len(areas)].postcode[-3:]}"
            ),
        ),
    )
    print(f"  {n_products:,} products ({time.monotonic() - t:.0f} s)", flush=True)

    watch_fill(
        copy,
        cur,
        fulfilment=fulfilment,
        minutes=minutes,
        technician=lambda j: not areas[j % len(areas)].auto_provisioning,
        n_customers=n_customers,
        owners=owners,
        lead=lead.pk,
        support=support.pk,
        managers=[m.pk for m in managers],
        reps=lambda j: None if j % 5 < 2 else reps[j % SALES_REPS].pk,
        now=now,
    )

    def tickets() -> Iterator[tuple[Any, ...]]:
        for j in range(0, n_orders, 20):
            yield (
                ids[j],
                1 + (j % n_customers),
                None,
                "activation_date",
                "When?",
                "open" if j % 100 == 0 else "answered",
                minutes(j, 60),
                minutes(j, 60),
            )

    t = time.monotonic()
    n_tickets = copy(
        "support_supportticket",
        [
            "order_id",
            "customer_id",
            "created_by_id",
            "subject",
            "message",
            "status",
            "created_at",
            "updated_at",
        ],
        tickets(),
    )
    print(f"  {n_tickets:,} support tickets ({time.monotonic() - t:.0f} s)", flush=True)

    t = time.monotonic()
    cancelled_api = [j for j in range(n_orders) if statuses[j] == "cancelled" and j % 5 < 2]
    copy(
        "tmf_cancelproductorder",
        ["id", "order_id", "client_id", "cancellation_reason", "state", "created_at"],
        (
            (f"bench{j:012d}", ids[j], client.pk, "Changed my mind.", "done", minutes(j, 600))
            for j in cancelled_api
        ),
    )
    copy(
        "tmf_deletedproductorder",
        ["order_id", "client_id", "deleted_at"],
        ((ids[j], client.pk, now) for j in cancelled_api[:100]),
    )
    n_deliveries = copy(
        "tmf_eventdelivery",
        [
            "subscription_id",
            "event_id",
            "event_type",
            "order_id",
            "body",
            "status",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "last_error",
            "created_at",
        ],
        (
            (
                subscription.pk,
                f"bench-{j}",
                "ProductOrderStateChangeEvent",
                ids[j],
                "{}",
                "delivered",
                1,
                minutes(j, 21),
                minutes(j, 21),
                "",
                minutes(j, 21),
            )
            for j in range(0, n_orders, 10)
        ),
    )
    print(
        f"  {len(cancelled_api):,} cancellations, {n_deliveries:,} hub deliveries "
        f"({time.monotonic() - t:.0f} s)",
        flush=True,
    )

    # Object permissions of the customers who sign in (as orders.access grants them).
    t = time.monotonic()
    order_ct = ContentType.objects.get_for_model(Order)
    customer_ct = ContentType.objects.get_for_model(Customer)
    cur.execute(
        "SELECT id FROM auth_permission WHERE content_type_id = %s AND codename = 'view_order'",
        [order_ct.pk],
    )
    view_order = cur.fetchone()[0]
    cur.execute(
        "SELECT id FROM auth_permission WHERE content_type_id = %s AND codename = 'view_customer'",
        [customer_ct.pk],
    )
    view_customer = cur.fetchone()[0]
    cur.execute(
        "INSERT INTO guardian_userobjectpermission (object_pk, content_type_id, permission_id, "
        "user_id) SELECT o.id, %s, %s, c.user_id FROM orders_order o JOIN orders_customer c "
        "ON c.id = o.customer_id WHERE c.user_id IS NOT NULL",
        [order_ct.pk, view_order],
    )
    cur.execute(
        "INSERT INTO guardian_userobjectpermission (object_pk, content_type_id, permission_id, "
        "user_id) SELECT c.id::text, %s, %s, c.user_id FROM orders_customer c "
        "WHERE c.user_id IS NOT NULL",
        [customer_ct.pk, view_customer],
    )
    print(f"  object permissions ({time.monotonic() - t:.0f} s)", flush=True)

    t = time.monotonic()
    cur.execute("VACUUM ANALYZE")  # Django's connection is in autocommit mode
    print(f"  VACUUM ANALYZE ({time.monotonic() - t:.0f} s)", flush=True)
    seconds = time.monotonic() - started
    cur.execute(
        f"CREATE TABLE {META_TABLE} (orders integer, seconds double precision, "
        "generated_at timestamptz)"
    )
    cur.execute(f"INSERT INTO {META_TABLE} VALUES (%s, %s, now())", [n_orders, seconds])  # noqa: S608
    return seconds


def existing_dataset() -> tuple[int, float] | None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", [META_TABLE])
        if cur.fetchone()[0] is None:
            return None
        cur.execute(f"SELECT orders, seconds FROM {META_TABLE}")  # noqa: S608
        row = cur.fetchone()
    return (row[0], row[1]) if row else None
