"""The network simulator (provisioning/adapters/simulator.py): rules decide which task fails,
how, and for how many attempts; the same request always gives the same answer, with the same
identifiers (port, subscriber, address, CPE serial)."""

from __future__ import annotations

import dataclasses

import pytest

from orders.fulfilment import TaskType
from provisioning.adapters import TaskRequest, get_adapter
from provisioning.adapters.simulator import DEFAULT_RULES, SimulatedNetworkAdapter
from provisioning.models import ReasonCode

pytestmark = pytest.mark.django_db  # the simulated network keeps what it holds

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
    download_mbps=500,
    upload_mbps=100,
)
ACCESS_PLAN = (
    TaskType.RESERVE_PORT,
    TaskType.CREATE_SUBSCRIBER,
    TaskType.APPLY_SPEED_PROFILE,
    TaskType.ACTIVATE_LINE,
)


def request(**changes) -> TaskRequest:
    return dataclasses.replace(REQUEST, **changes)


def run(adapter: SimulatedNetworkAdapter, task: str, **changes):
    return adapter.execute(request(task_type=task, **changes))


def outcome(adapter: SimulatedNetworkAdapter, **changes) -> list[tuple[str, str]]:
    """(task, error code or '') for each task of the access plan, as the simulator answers."""
    return [(task, run(adapter, task, **changes).error_code) for task in ACCESS_PLAN]


def simulator(*rules) -> SimulatedNetworkAdapter:
    return SimulatedNetworkAdapter(rules=list(rules), latency_ms=0)


def test_with_no_rules_every_task_succeeds_with_a_reference_and_its_identifiers():
    adapter = simulator()
    known = {"subscriber": "sub-k7qm3xpa9z"}  # what the tasks before a bind recorded
    for task in TaskType:
        result = run(adapter, task, identifiers=known)
        assert result.ok
        assert result.network_reference.startswith(task.upper() + "-")
    assert run(adapter, TaskType.RESERVE_PORT).identifiers["port"].startswith("WEST-")
    assert run(adapter, TaskType.CREATE_SUBSCRIBER).identifiers == {"subscriber": "sub-k7qm3xpa9z"}
    address = run(adapter, TaskType.ALLOCATE_ADDRESS, item_id="2").identifiers["ipv4Address"]
    assert address.startswith(("198.51.100.", "203.0.113."))
    assert (
        run(adapter, TaskType.REGISTER_CPE, item_id="3").identifiers["cpeSerial"].startswith("CPE")
    )


def test_an_address_is_bound_only_to_a_subscriber_the_network_knows():
    adapter = simulator()

    refused = run(adapter, TaskType.BIND_ADDRESS, item_id="2")
    assert not refused.ok and not refused.transient
    assert refused.error_code == ReasonCode.ADDRESS_BIND_FAILED
    assert "No subscriber" in refused.error_message

    bound = run(adapter, TaskType.BIND_ADDRESS, item_id="2", identifiers={"subscriber": "sub-x"})
    assert bound.ok


@pytest.mark.parametrize(
    ("when", "matching", "other"),
    [
        ({"exchange": "Westminster"}, {}, {"exchange": "Leeds City"}),
        ({"postcode": "sw1a 1aa"}, {}, {"postcode": "SW1A1AB"}),
        ({"postcode_prefix": "sw1"}, {"postcode": "SW1X7LA"}, {"postcode": "W1A1AA"}),
        ({"plan_code": "fibre-500"}, {}, {"plan_code": "fibre-900"}),
        (
            {"exchange": "Westminster", "plan_code": "fibre-500"},
            {},
            {"plan_code": "fibre-900"},
        ),
    ],
    ids=["exchange", "postcode", "postcode_prefix", "plan_code", "all_conditions"],
)
def test_rule_fails_only_the_requests_it_matches(when, matching, other):
    adapter = simulator(
        {"when": when, "step": "apply_speed_profile", "error": "SPEED_PROFILE_FAILED"}
    )
    failed = run(adapter, TaskType.APPLY_SPEED_PROFILE, **matching)
    assert not failed.ok
    assert failed.error_code == ReasonCode.SPEED_PROFILE_FAILED
    assert failed.error_message == "Speed profile fibre-500 not applied."
    assert run(adapter, TaskType.APPLY_SPEED_PROFILE, **other).ok
    # Only the rule's task fails
    assert run(adapter, TaskType.RESERVE_PORT, **matching).ok


def test_rules_written_with_the_old_step_names_still_match_their_tasks():
    adapter = simulator({"when": {}, "step": "subscriber_profile", "error": "PROFILE_REJECTED"})
    assert run(adapter, TaskType.CREATE_SUBSCRIBER).error_code == ReasonCode.PROFILE_REJECTED
    assert run(adapter, TaskType.RESERVE_PORT).ok


def test_rule_without_a_step_fails_reserving_the_port_and_is_permanent_unless_said_otherwise():
    adapter = simulator({"when": {"exchange": "Westminster"}, "error": "PORT_UNAVAILABLE"})
    result = run(adapter, TaskType.RESERVE_PORT)
    assert (result.ok, result.error_code, result.transient) == (
        False,
        ReasonCode.PORT_UNAVAILABLE,
        False,
    )
    assert result.error_message == "No free access port at exchange Westminster."


