"""Orders in meaningful states, made through the real services (pytest plugin).

Builds on the base fixtures of tests/conftest.py (plan, areas, role users).
"""

import zlib
from decimal import Decimal
from itertools import count

import pytest

from inventory.models import Product
from orders.catalogue import specification_for
from orders.models import Order, Plan, ProductKind, ServiceArea
from orders.services import CustomerDetails, customer_link_user, order_submit
from orders.states import EventSource, OrderStatus
from tests.factories import submit_order

_seq = count(1)


@pytest.fixture
def plan_factory(db):
    def make(*, download_mbps: int, price: str = "30.00") -> Plan:
        n = next(_seq)
        return Plan.objects.create(
            specification=specification_for(ProductKind.INTERNET_ACCESS),
            code=f"plan-{n}",
            name=f"Plan {n} {download_mbps}",
            download_mbps=download_mbps,
            upload_mbps=max(1, download_mbps // 5),
            monthly_price=Decimal(price),
        )

    return make


@pytest.fixture
def slow_area(db) -> ServiceArea:
    """FTTC up to 80 Mbps, automated."""
    return ServiceArea.objects.create(
        postcode="LS1 4AP", exchange="Leeds City", technology="fttc", max_download_mbps=80
    )


@pytest.fixture
def place_order(django_capture_on_commit_callbacks, sales_user):
    """Submit an order through the service and let its after-commit work run (eager Celery)."""

    def place(*, plan: Plan, area: ServiceArea, email: str, customer_user=None, **extra) -> Order:
        with django_capture_on_commit_callbacks(execute=True):
            submission = order_submit(
                customer=CustomerDetails(
                    name=extra.pop("name", "Pat Example"),
                    email=email,
                    # One phone per e-mail, so each scenario customer is told apart by phone too.
                    phone=extra.pop("phone", f"07700{zlib.crc32(email.encode()) % 1000000:06d}"),
                    address_line1="1 Test Street",
                    city="Testville",
                    postcode=area.postcode,
                ),
                plan=plan,
                requested_activation_date=extra.pop("requested", None),
                channel=EventSource.SALES_PORTAL,
                submitted_by=sales_user,
                **extra,
            )
        order = Order.objects.get(pk=submission.order.pk)
        if customer_user is not None:
            customer_link_user(order.customer_id, customer_user)
            order.refresh_from_db()
        return order

    return place


@pytest.fixture
def submitted_order(place_order, plan, manual_area) -> Order:
    """An open order (waiting in the manual provisioning pool)."""
    return place_order(plan=plan, area=manual_area, email="open@example.com")


@pytest.fixture
def customer_manual_order(place_order, plan, manual_area, customer_user) -> Order:
    """customer_user's own order, waiting for manual provisioning."""
    return place_order(
        plan=plan, area=manual_area, email="mine@example.com", customer_user=customer_user
    )


@pytest.fixture
def failed_order(place_order, plan, faulty_area, lead_user, django_user_model) -> Order:
    """Another customer's order whose activation failed into the exception queue."""
    other = django_user_model.objects.create_user("other-customer", password="x")
    return place_order(
        plan=plan,
        area=faulty_area,
        email="failed@example.com",
        name="Quinn Failed",
        customer_user=other,
    )


@pytest.fixture
def completed_order(place_order, plan, serviceable_area) -> Order:
    return place_order(plan=plan, area=serviceable_area, email="done@example.com")


# --- the installed base ---------------------------------------------------------------------
@pytest.fixture
def make_live_line(django_capture_on_commit_callbacks):
    """``make_live_line(plan=, area=, email=...)``: a line ordered, activated, completed and
    billed, so it is a live line (inventory.Product) in its customer's installed base."""

    def make(
        *, plan: Plan, area: ServiceArea, email: str = "jane@example.com", **customer: str
    ) -> Product:
        customer.setdefault("address_line1", "9 Elm Row")
        with django_capture_on_commit_callbacks(execute=True):
            order = submit_order(plan=plan, area=area, email=email, **customer).order
        assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED
        return Product.objects.get(order=order)

    return make


@pytest.fixture
def live_line(make_live_line, plan, serviceable_area) -> Product:
    """Jane's Fibre 500 at 9 Elm Row (SW1A 1AA), completed and billed: a line in her installed
    base."""
    return make_live_line(plan=plan, area=serviceable_area)
