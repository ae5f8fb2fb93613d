"""Demo data for `make run`: the catalogue (the standard specifications, lines and add-ons),
serviceable and unserviceable addresses, one user per role (password "demo") and multi-item
orders in every state, all made through the real services (order intake, the scheduler's
tasks, the exception queue, billing), never by writing rows.

Loaded only when absent (it looks for the demo sales user). Refuses to run under production
settings: demo users must never exist in production.
"""

from __future__ import annotations

import datetime
import zlib
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from addressing.demo import demo_pools_ensure
from billing.services import billing_account_start
from inventory.models import Product
from kpis.refresh import kpis_refresh_recent
from orders.add_ons import order_submit_add_ons
from orders.catalogue import INTERNET_ACCESS, MANAGED_ROUTER, STATIC_IP, specifications_ensure
from orders.changes import order_submit_change
from orders.fulfilment import TaskMode
from orders.models import Order, OrderItem, Plan, ServiceArea
from orders.roles import Role
from orders.services import CustomerDetails, order_cancel, order_submit
from orders.states import EventSource, OrderStatus
from provisioning import scheduler
from provisioning.models import ExceptionCase, FulfilmentTask, TaskState
from provisioning.services import exception_case_cancel_item, fulfilment_start
from support.models import SupportTicket
from support.services import ticket_open
from tmf.clients import api_client_create

PASSWORD = "demo"  # noqa: S105  (demo accounts only; never loaded in production)
# The demo's TM Forum API client: all four scopes. Its token is written (demo only) to this file
# under VAR_DIR, where the launcher's banner reads it.
DEMO_API_CLIENT = "demo-crm"
DEMO_API_TOKEN_FILE = "demo-api-token.txt"  # noqa: S105  (a file name)

PLANS = [
    ("fibre-40", "Essential 40", 40, 10, "24.99", "Everyday browsing and streaming."),
    ("fibre-150", "Fibre 150", 150, 30, "32.00", "For busy households."),
    ("fibre-500", "Fibre 500", 500, 75, "42.00", "Gaming and 4K on every screen."),
    ("fibre-1000", "Gigabit", 1000, 115, "55.00", "Our fastest full-fibre line."),
]
# Add-ons: code, name, specification, characteristics, technologies (empty: all), monthly, once.
ADD_ONS = [
    ("static-ip", "Static IP address", STATIC_IP, {}, [], "5.00", "0.00"),
    (
        "router-5590-fiber",
        "Fritz!Box 5590 Fiber",
        MANAGED_ROUTER,
        {"model": "Fritz!Box 5590 Fiber"},
        ["fttp"],
        "4.00",
        "49.00",
    ),
    (
        "router-7590-ax",
        "Fritz!Box 7590 AX",
        MANAGED_ROUTER,
        {"model": "Fritz!Box 7590 AX"},
        ["fttc"],
        "3.00",
        "0.00",
    ),
]
AREAS = [
    # postcode, exchange, technology, max Mbps, automated
    ("SW1A 1AA", "Westminster", "fttp", 1000, True),
    ("M1 1AE", "Manchester Central", "fttp", 1000, True),
    ("LS1 4AP", "Leeds City", "fttc", 80, True),
    ("EH1 1YZ", "Edinburgh Old Town", "fttc", 80, False),
    ("FA1 1LT", "Faultybridge", "fttp", 1000, True),
    ("FL1 1KY", "Flakeyford", "fttp", 500, True),
    ("PL1 1PH", "Poolham", "fttp", 1000, True),
    ("ZE2 9XA", "Unst (no coverage)", "fwa", 0, True),
]
USERS = [
    # username, role, is_staff, first name
    ("sales", Role.SALES, False, "Sam"),
    ("provisioning", Role.PROVISIONING, True, "Priya"),
    ("lead", Role.PROVISIONING_LEAD, True, "Lee"),
    ("billing", Role.BILLING, True, "Bea"),
    ("support", Role.SUPPORT, False, "Sol"),
    ("ops", Role.OPERATIONS_MANAGER, False, "Olu"),
    ("customer", Role.CUSTOMER, False, "Casey"),
    ("customer2", Role.CUSTOMER, False, "Chris"),
]