def test_fail_attempts_fails_only_the_tasks_first_attempts():
    adapter = simulator(
        {
            "when": {},
            "step": "create_subscriber",
            "error": "NETWORK_TIMEOUT",
            "transient": True,
            "fail_attempts": 2,
        }
    )
    for attempt, ok in ((1, False), (2, False), (3, True), (4, True)):
        result = run(adapter, TaskType.CREATE_SUBSCRIBER, attempt=attempt)
        assert result.ok is ok, attempt
        if not ok:
            assert result.transient is True


def test_the_first_matching_rule_wins():
    adapter = simulator(
        {"when": {"exchange": "Westminster"}, "step": "activate_line", "error": "LINE_TEST_FAILED"},
        {"when": {}, "step": "activate_line", "error": "NETWORK_TIMEOUT"},
    )
    assert run(adapter, TaskType.ACTIVATE_LINE).error_code == "LINE_TEST_FAILED"
    assert run(adapter, TaskType.ACTIVATE_LINE, exchange="Leeds City").error_code == (
        "NETWORK_TIMEOUT"
    )


def test_default_rules_fail_faultybridge_always_flakeyford_once_and_poolham_static_ips():
    adapter = simulator(*DEFAULT_RULES)
    for attempt in (1, 2, 5):
        assert outcome(adapter, exchange="Faultybridge", attempt=attempt)[0] == (
            TaskType.RESERVE_PORT,
            ReasonCode.PORT_UNAVAILABLE,
        )
    assert run(adapter, TaskType.RESERVE_PORT, exchange="Faultybridge").transient is False
    flaky_first = run(adapter, TaskType.CREATE_SUBSCRIBER, exchange="Flakeyford")
    assert (flaky_first.error_code, flaky_first.transient) == (ReasonCode.NETWORK_TIMEOUT, True)
    assert run(adapter, TaskType.CREATE_SUBSCRIBER, exchange="Flakeyford", attempt=2).ok
    pool = run(adapter, TaskType.ALLOCATE_ADDRESS, exchange="Poolham", item_id="2")
    assert (pool.error_code, pool.transient) == (ReasonCode.ADDRESS_POOL_EXHAUSTED, False)
    assert all(code == "" for _, code in outcome(adapter, exchange="Poolham"))
    assert all(code == "" for _, code in outcome(adapter))


def test_references_are_the_same_for_the_same_order_item_and_task_whatever_the_attempt():
    adapter = simulator()
    first = run(adapter, TaskType.RESERVE_PORT)
    # Doing a task again (a retry, a redelivered message) returns the same answer
    again = run(adapter, TaskType.RESERVE_PORT, attempt=3)
    assert (again.network_reference, again.identifiers) == (
        first.network_reference,
        first.identifiers,
    )
    assert simulator().execute(REQUEST).network_reference == first.network_reference
    # ... and differs for another task, item or order
    assert run(adapter, TaskType.APPLY_SPEED_PROFILE).network_reference != first.network_reference
    assert run(adapter, TaskType.RESERVE_PORT, item_id="2").network_reference != (
        first.network_reference
    )
    assert run(adapter, TaskType.RESERVE_PORT, order_id="ABCDE12345").network_reference != (
        first.network_reference
    )


def test_configured_rules_come_from_settings_and_an_empty_list_means_no_failures(settings):
    settings.NETWORK_SIMULATOR_LATENCY_MS = 0
    faulty = request(exchange="Faultybridge")
    settings.NETWORK_SIMULATOR_RULES = None
    assert not get_adapter().execute(faulty).ok  # the defaults
    settings.NETWORK_SIMULATOR_RULES = []
    assert get_adapter().execute(faulty).ok
    settings.NETWORK_SIMULATOR_RULES = [{"when": {"plan_code": "fibre-500"}}]
    assert get_adapter().execute(REQUEST).error_code == "NETWORK_TIMEOUT"


def test_lookup_says_what_the_network_holds_for_the_orders_asked_and_nothing_undone():
    # given two tasks done for one order, one of them undone since, and one for another order
    adapter = simulator()
    port = run(adapter, TaskType.RESERVE_PORT)
    run(adapter, TaskType.CREATE_SUBSCRIBER)
    run(adapter, TaskType.CREATE_SUBSCRIBER, undo=True)
    run(adapter, TaskType.RESERVE_PORT, order_id="ABCDE12345")
    # when the network is asked what it holds for the first order
    (held,) = adapter.lookup([REQUEST.order_id])
    # then it is the port, with its reference and identifiers, by order, item and task
    assert held.key == (REQUEST.order_id, "1", TaskType.RESERVE_PORT)
    assert held.reference == port.network_reference
    assert held.identifiers == port.identifiers and held.since is not None
    assert adapter.lookup([]) == []


def test_holdings_list_the_whole_network_page_by_page_in_key_order():
    # given subscribers for three orders and a port
    adapter = simulator()
    for order in ("AAAA000001", "BBBB000002", "CCCC000003"):
        run(adapter, TaskType.CREATE_SUBSCRIBER, order_id=order)
    run(adapter, TaskType.RESERVE_PORT, order_id="AAAA000001")
    # when the subscribers are listed two at a time, each page after the last key
    first = adapter.holdings(task_type=TaskType.CREATE_SUBSCRIBER, limit=2)
    rest = adapter.holdings(task_type=TaskType.CREATE_SUBSCRIBER, after=first[-1].key, limit=2)
    # then every subscriber comes once, in order, and the port only in the unfiltered listing
    assert [h.order_id for h in first + rest] == ["AAAA000001", "BBBB000002", "CCCC000003"]
    assert len(adapter.holdings(limit=10)) == 4
