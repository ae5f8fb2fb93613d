"""Fulfilment plans as data (orders/fulfilment.py): what a plan may say, and how an order's
items decompose into one task graph."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.exceptions import ValidationError

from orders.catalogue import INTERNET_ACCESS, MANAGED_ROUTER, STANDARD_SPECIFICATIONS, STATIC_IP
from orders.fulfilment import decompose, plan_validate, ready_keys

ACCESS = STANDARD_SPECIFICATIONS[INTERNET_ACCESS]["fulfilment_plan"]
IP = STANDARD_SPECIFICATIONS[STATIC_IP]["fulfilment_plan"]
ROUTER = STANDARD_SPECIFICATIONS[MANAGED_ROUTER]["fulfilment_plan"]


@dataclass(frozen=True)
class Item:
    item_id: str
    parent_item_id: str | None
    plan: list
    parent_in_service: bool = False


def test_an_add_on_on_a_line_in_service_waits_for_nothing_of_the_line():
    # Given a static IP and a router for a line that is live already (not on this order)
    drafts = decompose([Item("2", None, IP, parent_in_service=True), Item("3", None, ROUTER, True)])

    # Then only their own steps are planned, in their own order, with nothing of the line
    by_key = {draft.key: draft for draft in drafts}
    assert sorted(by_key) == ["2.allocate_address", "2.bind_address", "3.register_cpe"]
    assert by_key["2.allocate_address"].depends_on == []
    assert by_key["2.bind_address"].depends_on == ["2.allocate_address"]
    assert by_key["3.register_cpe"].depends_on == []


def test_the_standard_plans_are_valid():
    plan_validate(ACCESS)
    plan_validate(IP, parent_plan=ACCESS)
    plan_validate(ROUTER, parent_plan=ACCESS)


@pytest.mark.parametrize(
    ("plan", "parent", "problem"),
    [
        ([], None, "non-empty list"),
        ([{"task": "dig_trench"}], None, "not a known task type"),
        ([{"task": "reserve_port", "mode": "sometimes"}], None, "automatic or manual"),
        ([{"task": "reserve_port", "after": []}], None, "unknown keys: after"),
        ([{"task": "reserve_port"}, {"task": "reserve_port"}], None, "appears twice"),
        ([{"task": "activate_line", "depends_on": ["reserve_port"]}], None, "no such step"),
        ([{"task": "bind_address", "depends_on": ["parent.create_subscriber"]}], None, "no parent"),
        (
            [{"task": "bind_address", "depends_on": ["parent.register_cpe"]}],
            ACCESS,
            "no such parent step",
        ),
        (
            [{"task": "reserve_port", "ponr": True}, {"task": "activate_line", "ponr": True}],
            None,
            "at most one point of no return",
        ),
        (
            [
                {"task": "reserve_port", "depends_on": ["activate_line"]},
                {"task": "activate_line", "depends_on": ["reserve_port"]},
            ],
            None,
            "cycle",
        ),
        (
            [
                {"task": "reserve_port", "before": ["activate_line"]},
                {"task": "activate_line", "before": ["reserve_port"]},
            ],
            None,
            "cycle",
        ),
    ],
)
def test_a_bad_plan_is_refused_saying_what_is_wrong(plan, parent, problem):
    with pytest.raises(ValidationError) as refused:
        plan_validate(plan, parent_plan=parent)
    assert problem in " ".join(refused.value.messages)


def test_items_decompose_into_one_graph_linked_across_items():
    drafts = decompose([Item("1", None, ACCESS), Item("2", "1", IP), Item("3", "1", ROUTER)])
    graph = {d.key: sorted(d.depends_on) for d in drafts}
    assert graph == {
        "1.reserve_port": [],
        "1.create_subscriber": ["1.reserve_port"],
        "1.apply_speed_profile": ["1.create_subscriber"],
        "1.activate_line": ["1.apply_speed_profile", "2.bind_address", "3.register_cpe"],
        "2.allocate_address": ["1.create_subscriber"],
        "2.bind_address": ["2.allocate_address"],
        "3.register_cpe": [],
    }
    assert [d.key for d in drafts if d.is_ponr] == ["1.activate_line"]
    # What can start at once: the port and the router, in parallel
    states = {key: "waiting" for key in graph}
    assert sorted(ready_keys(states, graph)) == ["1.reserve_port", "3.register_cpe"]


def test_a_cancelled_dependency_releases_what_waited_for_it_and_a_failed_one_does_not():
    graph = {"a": [], "b": [], "c": ["a", "b"]}
    assert ready_keys({"a": "done", "b": "failed", "c": "waiting"}, graph) == []
    assert ready_keys({"a": "done", "b": "cancelled", "c": "waiting"}, graph) == ["c"]


def test_where_the_network_is_not_automated_every_task_is_manual():
    drafts = decompose([Item("1", None, ACCESS)], manual=True)
    assert {d.mode for d in drafts} == {"manual"}


def test_an_add_on_relying_on_no_item_cannot_be_decomposed():
    with pytest.raises(ValueError, match="relies on no item"):
        decompose([Item("1", None, ACCESS), Item("2", None, IP)])