class Command(BaseCommand):
    help = "Load demo plans, addresses, users (password 'demo') and orders, if absent."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.SETTINGS_MODULE.endswith(".production"):
            raise CommandError("Demo data is never loaded with production settings.")
        User = get_user_model()
        if User.objects.filter(username="sales").exists():
            self.stdout.write("Demo data already present.")
            return
        # The demo's history is made by calling the services directly, with no latency: the
        # outbox messages they write still reach the worker, which finds the work done.
        with override_settings(NETWORK_SIMULATOR_LATENCY_MS=0):
            self._load()
        # The KPI dashboard counts the demo's day now, not at beat's first refresh.
        kpis_refresh_recent()
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))

    def _load(self) -> None:
        User = get_user_model()
        specifications = specifications_ensure()
        plans = {}
        for code, name, down, up, price, description in PLANS:
            plans[code] = Plan.objects.create(
                code=code,
                name=name,
                specification=specifications[INTERNET_ACCESS],
                download_mbps=down,
                upload_mbps=up,
                monthly_price=Decimal(price),
                description=description,
            )
        for code, name, spec, values, technologies, monthly, once in ADD_ONS:
            plans[code] = Plan.objects.create(
                code=code,
                name=name,
                specification=specifications[spec],
                characteristic_values=values,
                technologies=technologies,
                monthly_price=Decimal(monthly),
                one_time_price=Decimal(once),
            )
        for postcode, exchange, tech, mbps, auto in AREAS:
            ServiceArea.objects.create(
                postcode=postcode,
                exchange=exchange,
                technology=tech,
                max_download_mbps=mbps,
                auto_provisioning=auto,
            )
        # Static address pools for the areas: used when allocate_address goes to them
        # (docs/network-addresses.md); the simulator, the default, ignores them.
        demo_pools_ensure()
        users = {}
        for username, role, is_staff, first in USERS:
            user = User.objects.create_user(
                username,
                email=f"{username}@isp.example",
                password=PASSWORD,
                first_name=first,
                is_staff=is_staff,
            )
            user.groups.add(Group.objects.get(name=role.value))
            users[username] = user
        User.objects.create_superuser("admin", "admin@isp.example", PASSWORD)
        sales = users["sales"]
        crm, token = api_client_create(DEMO_API_CLIENT, ["read", "create", "cancel", "subscribe"])
        token_file = settings.VAR_DIR / DEMO_API_TOKEN_FILE
        token_file.write_text(token + "\n", encoding="utf-8")
        token_file.chmod(0o600)

        def submit(
            name: str,
            email: str,
            postcode: str,
            plan: str,
            *add_ons: str,
            user: Any = None,
            requested: datetime.date | None = None,
            line1: str = "1 High Street",
            city: str = "London",
            via_api: str = "",
        ) -> Order:
            submission = order_submit(
                customer=CustomerDetails(
                    name=name,
                    email=email,
                    phone=f"07700900{zlib.crc32(email.encode()) % 1000:03d}",
                    address_line1=line1,
                    city=city,
                    postcode=postcode,
                ),
                plan=plans[plan],
                add_ons=[plans[code] for code in add_ons],
                requested_activation_date=requested,
                channel=EventSource.API if via_api else EventSource.SALES_PORTAL,
                submitted_by=crm.user if via_api else sales,
                external_id=via_api,
            )
            order = submission.order
            if user is not None and order.customer.user_id is None:
                order.customer.user = user
                order.customer.save(update_fields=["user"])
            return order

        def run(order: Order, *, rounds: int | None = None) -> Order:
            """Start the order's plan and run its ready automatic tasks as a worker would, for
            ``rounds`` rounds (all of them: until nothing is ready or the order is held)."""
            fulfilment_start(order.pk)
            done_rounds = 0
            while rounds is None or done_rounds < rounds:
                ready = FulfilmentTask.objects.filter(
                    order=order,
                    state=TaskState.READY,
                    mode=TaskMode.AUTOMATIC,
                    order__status=OrderStatus.PROVISIONING,
                ).order_by("pk")
                ids = list(ready.values_list("pk", flat=True))
                if not ids:
                    break
                for task_id in ids:
                    scheduler.task_run(task_id, worker="demo-loader")
                done_rounds += 1
            return Order.objects.get(pk=order.pk)

        def run_undos(order: Order) -> None:
            """Run a cancelled order's undo tasks as a worker would."""
            while True:
                ready = list(
                    FulfilmentTask.objects.filter(
                        order=order, state=TaskState.READY, undoes__isnull=False
                    ).values_list("pk", flat=True)
                )
                if not ready:
                    return
                for task_id in ready:
                    scheduler.task_run(task_id, worker="demo-loader")

        def run_and_bill(order: Order) -> Order:
            run(order)
            billing_account_start(order.pk)
            return Order.objects.get(pk=order.pk)

        today = timezone.localdate()
        # customer: a line with a static IP and a router, live and billed (products, per-item
        # charges), and a line with its router being set up right now (mid-plan: the port is
        # reserved and the router registered; the worker does the rest).
        done = submit(
            "Casey Customer",
            "customer@isp.example",
            "SW1A 1AA",
            "fibre-500",
            "static-ip",
            "router-5590-fiber",
            user=users["customer"],
            line1="10 Downing Street",
        )
        run_and_bill(done)
        in_flight = submit(
            "Casey Customer",
            "customer@isp.example",
            "M1 1AE",
            "fibre-150",
            "router-5590-fiber",
            user=users["customer"],
            line1="4 Piccadilly Gardens",
            city="Manchester",
        )
        run(in_flight, rounds=1)  # provisioning; the worker runs the tasks left ready
        # customer2: a failed activation in the exception queue (no free port), and a
        # future-dated order on FTTC with its router.
        failed = submit(
            "Chris Customer",
            "customer2@isp.example",
            "FA1 1LT",
            "fibre-1000",
            "router-5590-fiber",
            user=users["customer2"],
            line1="7 Mill Lane",
            city="Faultybridge",
        )
        run(failed)
        # ... who has written to support about it: the first entry in support's open tickets.
        ticket_open(
            order=failed,
            customer_user=users["customer2"],
            subject=SupportTicket.Subject.ACTIVATION_DATE,
            message="My order says delayed. When will my line work?",
        )
        submit(
            "Chris Customer",
            "customer2@isp.example",
            "LS1 4AP",
            "fibre-40",
            "static-ip",
            "router-7590-ax",
            user=users["customer2"],
            line1="22 Briggate",
            city="Leeds",
            requested=today + datetime.timedelta(days=14),
        )
        # Other customers, one per remaining state.
        submit(
            "Dana Submitted",
            "dana@example.com",
            "SW1A 1AA",
            "fibre-150",
            "static-ip",
            line1="3 Whitehall",
        )  # submitted: the worker picks it up
        manual = submit(
            "Eli Manual",
            "eli@example.com",
            "EH1 1YZ",
            "fibre-40",
            "static-ip",
            "router-7590-ax",
            line1="5 Royal Mile",
            city="Edinburgh",
        )
        fulfilment_start(manual.pk)  # awaiting manual provisioning: its tasks in the pool
        activated = submit(
            "Fran Activated",
            "fran@example.com",
            "M1 1AE",
            "fibre-1000",
            "static-ip",
            "router-5590-fiber",
            line1="9 Market Street",
            city="Manchester",
        )
        run(activated)  # activated; the worker starts billing
        flaky = submit(
            "Gus Retried",
            "gus@example.com",
            "FL1 1KY",
            "fibre-500",
            "router-5590-fiber",
            line1="2 Brook Road",
            city="Flakeyford",
        )
        run_and_bill(flaky)  # the subscriber timed out once; the automatic retry succeeded
        # Poolham has no static address left: one order waits in the exception queue on its
        # static IP; on another the lead cancelled the static IP from the case, and the line
        # and router were delivered and billed without it (partial).
        pooled = submit(
            "Lou Pooled",
            "lou@example.com",
            "PL1 1PH",
            "fibre-500",
            "static-ip",
            line1="3 Pool Street",
            city="Poolham",
        )
        run(pooled)
        partial = submit(
            "Mo Partial",
            "mo@example.com",
            "PL1 1PH",
            "fibre-1000",
            "static-ip",
            "router-5590-fiber",
            line1="8 Pool Street",
            city="Poolham",
        )
        run(partial)
        case = ExceptionCase.objects.get(order=partial, state=ExceptionCase.State.OPEN)
        exception_case_cancel_item(
            case,
            item=OrderItem.objects.get(order=partial, offering=plans["static-ip"]),
            acting_user=users["lead"],
            reason="No static address free at Poolham; the customer takes the line without it.",
        )
        run_and_bill(partial)
        cancelled = submit(
            "Hana Cancelled",
            "hana@example.com",
            "SW1A 1AA",
            "fibre-40",
            "static-ip",
            line1="8 The Mall",
            requested=today + datetime.timedelta(days=7),
        )
        order_cancel(
            cancelled,
            actor=sales,
            reason="Customer moved house before activation.",
            source=EventSource.SALES_PORTAL,
        )
        # Two orders the CRM placed through TMF622 (channel "api", with the CRM's references):
        # one live and billed, one future-dated.
        from_crm = submit(
            "Jo Integrated",
            "jo@example.com",
            "M1 1AE",
            "fibre-500",
            "static-ip",
            line1="12 Deansgate",
            city="Manchester",
            via_api="CRM-20031",
        )
        run_and_bill(from_crm)
        # ... and, a week on, a router for Jo's live line: an order for the add-on alone (the
        # line is its noChange item), billed on the line's account.
        line = Product.objects.get(order=from_crm, parent__isnull=True)
        router_later = order_submit_add_ons(
            line.pk,
            [plans["router-5590-fiber"]],
            channel=EventSource.SALES_PORTAL,
            submitted_by=sales,
        ).order
        run_and_bill(router_later)
        submit(
            "Kit Later",
            "kit@example.com",
            "SW1A 1AA",
            "fibre-1000",
            line1="6 Horse Guards Road",
            requested=today + datetime.timedelta(days=21),
            via_api="CRM-20032",
        )
        # Changes to live lines, each an order of its own: Sam upgraded from Fibre 150 to
        # Gigabit; Uma's line suspended for non-payment; Wyn ceased her line and its router.
        for name, email, line1, plan_code, add_ons, change, to in (
            (
                "Sam Upgraded",
                "sam@example.com",
                "3 Birdcage Walk",
                "fibre-150",
                (),
                "modify",
                "fibre-1000",
            ),
            (
                "Uma Suspended",
                "uma@example.com",
                "5 Storey's Gate",
                "fibre-500",
                ("static-ip",),
                "suspend",
                "",
            ),
            (
                "Wyn Ceased",
                "wyn@example.com",
                "7 Great George Street",
                "fibre-150",
                ("router-5590-fiber",),
                "delete",
                "",
            ),
        ):
            provided = run_and_bill(
                submit(name, email, "SW1A 1AA", plan_code, *add_ons, line1=line1)
            )
            line = Product.objects.get(order=provided, parent__isnull=True)
            changed = order_submit_change(
                line.pk,
                change,
                offering=plans[to] if to else None,
                channel=EventSource.SUPPORT_PORTAL,
                submitted_by=users["support"],
            ).order
            run_and_bill(changed)
        # Vic cancelled while her line was being set up: what was done is undone.
        withdrawn = submit(
            "Vic Withdrawn",
            "vic@example.com",
            "SW1A 1AA",
            "fibre-500",
            "router-5590-fiber",
            line1="9 Horse Guards Avenue",
        )
        run(withdrawn, rounds=2)  # port, router, subscriber done
        order_cancel(
            withdrawn,
            actor=sales,
            reason="Customer found a cheaper offer.",
            source=EventSource.SALES_PORTAL,
        )
        run_undos(withdrawn)
        # Rejected: the exchange lost its coverage between order and activation.
        with transaction.atomic():
            rejected = submit(
                "Ivo Rejected",
                "ivo@example.com",
                "LS1 4AP",
                "fibre-40",
                "router-7590-ax",
                line1="1 Boar Lane",
                city="Leeds",
            )
            ServiceArea.objects.filter(postcode="LS14AP").update(max_download_mbps=0)
        fulfilment_start(rejected.pk)
        ServiceArea.objects.filter(postcode="LS14AP").update(max_download_mbps=80)
