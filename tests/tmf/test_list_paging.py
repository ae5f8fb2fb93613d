"""TMF list paging at scale (tmf.common.list_response): a page by cursor or offset reads an
index range and the page's rows only, X-Total-Count is bounded, and a list costs the same
number of queries at 3 and at 30 orders."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order
from tests.factories import OrderFactory
from tests.tmf.conftest import TMF622

ORDERS = f"{TMF622}/productOrder"
UTC = datetime.UTC


def _orders(n: int, *, start: int = 0) -> list[Order]:
    base = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    return [OrderFactory(submitted_at=base + datetime.timedelta(hours=start + i)) for i in range(n)]


def _ids(response: Any) -> list[str]:
    return [item["id"] for item in response.json()]


def _next_link(response: Any) -> str:
    match = re.match(r'<http://testserver([^>]+)>; rel="next"', response.get("Link", ""))
    assert match, response.get("Link")
    return match.group(1)


def test_following_next_links_lists_every_order_once_newest_first(api_reader) -> None:
    # given seven orders, two of them submitted at the same instant
    orders = _orders(6)
    twin = OrderFactory(submitted_at=orders[2].submitted_at)
    expected = [
        o.pk for o in sorted([*orders, twin], key=lambda o: (o.submitted_at, o.pk), reverse=True)
    ]

    # when a client reads pages of three, following each page's Link rel="next"
    seen: list[str] = []
    response = api_reader.get(ORDERS, {"limit": 3})
    pages = 1
    while "Link" in response:
        seen += _ids(response)
        response = api_reader.get(_next_link(response))
        pages += 1
    seen += _ids(response)

    # then every order comes exactly once, in the list's order, and counts say so
    assert seen == expected
    assert pages == 3
    assert response["X-Total-Count"] == "7"
    assert response["X-Result-Count"] == "1"


def test_a_cursor_page_matches_the_offset_page_it_replaces(api_reader) -> None:
    # given ten orders
    _orders(10)

    # when the second page is read by offset and by the first page's cursor
    first = api_reader.get(ORDERS, {"limit": 4})
    by_offset = api_reader.get(ORDERS, {"limit": 4, "offset": 4})
    by_cursor = api_reader.get(_next_link(first))

    # then both give the same orders
    assert _ids(by_cursor) == _ids(by_offset)
    assert len(_ids(by_cursor)) == 4


def test_a_cursor_keeps_the_filters_and_fields_of_the_request(api_reader) -> None:
    # given orders in two states
    _orders(5)
    held = [OrderFactory(status="exception") for _ in range(3)]

    # when the held orders are paged two at a time with fields=state
    first = api_reader.get(ORDERS, {"state": "held", "limit": 2, "fields": "state"})
    second = api_reader.get(_next_link(first))

    # then the next page holds the remaining held order, with the same fields
    assert sorted(_ids(first) + _ids(second)) == sorted(o.pk for o in held)
    assert {item["state"] for item in second.json()} == {"held"}
    assert "Link" not in second


def test_an_unknown_cursor_is_a_400_naming_it(api_reader) -> None:
    # given orders
    _orders(2)

    # when a client sends a cursor it was not given
    response = api_reader.get(ORDERS, {"cursor": "not-a-cursor"})

    # then it is told which parameter is wrong
    assert response.status_code == 400
    assert "cursor" in response.json()["fieldErrors"]


def _page_queries(api_reader, params: dict[str, Any]) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = api_reader.get(ORDERS, params)
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_a_deep_offset_computes_the_annotations_of_the_page_only(api_reader) -> None:
    # given orders
    _orders(8)

    # when a page deep in the list is asked by offset
    queries = _page_queries(api_reader, {"offset": 6, "limit": 2})

    # then the query that reads the orders skips rows as keys only: the offset sits in a
    # subquery of order IDs, and the cancellation-reason subquery runs outside it
    page_sql = next(q for q in queries if "tmf_cancellation_reason" in q)
    assert re.search(r"IN \(SELECT .*OFFSET 6", page_sql)
    inner = page_sql[page_sql.index("IN (SELECT") :]
    assert "tmf_cancellation_reason" not in inner


def test_a_cursor_page_seeks_by_key_without_offset(api_reader) -> None:
    # given orders
    _orders(8)
    first = api_reader.get(ORDERS, {"limit": 3})

    # when the next page is read by its cursor
    with CaptureQueriesContext(connection) as captured:
        api_reader.get(_next_link(first))

    # then the orders are read from the key on, with no OFFSET
    page_sql = next(
        q["sql"] for q in captured.captured_queries if "tmf_cancellation_reason" in q["sql"]
    )
    assert "OFFSET" not in page_sql
    assert re.search(r'"submitted_at" <= ', page_sql)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 10},
        {"limit": 10, "offset": 2},  # a page with rows at 3 (its items are read with it)
        {"limit": 10, "state": "acknowledged"},
        {"limit": 10, "orderDate.gte": "2026-01-01"},
    ],
)
def test_a_list_costs_the_same_queries_at_3_and_at_30_orders(
    api_reader, django_assert_num_queries, params: dict[str, Any]
) -> None:
    # given three orders, and the number of queries a page costs then
    _orders(3)
    api_reader.get(ORDERS, params)  # warm the client's token cache
    with CaptureQueriesContext(connection) as few:
        api_reader.get(ORDERS, params)

    # when there are thirty
    _orders(27, start=3)

    # then a page costs exactly as many queries
    with django_assert_num_queries(len(few)):
        response = api_reader.get(ORDERS, params)
    assert response.status_code == 200
