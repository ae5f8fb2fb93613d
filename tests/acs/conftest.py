"""The fake GenieACS (tests/acs/fake_genieacs.py) served for a test, with the adapter's
settings pointing at it; the network routed to it for ``register_cpe``; orders placed with a
managed router."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from orders.models import Order, OrderItem
from orders.router_serials import order_item_serial_set
from orders.states import EventSource
from tests.acs.fake_genieacs import FakeGenieAcs, FakeGenieAcsServer
from tests.factories import RouterOfferingFactory, submit_order


@pytest.fixture
def acs_server(settings) -> Iterator[FakeGenieAcsServer]:
    server = FakeGenieAcsServer().start()
    settings.GENIEACS_URL = server.url
    settings.GENIEACS_USERNAME = ""
    settings.GENIEACS_PASSWORD = ""
    settings.GENIEACS_TIMEOUT_SECONDS = 5.0
    settings.GENIEACS_DATA_MODEL = "tr098"
    settings.GENIEACS_PPPOE_USERNAME_PATH = ""
    settings.GENIEACS_PPPOE_PASSWORD_PATH = ""
    settings.GENIEACS_CONNECTION_REQUEST = True
    yield server
    server.stop()


@pytest.fixture
def acs(acs_server: FakeGenieAcsServer) -> FakeGenieAcs:
    return acs_server.fake


@pytest.fixture
def unreachable_url() -> str:
    """A port on 127.0.0.1 that nothing listens on (bound, then let go): connection refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def routed_to_the_acs(settings, acs_server):
    settings.PROVISIONING_NETWORK_ADAPTER = "provisioning.adapters.routed.RoutedNetworkAdapter"
    settings.PROVISIONING_TASK_ADAPTERS = {
        "register_cpe": "provisioning.adapters.acs.GenieAcsAdapter"
    }
    settings.NETWORK_SIMULATOR_RULES = []  # the rest of the network (the simulator) never fails


@pytest.fixture
def router_offering():
    return RouterOfferingFactory()


@pytest.fixture
def place(django_capture_on_commit_callbacks, plan, serviceable_area, router_offering):
    """Submit a line with a managed router; ``serial`` entered on the router item before its
    tasks run (as staff do before dispatch), or none."""

    def place_order(serial: str | None = None, **customer: str) -> Order:
        with django_capture_on_commit_callbacks() as submitted:
            order = submit_order(
                plan=plan, add_ons=(router_offering,), area=serviceable_area, **customer
            ).order
        if serial is not None:
            order_item_serial_set(
                router_item(order), serial=serial, actor=None, source=EventSource.ADMIN
            )
        with django_capture_on_commit_callbacks(execute=True):
            for callback in submitted:
                callback()
        return Order.objects.get(pk=order.pk)

    return place_order


def router_item(order: Order) -> OrderItem:
    return order.items.get(offering__specification__kind="router")
