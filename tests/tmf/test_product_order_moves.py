"""TMF622: the two orders of a move home name each other in ``orderRelationship`` (TMF622 v5's
OrderRelationship, an extension on v4): the cease of the old line ``movesTo`` the new line's
order it waits for, the new line's order ``movesFrom`` the cease. Retrieve and list alike, valid
against the official swagger (v4 for the order, v5 for the relationship), and a list page reads
the partners in its own query (no query per order)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import Product
from orders.moves import MoveSubmission, NewAddress, order_submit_move
from orders.states import EventSource
from tests.factories import ServiceAreaFactory
from tests.tmf.conftest import TMF622
from tests.tmf.schema import assert_each_valid, assert_valid, assert_valid_v5

pytestmark = pytest.mark.django_db

ORDERS = f"{TMF622}/productOrder"


@pytest.fixture
def new_area(db: None) -> None:
    ServiceAreaFactory(postcode="NW1 4AA", exchange="Newtown")


def move(line: Product, street: str = "4 New Road") -> MoveSubmission:
    return order_submit_move(
        line.pk,
        NewAddress(address_line1=street, city="Newtown", postcode="NW1 4AA"),
        channel=EventSource.SUPPORT_PORTAL,
        submitted_by=None,
    )


def relationship(order_pk: str, kind: str) -> list[dict[str, Any]]:
    return [
        {
            "id": order_pk,
            "href": f"http://testserver{ORDERS}/{order_pk}",
            "relationshipType": kind,
            "@referredType": "ProductOrder",
            "@type": "OrderRelationship",
        }
    ]


def assert_conforms(representation: dict[str, Any]) -> None:
    assert_valid("TMF622", "ProductOrder", representation)
    for entry in representation["orderRelationship"]:
        assert_valid_v5("TMF622", "OrderRelationship", entry)


def test_each_order_of_a_move_names_the_other_when_retrieved(api_reader, live_line, new_area):
    # Given Jane's move: a new line at her new home, and the cease of her old line waiting for it
    submission = move(live_line)
    provide, cease = submission.provide, submission.cease

    # When a CRM retrieves each order
    new_line = api_reader.get(f"{ORDERS}/{provide.pk}").json()
    old_line = api_reader.get(f"{ORDERS}/{cease.pk}").json()

    # Then the cease moves to the new line's order, the new line's order moves from the cease
    assert old_line["orderRelationship"] == relationship(provide.pk, "movesTo")
    assert new_line["orderRelationship"] == relationship(cease.pk, "movesFrom")
    # ... each one the official shapes: a v4 ProductOrder carrying v5's OrderRelationship
    assert_conforms(new_line)
    assert_conforms(old_line)
    # ... and each href leads to the order it names
    followed = api_reader.get(old_line["orderRelationship"][0]["href"]).json()
    assert followed["id"] == provide.pk


def test_an_order_of_its_own_has_no_order_relationship(api_reader, live_line):
    # Jane's line was ordered on its own: nothing links it to another order
    body = api_reader.get(f"{ORDERS}/{live_line.order_id}").json()
    assert "orderRelationship" not in body


def test_the_list_gives_each_order_its_relationship(api_reader, live_line, new_area):
    # Given a move, beside the order of Jane's line that is not part of one
    submission = move(live_line)

    # When the CRM lists orders
    response = api_reader.get(ORDERS)

    # Then each order of the move names the other, and the order of its own names none
    assert response.status_code == 200
    by_id = {order["id"]: order for order in response.json()}
    assert by_id[submission.cease.pk]["orderRelationship"] == relationship(
        submission.provide.pk, "movesTo"
    )
    assert by_id[submission.provide.pk]["orderRelationship"] == relationship(
        submission.cease.pk, "movesFrom"
    )
    assert "orderRelationship" not in by_id[live_line.order_id]
    assert_each_valid("TMF622", "ProductOrder", response.json())
    for order in response.json():
        for entry in order.get("orderRelationship", []):
            assert_valid_v5("TMF622", "OrderRelationship", entry)
    # ... and fields= may ask for it like any first-level attribute
    selected = api_reader.get(ORDERS, {"fields": "orderRelationship", "id": submission.cease.pk})
    assert selected.json()[0]["orderRelationship"] == relationship(submission.provide.pk, "movesTo")


def test_a_list_of_moves_costs_the_same_queries_at_one_move_and_at_four(
    api_reader, make_live_line, plan, serviceable_area, new_area, django_assert_num_queries
):
    # Given one move, and what a page of orders costs then
    move(make_live_line(plan=plan, area=serviceable_area, email="one@example.com"))
    api_reader.get(ORDERS)  # warm the client's token cache
    with CaptureQueriesContext(connection) as few:
        api_reader.get(ORDERS)

    # When three more customers move (eight orders of moves, each naming its partner)
    for n in range(3):
        line = make_live_line(plan=plan, area=serviceable_area, email=f"mover{n}@example.com")
        move(line, street=f"{n + 10} New Road")

    # Then the page costs exactly as many queries: the partners come with the page's rows
    with django_assert_num_queries(len(few)):
        response = api_reader.get(ORDERS)
    assert sum("orderRelationship" in order for order in response.json()) == 8
