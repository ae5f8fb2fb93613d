"""Keyset paging and bounded counts (orders/paging.py)."""

from __future__ import annotations

import datetime

import pytest

from orders.models import Order
from orders.paging import BadCursor, after_key, bounded_count, keyset_page, list_count
from tests.factories import OrderFactory

UTC = datetime.UTC


def _orders_at(hours: list[int]) -> list[Order]:
    base = datetime.datetime(2026, 3, 1, tzinfo=UTC)
    return [OrderFactory(submitted_at=base + datetime.timedelta(hours=h)) for h in hours]


@pytest.mark.django_db
@pytest.mark.parametrize("ordering", [("submitted_at", "pk"), ("-submitted_at", "-pk")])
def test_pages_by_key_give_the_same_rows_as_the_plain_list(ordering: tuple[str, str]) -> None:
    # given orders with ties on the sort key
    _orders_at([1, 2, 2, 2, 3, 4, 4])
    queryset = Order.objects.order_by(*ordering)
    expected = list(queryset.values_list("pk", flat=True))

    # when the list is read three at a time, each page after the previous one's cursor
    seen: list[str] = []
    cursor = None
    while True:
        page = keyset_page(queryset, limit=3, after=cursor)
        seen += [o.pk for o in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    # then every row comes once, in the list's order
    assert seen == expected


@pytest.mark.django_db
def test_a_keyset_page_is_a_range_condition_not_an_offset() -> None:
    # given a list and the cursor of its first page
    _orders_at([1, 2, 3])
    queryset = Order.objects.order_by("submitted_at", "pk")
    cursor = keyset_page(queryset, limit=1).next_cursor
    assert cursor is not None

    # when the next page's query is built
    sql = str(after_key(queryset, cursor)[:1].query)

    # then it starts from the key (an index range), with no OFFSET
    assert '"submitted_at" >=' in sql
    assert "OFFSET" not in sql


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", ["", "!!", "W10", "WyJub3QgYSBkYXRlIiwgIngiXQ"])
def test_a_cursor_this_list_did_not_hand_out_is_refused(cursor: str) -> None:
    # given a list
    queryset = Order.objects.order_by("submitted_at", "pk")

    # when a made-up cursor is used, then it is refused
    with pytest.raises(BadCursor):
        after_key(queryset, cursor)


@pytest.mark.django_db
def test_a_bounded_count_is_exact_up_to_the_cap_and_says_when_it_stopped() -> None:
    # given five orders
    _orders_at([1, 2, 3, 4, 5])

    # when they are counted up to 5, then up to 3
    # then the first count is exact, the second stops at 4 and says it is not
    assert bounded_count(Order.objects.all(), cap=5) == (5, True)
    assert bounded_count(Order.objects.all(), cap=3) == (4, False)


@pytest.mark.django_db
def test_a_list_that_can_match_nothing_counts_zero() -> None:
    # given orders, and a filter with nothing to match (an empty list of ids)
    _orders_at([1, 2])

    # when the list is counted as a list header would count it
    # then it is an exact zero, not an error
    assert list_count(Order.objects.filter(pk__in=[])) == (0, True)
