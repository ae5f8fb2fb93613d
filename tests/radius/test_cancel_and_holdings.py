"""A cancelled order leaves no row in RADIUS (issue 13, done when), and what RADIUS holds is
read back by the order and item that made it, so the reconciliation finds a subscriber deleted
behind the system's back and one set up outside it."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from orders.models import Order
from orders.services import order_cancel
from orders.states import EventSource, OrderStatus
from provisioning.adapters.radius import RadiusAdapter
from provisioning.adapters.routed import RoutedNetworkAdapter
from provisioning.services import fulfilment_start
from reconciliation.checks import (
    CheckContext,
    network_has_unknown_subscriber,
    task_done_but_network_missing,
)
from tests.factories import StaticIpOfferingFactory, submit_order
from tests.provisioning.running import run_ready
from tests.radius.ordering import activate, username_of

pytestmark = pytest.mark.django_db

AUTHORISATION = ("radcheck", "radreply", "radusergroup", "oa_holding")


def rows_of(radius, username: str) -> dict[str, int]:
    return {
        table: radius.query(
            f"SELECT count(*) FROM {table} WHERE username = %s",  # noqa: S608
            username,
        )[0][0]
        for table in AUTHORISATION
    }


def test_a_cancelled_order_leaves_no_rows(radius, plan, serviceable_area, sales_user):
    # Given an order with a static IP whose tasks ran up to the point of no return
    order = submit_order(
        plan=plan, add_ons=(StaticIpOfferingFactory(),), area=serviceable_area
    ).order
    fulfilment_start(order.pk)
    run_ready(order, until="1.activate_line")
    username = username_of(order)
    assert rows_of(radius, username) == {
        "radcheck": 2,  # the password, Simultaneous-Use
        "radreply": 1,  # the static address
        "radusergroup": 1,
        "oa_holding": 3,  # the subscriber, its speed profile, its address
    }

    # When the rep cancels it and the undo tasks run
    order_cancel(
        Order.objects.get(pk=order.pk),
        actor=sales_user,
        reason="Customer changed their mind.",
        source=EventSource.SALES_PORTAL,
    )
    run_ready(order)

    # Then the order is cancelled and RADIUS holds nothing of it
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert rows_of(radius, username) == dict.fromkeys(AUTHORISATION, 0)
    assert RadiusAdapter().lookup([order.pk]) == []


def test_what_radius_holds_maps_back_to_each_order_and_item(
    radius, plan, serviceable_area, django_capture_on_commit_callbacks
):
    order = activate(
        django_capture_on_commit_callbacks, plan=plan, area=serviceable_area, static_ip=True
    )
    other = activate(
        django_capture_on_commit_callbacks, plan=plan, area=serviceable_area, email="b@x.org"
    )

    held = RadiusAdapter().lookup([order.pk])

    assert [h.key for h in held] == [
        (order.pk, "1", "apply_speed_profile"),
        (order.pk, "1", "create_subscriber"),
        (order.pk, "2", "bind_address"),
    ]
    subscriber = next(h for h in held if h.task_type == "create_subscriber")
    assert subscriber.identifiers == {"subscriber": username_of(order)}
    # The listing pages in key order, as the routed adapter merges it
    adapter = RadiusAdapter()
    first = adapter.holdings(task_type="create_subscriber", limit=1)
    rest = adapter.holdings(task_type="create_subscriber", after=first[0].key, limit=10)
    assert sorted([first[0].order_id, rest[0].order_id]) == sorted([order.pk, other.pk])
    assert first[0].key < rest[0].key and len(rest) == 1


def _context() -> CheckContext:
    return CheckContext(
        settled_before=timezone.now() + datetime.timedelta(seconds=1),
        adapter=RoutedNetworkAdapter(),
    )


def test_the_reconciliation_finds_a_subscriber_deleted_behind_the_systems_back(
    radius, plan, serviceable_area, django_capture_on_commit_callbacks
):
    order = activate(django_capture_on_commit_callbacks, plan=plan, area=serviceable_area)
    assert not list(task_done_but_network_missing(_context()))

    # Someone deletes the subscriber's password in FreeRADIUS by hand
    with radius.admin() as conn:
        conn.execute("DELETE FROM radcheck WHERE username = %s", (username_of(order),))

    findings = list(task_done_but_network_missing(_context()))
    assert [f.subject for f in findings] == [f"{order.pk}:1:create_subscriber"]
    assert findings[0].order_id == order.pk


def test_the_reconciliation_finds_a_subscriber_no_order_made(radius):
    with radius.admin() as conn:
        conn.execute(
            "INSERT INTO radcheck (username, attribute, op, value) "
            "VALUES ('sub-zz9zz9zz9z', 'Cleartext-Password', ':=', 'x')"
        )

    findings = list(network_has_unknown_subscriber(_context()))

    assert [f.subject for f in findings] == ["ZZ9ZZ9ZZ9Z:"]
    assert "sub-zz9zz9zz9z" in findings[0].detail
