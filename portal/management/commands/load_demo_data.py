"""Demo data for `make run`: plans, serviceable and unserviceable addresses, one user per role
(password "demo") and orders in every state, all made through the real services.

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

from billing.services import billing_account_start
from orders.models import Order, Plan, ServiceArea
from orders.roles import Role
from orders.services import CustomerDetails, order_cancel, order_submit
from orders.states import EventSource
from provisioning.models import ProvisioningJob
from provisioning.services import activation_attempt_run, fulfilment_start
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
AREAS = [
    # postcode, exchange, technology, max Mbps, automated
    ("SW1A 1AA", "Westminster", "fttp", 1000, True),
    ("M1 1AE", "Manchester Central", "fttp", 1000, True),
    ("LS1 4AP", "Leeds City", "fttc", 80, True),
    ("EH1 1YZ", "Edinburgh Old Town", "fttc", 80, False),
    ("FA1 1LT", "Faultybridge", "fttp", 1000, True),
    ("FL1 1KY", "Flakeyford", "fttp", 500, True),
    ("ZE2 9XA", "Unst (no coverage)", "fwa", 0, True),
]
USERS = [
    # username, role, is_staff, first name
    ("sales", Role.SALES, False, "Sam"),
    ("provisioning", Role.PROVISIONING, True, "Priya"),
    ("lead", Role.PROVISIONING_LEAD, True, "Lee"),
    ("billing", Role.BILLING, True, "Bea"),
    ("support", Role.SUPPORT, False, "Sol"),
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
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))

    def _load(self) -> None:
        User = get_user_model()
        plans = {}
        for code, name, down, up, price, description in PLANS:
            plans[code] = Plan.objects.create(
                code=code,
                name=name,
                download_mbps=down,
                upload_mbps=up,
                monthly_price=Decimal(price),
                description=description,
            )
        for postcode, exchange, tech, mbps, auto in AREAS:
            ServiceArea.objects.create(
                postcode=postcode,
                exchange=exchange,
                technology=tech,
                max_download_mbps=mbps,
                auto_provisioning=auto,
            )
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
            *,
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

        def run_to_activation(order: Order) -> None:
            fulfilment_start(order.pk)
            for job in ProvisioningJob.objects.filter(order=order, status="pending"):
                activation_attempt_run(job.pk)

        today = timezone.localdate()
        # customer: one line live and billed, one being activated right now.
        done = submit(
            "Casey Customer",
            "customer@isp.example",
            "SW1A 1AA",
            "fibre-500",
            user=users["customer"],
            line1="10 Downing Street",
        )
        run_to_activation(done)
        billing_account_start(done.pk)
        in_flight = submit(
            "Casey Customer",
            "customer@isp.example",
            "M1 1AE",
            "fibre-150",
            user=users["customer"],
            line1="4 Piccadilly Gardens",
            city="Manchester",
        )
        fulfilment_start(in_flight.pk)  # provisioning; the worker runs the attempt
        # customer2: a failed activation in the exception queue, and a future-dated order.
        failed = submit(
            "Chris Customer",
            "customer2@isp.example",
            "FA1 1LT",
            "fibre-1000",
            user=users["customer2"],
            line1="7 Mill Lane",
            city="Faultybridge",
        )
        run_to_activation(failed)
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
            user=users["customer2"],
            line1="22 Briggate",
            city="Leeds",
            requested=today + datetime.timedelta(days=14),
        )
        # Other customers, one per remaining state.
        submit(
            "Dana Submitted", "dana@example.com", "SW1A 1AA", "fibre-150", line1="3 Whitehall"
        )  # submitted: the worker picks it up
        manual = submit(
            "Eli Manual",
            "eli@example.com",
            "EH1 1YZ",
            "fibre-40",
            line1="5 Royal Mile",
            city="Edinburgh",
        )
        fulfilment_start(manual.pk)  # awaiting manual provisioning
        activated = submit(
            "Fran Activated",
            "fran@example.com",
            "M1 1AE",
            "fibre-1000",
            line1="9 Market Street",
            city="Manchester",
        )
        run_to_activation(activated)  # activated; the worker starts billing
        flaky = submit(
            "Gus Retried",
            "gus@example.com",
            "FL1 1KY",
            "fibre-500",
            line1="2 Brook Road",
            city="Flakeyford",
        )
        run_to_activation(flaky)
        for job in ProvisioningJob.objects.filter(order=flaky, status="pending"):
            activation_attempt_run(job.pk)
        billing_account_start(flaky.pk)
        cancelled = submit(
            "Hana Cancelled",
            "hana@example.com",
            "SW1A 1AA",
            "fibre-40",
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
            line1="12 Deansgate",
            city="Manchester",
            via_api="CRM-20031",
        )
        run_to_activation(from_crm)
        billing_account_start(from_crm.pk)
        submit(
            "Kit Later",
            "kit@example.com",
            "SW1A 1AA",
            "fibre-1000",
            line1="6 Horse Guards Road",
            requested=today + datetime.timedelta(days=21),
            via_api="CRM-20032",
        )
        # Rejected: the exchange lost its coverage between order and activation.
        with transaction.atomic():
            rejected = submit(
                "Ivo Rejected",
                "ivo@example.com",
                "LS1 4AP",
                "fibre-40",
                line1="1 Boar Lane",
                city="Leeds",
            )
            ServiceArea.objects.filter(postcode="LS14AP").update(max_download_mbps=0)
        fulfilment_start(rejected.pk)
        ServiceArea.objects.filter(postcode="LS14AP").update(max_download_mbps=80)
