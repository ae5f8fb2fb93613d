"""A network of several systems (provisioning/adapters/routed.py): each task goes to the adapter
settings name for its type, the rest to the fallback; what they hold is read back from the
adapter that does each type, in one key order; and the subscriber's password is the same for
every system that asks, without being stored or shown."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

import pytest
from django.core.exceptions import ImproperlyConfigured

from orders.fulfilment import TaskType
from provisioning.adapters import NetworkHolding, TaskRequest, TaskResult, get_adapter
from provisioning.adapters.credentials import subscriber_credentials, subscriber_password
from provisioning.adapters.routed import RoutedNetworkAdapter

REQUEST = TaskRequest(
    order_id="K7QM3XPA9Z",
    item_id="1",
    task_type=TaskType.RESERVE_PORT,
    attempt=1,
    postcode="SW1A1AA",
    address="1 High Street, London SW1A 1AA",
    exchange="Westminster",
    technology="fttp",
    offering_code="fibre-500",
    plan_code="fibre-500",
)


class Recorder:
    """An adapter that answers with its own name and holds one thing per order of every task
    type it is asked about (so the routing has to filter what it lists)."""

    name = "recorder"
    held: list[NetworkHolding] = []

    def __init__(self) -> None:
        self.requests: list[TaskRequest] = []

    def execute(self, request: TaskRequest) -> TaskResult:
        self.requests.append(request)
        return TaskResult.success(f"{self.name}-{request.task_type}")

    def lookup(self, order_ids: Collection[str]) -> list[NetworkHolding]:
        return [h for h in self.held if h.order_id in order_ids]

    def holdings(self, *, task_type=None, after=None, limit=1000) -> list[NetworkHolding]:
        rows = sorted(
            (h for h in self.held if task_type is None or h.task_type == task_type),
            key=lambda h: h.key,
        )
        return [h for h in rows if after is None or h.key > after][:limit]


class Radius(Recorder):
    name = "radius"
    held = [
        NetworkHolding(order_id=f"O{n}", item_id="1", task_type=task)
        for n in range(5)
        for task in (TaskType.CREATE_SUBSCRIBER, TaskType.RESERVE_PORT)
    ]


class Element(Recorder):
    name = "element"
    held = [
        NetworkHolding(order_id=f"O{n}", item_id="1", task_type=task)
        for n in range(5)
        for task in (TaskType.RESERVE_PORT, TaskType.CREATE_SUBSCRIBER)
    ]


ROUTES: dict[str, str] = {TaskType.CREATE_SUBSCRIBER: f"{__name__}.Radius"}


def routed() -> RoutedNetworkAdapter:
    return RoutedNetworkAdapter(ROUTES, fallback=f"{__name__}.Element")


def test_each_task_goes_to_the_adapter_named_for_its_type_and_the_rest_to_the_fallback():
    adapter = routed()

    subscriber = adapter.execute(dataclasses.replace(REQUEST, task_type="create_subscriber"))
    port = adapter.execute(REQUEST)

    assert subscriber.network_reference == "radius-create_subscriber"
    assert port.network_reference == "element-reserve_port"
    assert adapter.adapter_for(TaskType.REGISTER_CPE) is adapter.adapter_for(TaskType.RESERVE_PORT)


def test_what_the_network_holds_comes_from_the_adapter_that_does_each_type():
    adapter = routed()

    held = adapter.lookup(["O1", "O3"])

    # RADIUS answers for subscribers only, the element manager for ports only: the stray rows
    # each holds of the other's type (say, from before the routing changed) are not counted.
    assert [(h.order_id, h.task_type) for h in held] == [
        ("O1", "create_subscriber"),
        ("O1", "reserve_port"),
        ("O3", "create_subscriber"),
        ("O3", "reserve_port"),
    ]


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 1000])
def test_a_listing_of_everything_held_pages_through_all_adapters_in_key_order(limit):
    adapter = routed()
    seen: list[tuple[str, str, str]] = []
    after = None
    while True:
        page = adapter.holdings(after=after, limit=limit)
        if not page:
            break
        assert len(page) <= limit
        seen.extend(h.key for h in page)
        after = page[-1].key

    expected = sorted(
        (f"O{n}", "1", task)
        for n in range(5)
        for task in (TaskType.CREATE_SUBSCRIBER, TaskType.RESERVE_PORT)
    )
    assert seen == expected  # each once, none lost at a page boundary


def test_a_route_for_a_task_type_that_does_not_exist_is_refused_at_start():
    with pytest.raises(ImproperlyConfigured, match="create_subscribr"):
        RoutedNetworkAdapter({"create_subscribr": f"{__name__}.Radius"})


def test_the_routed_adapter_is_what_settings_choose(settings):
    settings.PROVISIONING_NETWORK_ADAPTER = "provisioning.adapters.routed.RoutedNetworkAdapter"
    settings.PROVISIONING_TASK_ADAPTERS = ROUTES
    settings.PROVISIONING_FALLBACK_ADAPTER = f"{__name__}.Element"

    result = get_adapter().execute(dataclasses.replace(REQUEST, task_type="create_subscriber"))

    assert result.network_reference == "radius-create_subscriber"


def test_every_system_derives_the_same_password_and_none_shows_it(settings):
    settings.SUBSCRIBER_CREDENTIALS_KEY = "k1"
    line_order = subscriber_credentials(REQUEST)
    # A later order on the live line knows the subscriber by what the line's order recorded.
    later = subscriber_credentials(
        dataclasses.replace(REQUEST, order_id="Z9", identifiers={"subscriber": "sub-k7qm3xpa9z"})
    )

    assert line_order.username == later.username == "sub-k7qm3xpa9z"
    assert line_order.password == later.password
    assert len(line_order.password) == 20 and line_order.password.isalnum()
    assert line_order.password not in repr(line_order)
    # Another key (another operator, a rotated key) gives another password.
    settings.SUBSCRIBER_CREDENTIALS_KEY = "k2"
    assert subscriber_password("sub-k7qm3xpa9z") != line_order.password
