"""Fixtures of the reconciliation tests: lines taken through the real services (intake, the
simulated network, billing, the installed base), and a way to run the checks now."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.utils import timezone

from inventory.models import Product
from orders.changes import order_submit_change
from orders.models import Order, Plan, ServiceArea
from orders.states import EventSource, OrderStatus
from provisioning.adapters.simulator import SimulatedNetworkAdapter
from reconciliation.checks import CHECKS, Check, CheckContext, Finding
from tests.factories import RouterOfferingFactory, StaticIpOfferingFactory, submit_order


def context() -> CheckContext:
    """What a run now with no grace period gives each check (everything so far is settled)."""
    return CheckContext(
        settled_before=timezone.now() + datetime.timedelta(seconds=1),
        adapter=SimulatedNetworkAdapter(rules=[], latency_ms=0),
    )


def found(check: Check) -> list[Finding]:
    return list(check(context()))


def found_by_all() -> list[Finding]:
    ctx = context()
    return [finding for check in CHECKS.values() for finding in check(ctx)]


@pytest.fixture
def no_grace(settings) -> None:
    settings.RECONCILIATION_GRACE_MINUTES = 0


@pytest.fixture
def live_line(
    plan: Plan, serviceable_area: ServiceArea, django_capture_on_commit_callbacks
) -> Callable[..., Product]:
    """Make a line live and billed through the real services; returns its product."""

    def make(*, add_ons: bool = False, email: str = "jane@example.com") -> Product:
        extras = (StaticIpOfferingFactory(), RouterOfferingFactory()) if add_ons else ()
        with django_capture_on_commit_callbacks(execute=True):
            order = submit_order(
                plan=plan, add_ons=extras, area=serviceable_area, email=email
            ).order
        assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED
        return Product.objects.get(order=order, parent__isnull=True)

    return make


@pytest.fixture
def change_line(django_capture_on_commit_callbacks) -> Callable[..., Order]:
    """Change a live line through orders.changes (a plan change, suspension, cease)."""

    def change(line: Product, what: str, **kwargs: object) -> Order:
        with django_capture_on_commit_callbacks(execute=True):
            submission = order_submit_change(
                line.pk, what, channel=EventSource.SUPPORT_PORTAL, submitted_by=None, **kwargs
            )
        order = Order.objects.get(pk=submission.order.pk)
        assert order.status == OrderStatus.COMPLETED, order.status
        return order

    return change
