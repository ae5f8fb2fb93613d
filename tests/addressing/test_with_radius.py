"""End to end with a real FreeRADIUS and the NAS simulator (tests/radius): the address the pool
allocates is the one the customer's router is given (Framed-IP-Address); after a cease the next
customer gets it, and only they."""

from __future__ import annotations

import pytest

from orders.fulfilment import TaskType
from orders.states import ItemAction, OrderStatus
from tests.radius.conftest import radius, radius_lab  # noqa: F401  (the real server fixtures)
from tests.radius.ordering import activate, change, line_of, password_of, username_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def pools_and_radius(radius, settings, serviceable_area, make_pool):  # noqa: F811
    """The subscriber's tasks to FreeRADIUS, allocate_address to the pools."""
    settings.PROVISIONING_TASK_ADAPTERS = {
        **settings.PROVISIONING_TASK_ADAPTERS,
        TaskType.ALLOCATE_ADDRESS: "provisioning.adapters.addresses.StaticAddressAdapter",
    }
    settings.ADDRESSING_QUARANTINE_DAYS = 0
    make_pool("198.51.100.0/29", serviceable_area, gateway="198.51.100.1")
    return radius


def test_the_pools_address_is_the_one_the_router_is_given_and_passes_on_after_a_cease(
    pools_and_radius, plan, serviceable_area, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    first = activate(capture, plan=plan, area=serviceable_area, static_ip=True)

    dial = pools_and_radius.nas.dial(username_of(first), password_of(first))
    assert dial.accepted and dial.attributes["Framed-IP-Address"] == "198.51.100.2"

    assert change(capture, line_of(first), ItemAction.DELETE).status == OrderStatus.COMPLETED
    second = activate(
        capture, plan=plan, area=serviceable_area, static_ip=True, email="b@example.com"
    )

    dial = pools_and_radius.nas.dial(username_of(second), password_of(second))
    assert dial.accepted and dial.attributes["Framed-IP-Address"] == "198.51.100.2"
    assert not pools_and_radius.nas.dial(username_of(first), password_of(first)).accepted
