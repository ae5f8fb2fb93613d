"""The network simulator (provisioning/adapters/simulator.py): rules decide which step fails,
how, and for how many attempts; the same request always gives the same answer."""

from __future__ import annotations

import dataclasses

import pytest

from provisioning.adapters import ActivationRequest, get_adapter
from provisioning.adapters.simulator import DEFAULT_RULES, SimulatedNetworkAdapter
from provisioning.models import ACTIVATION_PLAN, ReasonCode, StepName

REQUEST = ActivationRequest(
    order_id="K7QM3XPA9Z",
    attempt=1,
    postcode="SW1A1AA",
    address="1 High Street, London SW1A 1AA",
    exchange="Westminster",
    technology="fttp",
    plan_code="fibre-500",
    download_mbps=500,
    upload_mbps=100,
)


def request(**changes) -> ActivationRequest:
    return dataclasses.replace(REQUEST, **changes)


def outcome(adapter: SimulatedNetworkAdapter, req: ActivationRequest) -> list[tuple[str, str]]:
    """(step, error code or '') for each step of the plan, as the simulator answers it."""
    return [(step, adapter.execute(step, req).error_code) for step in ACTIVATION_PLAN]


def simulator(*rules) -> SimulatedNetworkAdapter:
    return SimulatedNetworkAdapter(rules=list(rules), latency_ms=0)


def test_with_no_rules_every_step_succeeds_with_a_reference():
    adapter = simulator()
    for step in ACTIVATION_PLAN:
        result = adapter.execute(step, REQUEST)
        assert result.ok
        assert result.network_reference.startswith(step.upper() + "-")


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
    adapter = simulator({"when": when, "step": "speed_profile", "error": "SPEED_PROFILE_FAILED"})
    failed = adapter.execute(StepName.SPEED_PROFILE, request(**matching))
    assert not failed.ok
    assert failed.error_code == ReasonCode.SPEED_PROFILE_FAILED
    assert failed.error_message == "Speed profile fibre-500 not applied."
    assert adapter.execute(StepName.SPEED_PROFILE, request(**other)).ok
    # Only the rule's step fails
    assert adapter.execute(StepName.RESERVE_PORT, request(**matching)).ok


def test_rule_without_a_step_fails_the_first_step_and_is_permanent_unless_said_otherwise():
    adapter = simulator({"when": {"exchange": "Westminster"}, "error": "PORT_UNAVAILABLE"})
    result = adapter.execute(StepName.RESERVE_PORT, REQUEST)
    assert (result.ok, result.error_code, result.transient) == (
        False,
        ReasonCode.PORT_UNAVAILABLE,
        False,
    )
    assert result.error_message == "No free access port at exchange Westminster."


def test_fail_attempts_fails_only_the_first_attempts():
    adapter = simulator(
        {
            "when": {},
            "step": "subscriber_profile",
            "error": "NETWORK_TIMEOUT",
            "transient": True,
            "fail_attempts": 2,
        }
    )
    for attempt, ok in ((1, False), (2, False), (3, True), (4, True)):
        result = adapter.execute(StepName.SUBSCRIBER_PROFILE, request(attempt=attempt))
        assert result.ok is ok, attempt
        if not ok:
            assert result.transient is True


def test_the_first_matching_rule_wins():
    adapter = simulator(
        {"when": {"exchange": "Westminster"}, "step": "activate_line", "error": "LINE_TEST_FAILED"},
        {"when": {}, "step": "activate_line", "error": "NETWORK_TIMEOUT"},
    )
    assert adapter.execute(StepName.ACTIVATE_LINE, REQUEST).error_code == "LINE_TEST_FAILED"
    other = request(exchange="Leeds City")
    assert adapter.execute(StepName.ACTIVATE_LINE, other).error_code == "NETWORK_TIMEOUT"


def test_default_rules_fail_faultybridge_always_and_flakeyford_once():
    adapter = simulator(*DEFAULT_RULES)
    faulty = request(exchange="Faultybridge")
    for attempt in (1, 2, 5):
        assert outcome(adapter, request(exchange="Faultybridge", attempt=attempt))[0] == (
            StepName.RESERVE_PORT,
            ReasonCode.PORT_UNAVAILABLE,
        )
    assert adapter.execute(StepName.RESERVE_PORT, faulty).transient is False
    flaky_first = adapter.execute(StepName.SUBSCRIBER_PROFILE, request(exchange="Flakeyford"))
    assert (flaky_first.error_code, flaky_first.transient) == (ReasonCode.NETWORK_TIMEOUT, True)
    assert adapter.execute(
        StepName.SUBSCRIBER_PROFILE, request(exchange="Flakeyford", attempt=2)
    ).ok
    assert all(code == "" for _, code in outcome(adapter, REQUEST))


def test_references_are_the_same_for_the_same_order_and_step_whatever_the_attempt():
    adapter = simulator()
    first = adapter.execute(StepName.RESERVE_PORT, REQUEST).network_reference
    # Doing a step again (a retry, a redelivered task) returns the same reference
    assert adapter.execute(StepName.RESERVE_PORT, request(attempt=3)).network_reference == first
    assert simulator().execute(StepName.RESERVE_PORT, REQUEST).network_reference == first
    # ... and differs for another step or another order
    assert adapter.execute(StepName.SPEED_PROFILE, REQUEST).network_reference != first
    other = request(order_id="ABCDE12345")
    assert adapter.execute(StepName.RESERVE_PORT, other).network_reference != first


def test_configured_rules_come_from_settings_and_an_empty_list_means_no_failures(settings):
    settings.NETWORK_SIMULATOR_LATENCY_MS = 0
    faulty = request(exchange="Faultybridge")
    settings.NETWORK_SIMULATOR_RULES = None
    assert not get_adapter().execute(StepName.RESERVE_PORT, faulty).ok  # the defaults
    settings.NETWORK_SIMULATOR_RULES = []
    assert get_adapter().execute(StepName.RESERVE_PORT, faulty).ok
    settings.NETWORK_SIMULATOR_RULES = [{"when": {"plan_code": "fibre-500"}}]
    assert get_adapter().execute(StepName.RESERVE_PORT, REQUEST).error_code == "NETWORK_TIMEOUT"
