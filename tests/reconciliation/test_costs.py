"""What reconciliation costs (DESIGN invariant 10): the checks make the same queries at 2 lines
and at 5 (a chunk is read in a fixed number of queries, however many rows it holds), each of
them served by an index on PostgreSQL; the page costs the same at 3 and at 30 mismatches."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from reconciliation.models import Mismatch, MismatchKind
from tests.reconciliation.conftest import found_by_all

pytestmark = pytest.mark.django_db

BIG_TABLES = (
    r"(orders_order|orders_orderitem|billing_billingaccount|billing_billingcharge"
    r"|billing_billingwaiver|inventory_product|provisioning_fulfilmenttask"
    r"|provisioning_simulatednetworkrecord|reconciliation_mismatch)"
)


def _check_queries() -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        found_by_all()
    return [q["sql"] for q in captured.captured_queries]


def test_the_checks_cost_the_same_queries_at_2_and_at_5_lines(live_line, change_line):
    # given two lines, one with add-ons, one ceased
    live_line(add_ons=True, email="a@example.com")
    change_line(live_line(email="b@example.com"), "delete")
    few = len(_check_queries())
    # when three more lines are live, then every check still reads them in as many queries
    for n in range(3):
        live_line(add_ons=True, email=f"more{n}@example.com")
    assert len(_check_queries()) == few


@pytest.mark.postgresql  # EXPLAIN is PostgreSQL's; CI's second pass runs it there
def test_every_query_of_the_checks_reads_an_index(live_line, change_line):
    # given lines of every sort the checks read
    live_line(add_ons=True, email="a@example.com")
    change_line(live_line(email="b@example.com"), "delete")
    queries = [sql for sql in _check_queries() if sql.lstrip().upper().startswith("SELECT")]
    assert queries
    slow = []
    for sql in queries:
        with connection.cursor() as cursor:
            # With sequential scans priced out, a plan still holding one means no index can
            # serve the query's filter.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        if re.search(rf"Seq Scan on {BIG_TABLES}\b", plan):
            slow.append(f"{sql}\n{plan}")
    # then none scans a whole table
    assert not slow, "\n\n".join(slow)


def _page_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/work/reconciliation/")
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_page_costs_the_same_queries_at_3_and_at_30_mismatches(billing_user):
    client = Client()
    client.force_login(billing_user)

    def seed(n: int, start: int) -> None:
        for i in range(start, start + n):
            Mismatch.objects.create(
                kind=MismatchKind.PRODUCT_LIVE_WITHOUT_CHARGE, subject=f"p-{i}", detail="x"
            )

    seed(3, 0)
    few = _page_queries(client)
    seed(27, 3)
    assert _page_queries(client) == few
