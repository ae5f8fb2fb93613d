"""The two halves of a line's credentials meet: the router GenieACS configures (the fake NBI of
tests/acs) signs in to the real FreeRADIUS with what the ACS gave it, and gets its plan's speed.
Neither the order system nor the customer ever typed the password."""

from __future__ import annotations

import pytest

from orders.states import OrderStatus
from tests.acs import conftest as acs_fixtures

pytestmark = pytest.mark.django_db

# The ACS tests' fixtures, shared: the fake GenieACS, a managed router's offering, an order
# placed with one.
acs_server = acs_fixtures.acs_server
acs = acs_fixtures.acs
router_offering = acs_fixtures.router_offering
place = acs_fixtures.place

WAN = "InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANPPPConnection.1"


def test_the_router_the_acs_configured_signs_in_with_the_lines_speed(radius, acs, place, settings):
    # Given FreeRADIUS doing the subscriber and GenieACS the router
    settings.PROVISIONING_TASK_ADAPTERS = {
        **settings.PROVISIONING_TASK_ADAPTERS,
        "register_cpe": "provisioning.adapters.acs.GenieAcsAdapter",
    }
    settings.NETWORK_SIMULATOR_RULES = []
    order = place(serial="SN7001")
    assert order.status == OrderStatus.COMPLETED

    # When the customer plugs the router in: it calls the ACS, then dials with what it was given
    acs.inform("SN7001")
    username = acs.parameter("SN7001", f"{WAN}.Username")
    password = acs.parameter("SN7001", f"{WAN}.Password")
    dial = radius.nas.dial(username, password)

    # Then the line is up at its plan's speed
    assert dial.accepted
    plan = order.plan
    assert dial.attributes["Mikrotik-Rate-Limit"] == f"{plan.upload_mbps}M/{plan.download_mbps}M"


def test_a_router_with_another_lines_password_is_refused(radius, acs, place, settings):
    settings.PROVISIONING_TASK_ADAPTERS = {
        **settings.PROVISIONING_TASK_ADAPTERS,
        "register_cpe": "provisioning.adapters.acs.GenieAcsAdapter",
    }
    settings.NETWORK_SIMULATOR_RULES = []
    first = place(serial="SN7002")
    place(serial="SN7003", email="other@example.com")
    acs.inform("SN7002")
    acs.inform("SN7003")

    dial = radius.nas.dial(
        acs.parameter("SN7002", f"{WAN}.Username"), acs.parameter("SN7003", f"{WAN}.Password")
    )

    assert first.status == OrderStatus.COMPLETED
    assert not dial.accepted
