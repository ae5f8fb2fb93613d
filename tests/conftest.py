"""Shared fixtures for the whole suite. Reuse these names; do not redefine them.

Catalog and network (each a ServiceArea row; the simulator's failure rules key on the exchange):

- ``plan``: "Fibre 500", 500/100 Mbps at 35.00 GBP a month (code ``fibre-500``).
- ``serviceable_area``: SW1A 1AA, exchange Westminster, FTTP up to 1000 Mbps, automated. An
  order here activates and completes with no person involved.
- ``manual_area``: IV1 1AA, exchange Inverness, FTTP up to 1000 Mbps, NOT automated. An order
  here waits in 'awaiting_manual' (an open order) with no provisioning job.
- ``faulty_area``: FB1 1AA, exchange "Faultybridge": the simulator fails reserve_port with
  PORT_UNAVAILABLE on every attempt, so the order ends in 'exception' with one case.
- ``flaky_area``: FL1 1AA, exchange "Flakeyford": the first attempt times out (transient) at
  subscriber_profile, the automatic retry succeeds.

Users (one per role, each in its role's group; the groups exist after migrate):

- ``sales_user`` ("sales-user"), ``provisioning_user``, ``lead_user`` (provisioning_lead),
  ``billing_user``, ``support_user``: staff roles.
- ``customer_user`` ("customer-user"): in the customer group, with NO Customer record yet, so a
  scenario can attach it to the customer of an order it places (Customer.user is one-to-one).
- ``customer_account``: a Customer record linked to ``customer_user`` (use one or the other
  way of linking in a test, not both).

Isolation (autouse, every test): the caches (and the cycle-time estimates held in memory) start
and end empty (the API throttle, the sign-in and tracking limiters count in them, and they
outlive each test's database transaction), and
the TMF API throttle is lifted, except in a test marked ``throttle`` (the throttle's own).

Factories and ``submit_order`` (intake through the real service) are in tests/factories.py.
After-commit work (outbox -> eager Celery) runs inside
``django_capture_on_commit_callbacks(execute=True)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.db import connection

from orders.cycle_times import estimates_forget
from orders.models import Customer, Plan, ServiceArea, Technology
from orders.roles import Role
from tests.factories import CustomerFactory, PlanFactory, ServiceAreaFactory, UserFactory
from tmf.auth import ClientRateThrottle

pytest_plugins = [
    "tests.plugins.celery_worker",
    "tests.plugins.scenarios",
    "tests.plugins.no_skips_in_ci",
    "tests.plugins.postgresql_only",
]


# --- isolation ------------------------------------------------------------------------------
def _clear_caches() -> None:
    for cache in caches.all(initialized_only=True):
        cache.clear()
    estimates_forget()  # the cycle-time estimates each process holds (orders.cycle_times)


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    """No counter or cached value crosses from one test to the next: a test's outcome must not
    depend on what ran before it (on SQLite a rolled-back test's client ids come again, and
    with them the throttle history kept under them)."""
    _clear_caches()
    yield
    _clear_caches()


@pytest.fixture(autouse=True)
def api_throttle_lifted(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The TMF API's per-client rate (TMF_API_RATE) applies only in tests marked ``throttle``:
    elsewhere a test's calls are not about it, and how many a test may make must not depend on
    how fast the machine runs them."""
    if request.node.get_closest_marker("throttle") is None:
        monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"client": None})


# --- catalog and network ------------------------------------------------------------------
@pytest.fixture
def plan(db: None) -> Plan:
    return PlanFactory(
        code="fibre-500",
        name="Fibre 500",
        download_mbps=500,
        upload_mbps=100,
        monthly_price=Decimal("35.00"),
    )


def _area(postcode: str, exchange: str, *, auto_provisioning: bool = True) -> ServiceArea:
    return ServiceAreaFactory(
        postcode=postcode,
        exchange=exchange,
        technology=Technology.FTTP,
        max_download_mbps=1000,
        auto_provisioning=auto_provisioning,
    )


@pytest.fixture
def serviceable_area(db: None) -> ServiceArea:
    return _area("SW1A 1AA", "Westminster")


@pytest.fixture
def manual_area(db: None) -> ServiceArea:
    return _area("IV1 1AA", "Inverness", auto_provisioning=False)


@pytest.fixture
def faulty_area(db: None) -> ServiceArea:
    return _area("FB1 1AA", "Faultybridge")


@pytest.fixture
def flaky_area(db: None) -> ServiceArea:
    return _area("FL1 1AA", "Flakeyford")


# --- users, one per role --------------------------------------------------------------------
@pytest.fixture
def sales_user(db: None) -> User:
    return UserFactory(username="sales-user", first_name="Sam", last_name="Sales", role=Role.SALES)


@pytest.fixture
def provisioning_user(db: None) -> User:
    return UserFactory(
        username="provisioning-user",
        first_name="Pia",
        last_name="Provisioning",
        role=Role.PROVISIONING,
    )


@pytest.fixture
def lead_user(db: None) -> User:
    return UserFactory(
        username="lead-user",
        first_name="Lee",
        last_name="Lead",
        role=Role.PROVISIONING_LEAD,
        is_staff=True,  # the exception queue is in the Django admin
    )


@pytest.fixture
def ops_manager_user(db: None) -> User:
    return UserFactory(
        username="ops-manager",
        first_name="Olu",
        last_name="Operations",
        email="ops-manager@isp.example",
        role=Role.OPERATIONS_MANAGER,
    )


@pytest.fixture
def billing_user(db: None) -> User:
    return UserFactory(
        username="billing-user", first_name="Bea", last_name="Billing", role=Role.BILLING
    )


@pytest.fixture
def support_user(db: None) -> User:
    return UserFactory(
        username="support-user", first_name="Sue", last_name="Support", role=Role.SUPPORT
    )


@pytest.fixture
def customer_user(db: None) -> User:
    return UserFactory(
        username="customer-user", first_name="Cat", last_name="Customer", role=Role.CUSTOMER
    )


@pytest.fixture
def customer_account(customer_user: User) -> Customer:
    return CustomerFactory(
        name="Cat Customer", email="cat.customer@example.com", user=customer_user
    )


# --- concurrency ------------------------------------------------------------------------------
@pytest.fixture
def run_in_threads() -> Callable[..., list[Any]]:
    """``run_in_threads(f, g, ...)`` calls each function in its own thread at once (each with
    its own database connection, closed afterwards) and returns their results in order; an
    exception in a thread is raised here. Use with ``django_db(transaction=True)``: the threads
    see only what is committed."""

    def run(*calls: Callable[[], Any]) -> list[Any]:
        def in_thread(call: Callable[[], Any]) -> Any:
            try:
                return call()
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            futures = [pool.submit(in_thread, call) for call in calls]
            return [future.result(timeout=60) for future in futures]

    return run
