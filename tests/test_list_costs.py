"""What every list costs (DESIGN invariant 10), across the apps: the same number of queries at
3 and at 30 orders, and SQL of the shapes the indexes serve (no UPPER() on e-mail, no OR across
the orders-customers join, no guardian IN lists for a customer, keyset WHERE instead of OFFSET,
no date_hierarchy). The EXPLAIN tests at the end need PostgreSQL's planner: they run when the
suite runs on PostgreSQL, as CI's second pass does (.ci/run)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import MISMATCH, BillingAccount
from billing.selectors import billing_mismatches
from inventory.models import Product
from orders.access import orders_visible_to, own_orders
from orders.models import Customer, Order, OrderEvent
from orders.roles import Role
from orders.selectors import customers_matching
from orders.states import EventSource, OrderStatus
from provisioning import selectors as provisioning_selectors
from provisioning.models import ExceptionCase, FulfilmentTask, TaskAttempt
from tests.factories import (
    BillingAccountFactory,
    CustomerFactory,
    ExceptionCaseFactory,
    FulfilmentTaskFactory,
    OrderFactory,
    ProductFactory,
    UserFactory,
)


def _queries(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return [q["sql"] for q in captured.captured_queries]


def _pool(n: int) -> None:
    for _ in range(n):
        order = OrderFactory(status=OrderStatus.AWAITING_MANUAL)
        FulfilmentTaskFactory(order=order)  # its first task, ready for a person
        OrderEvent.objects.create(
            order=order,
            kind=OrderEvent.Kind.STATUS_CHANGED,
            from_status=OrderStatus.SUBMITTED,
            to_status=OrderStatus.AWAITING_MANUAL,
            source=EventSource.PROVISIONING,
            reason="Not automated.",
            reason_code="MANUAL_AREA",
        )


def _cases(n: int) -> None:
    for _ in range(n):
        ExceptionCaseFactory()


def _billing(n: int) -> None:
    for _ in range(n):
        account = BillingAccountFactory(
            order=OrderFactory(status=OrderStatus.COMPLETED, activated_at=timezone.now())
        )
        BillingAccount.objects.filter(pk=account.pk).update(monthly_price=Decimal("1.00"))
        OrderFactory(status=OrderStatus.ACTIVATED, activated_at=timezone.now())


def _installed_base(n: int) -> None:
    """Completed orders of one customer, each with its product: the order view lists the
    customer's products (the newest CUSTOMER_PRODUCTS_LIMIT)."""
    customer = Customer.objects.filter(products__isnull=False).first() or CustomerFactory()
    for _ in range(n):
        order = OrderFactory(
            customer=customer, status=OrderStatus.COMPLETED, activated_at=timezone.now()
        )
        ProductFactory(order_item=order.items.get())


def _named(n: int) -> None:
    for _ in range(n):
        OrderFactory(customer=CustomerFactory(name="Ada Lovelace"))


def _plain(n: int) -> None:
    for _ in range(n):
        OrderFactory()


PAGES: list[tuple[str, Role | None, str, Callable[[int], None]]] = [
    ("provisioning worklist", Role.PROVISIONING, "/work/provisioning/", _pool),
    ("provisioning worklist, page 2", Role.PROVISIONING, "/work/provisioning/?pool_after=", _pool),
    ("manual tasks, page 2", Role.PROVISIONING, "/work/provisioning/?task_after=", _pool),
    ("support order view", Role.SUPPORT, "/support/orders/{order}/", _installed_base),
    ("lead worklist", Role.PROVISIONING_LEAD, "/work/lead/", _cases),
    ("billing worklist", Role.BILLING, "/work/billing/", _billing),
    ("support search by name", Role.SUPPORT, "/support/?q=Ada+Lovelace", _named),
    ("support search by e-mail", Role.SUPPORT, "/support/?q=NOBODY@EXAMPLE.COM", _named),
    ("support search by phone", Role.SUPPORT, "/support/?q=07700+900+123", _named),
    ("admin orders", None, "/admin/orders/order/", _plain),
    ("admin orders, search", None, "/admin/orders/order/?q=Ada+Lovelace", _named),
    ("admin customers", None, "/admin/orders/customer/", _plain),
    ("admin cases", None, "/admin/provisioning/exceptioncase/", _cases),
    ("admin billing accounts", None, "/admin/billing/billingaccount/", _billing),
]


def _pages_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("manual_pool_orders", "manual_pool_tasks"):
        selector = getattr(provisioning_selectors, name)
        monkeypatch.setattr(
            provisioning_selectors,
            name,
            lambda user, selector=selector, **kwargs: selector(user, **{**kwargs, "limit": 2}),
        )


def _user(role: Role | None) -> User:
    if role is None:
        return UserFactory(is_staff=True, is_superuser=True)
    return UserFactory(role=role)


def _url(client: Client, url: str) -> str:
    """A page-2 URL gets the cursor its first page links to; ``{order}`` is the first order
    of the installed-base customer."""
    if "{order}" in url:
        first = Order.objects.filter(products__isnull=False).order_by("pk").first()
        assert first is not None
        return url.format(order=first.pk)
    if not url.endswith("_after="):
        return url
    base = url.split("?")[0]
    first = client.get(base)
    param = url.rsplit("?", 1)[1]
    link = re.search(rf'<a rel="next" href="\?([^"]*{param}[^"]*)"', first.content.decode())
    assert link, "the first page links to the next"
    return f"{base}?{link.group(1).replace('&amp;', '&')}"


@pytest.mark.parametrize(("name", "role", "url", "make"), PAGES, ids=[p[0] for p in PAGES])
def test_a_page_costs_the_same_queries_at_3_and_at_30_orders(
    db: None,
    client: Client,
    name: str,
    role: Role | None,
    url: str,
    make: Callable[[int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given three rows of the page's kind (pages of two in the manual pool, so that it has a
    # second page), and the queries the page costs then
    _pages_of_two(monkeypatch)
    client.force_login(_user(role))
    make(3)
    target = _url(client, url)
    _queries(client, target)  # warm the session and content-type caches
    few = _queries(client, target)

    # when there are thirty
    make(27)

    # then the page costs exactly as many queries
    many = _queries(client, _url(client, url))
    assert len(many) == len(few), "\n".join(many)


def test_support_search_by_email_uses_lower_email_and_no_or_across_the_join(
    client: Client, support_user: User
) -> None:
    # given a customer with an order
    customer = CustomerFactory(email="Ada.Lovelace@Example.com")
    order = OrderFactory(customer=customer)
    client.force_login(support_user)

    # when support searches by the e-mail typed in another case
    queries = _queries(client, "/support/?q=ADA.LOVELACE@example.COM")

    # then the order is found, through LOWER(email) (the unique index's expression) in a
    # subquery of customers: never UPPER(email), never an OR spanning orders and customers
    search = next(q for q in queries if 'FROM "orders_order"' in q and "LIMIT 25" in q)
    assert re.search(r'LOWER\((U\d+|"orders_customer")\."email"\) = ', search)
    assert not re.search(r'UPPER\([^)]*"email"', search)
    where = search.split(" WHERE ", 1)[1]
    assert re.search(r'"orders_order"\."customer_id" IN \(SELECT', where)
    assert order.display_id in client.get("/support/?q=ADA.LOVELACE@example.COM").content.decode()


def test_a_customer_list_joins_on_their_own_customer_not_guardian_id_lists(
    client: Client, customer_user: User, customer_account: Customer
) -> None:
    # given the customer's two orders among others
    mine = {OrderFactory(customer=customer_account).pk for _ in range(2)}
    OrderFactory()
    client.force_login(customer_user)

    # when they open their orders
    queries = _queries(client, "/my/orders/")

    # then the list is restricted by the Customer.user link, without guardian's tables
    listing = next(q for q in queries if 'FROM "orders_order"' in q)
    assert "guardian_" not in listing
    assert '"orders_customer"."user_id" =' in listing
    assert set(own_orders(customer_user).values_list("pk", flat=True)) == mine
    assert set(orders_visible_to(customer_user).values_list("pk", flat=True)) == mine


def test_the_manual_pool_sorts_on_a_stored_column_and_pages_by_key(
    client: Client, provisioning_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given five orders in the pool, entered one hour apart, shown two to a page
    _pages_of_two(monkeypatch)
    _pool(5)
    start = timezone.now() - datetime.timedelta(hours=10)
    orders = list(Order.objects.filter(status=OrderStatus.AWAITING_MANUAL))
    for i, order in enumerate(orders):
        Order.objects.filter(pk=order.pk).update(
            status_changed_at=start + datetime.timedelta(hours=i)
        )
    client.force_login(provisioning_user)

    # when provisioning reads the pool two at a time, following "Next page"
    seen: list[str] = []
    url = "/work/provisioning/"
    sqls: list[str] = []
    while True:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        sqls += [q["sql"] for q in captured.captured_queries]
        seen += [o.pk for o in response.context["manual_pool"].items]
        # the manual pool's own "Next page" (the task pool above it pages on its own key)
        pool_html = response.content.decode().split('data-testid="manual-pool"')[1]
        link = re.search(r'<a rel="next" href="(\?[^"]+)"', pool_html)
        if not link:
            break
        url = "/work/provisioning/" + link.group(1).replace("&amp;", "&")

    # then every order comes once, longest waiting first, read by key (no OFFSET), sorted on
    # the stored column (no subquery in ORDER BY)
    assert seen == [o.pk for o in orders]
    # (the page's "in jeopardy first" panel reads jeopardies of such orders: not the pool)
    pool_sql = [
        q
        for q in sqls
        if "awaiting_manual" in q and "ORDER BY" in q and '"orders_jeopardy"' not in q
    ]
    assert pool_sql
    assert all("OFFSET" not in q for q in pool_sql)
    assert all(
        q.rsplit("ORDER BY", 1)[1].strip().startswith('"orders_order"."status_changed_at" ASC')
        for q in pool_sql
    )
    assert response.context["manual_pool"].total == 5


def test_billing_mismatches_compare_within_the_account_row(billing_user: User) -> None:
    # given an account corrupted behind the services' back, and one that matches
    right = BillingAccountFactory(
        order=OrderFactory(status=OrderStatus.COMPLETED, activated_at=timezone.now())
    )
    wrong = BillingAccountFactory(
        order=OrderFactory(status=OrderStatus.COMPLETED, activated_at=timezone.now())
    )
    BillingAccount.objects.filter(pk=wrong.pk).update(currency="EUR")

    # when billing's worklist reads the mismatches
    with CaptureQueriesContext(connection) as captured:
        found = billing_mismatches(billing_user)

    # then only the wrong one is listed, found without comparing against the orders table
    assert [m.account.pk for m in found.items] == [wrong.pk]
    assert right.pk not in [m.account.pk for m in found.items]
    listing = next(q["sql"] for q in captured.captured_queries if "ORDER BY" in q["sql"])
    where = listing.split(" WHERE ", 1)[1].split(" ORDER BY ")[0]
    assert '"orders_order"' not in where
    assert '"billing_billingaccount"."ordered_currency"' in where


def test_the_admin_orders_changelist_counts_once_and_has_no_date_hierarchy(
    admin_client: Client,
) -> None:
    # given orders over several months
    for month in (1, 4, 9):
        OrderFactory(submitted_at=datetime.datetime(2026, month, 1, tzinfo=datetime.UTC))

    # when an admin opens the orders changelist
    queries = _queries(admin_client, "/admin/orders/order/")

    # then the list is counted once (no second "N total" count) and no query reads every
    # order's date for year/month links
    counts = [q for q in queries if "COUNT(" in q and 'FROM "orders_order"' in q]
    assert len(counts) == 1
    assert not any(
        "django_datetime_trunc" in q or "DATE_TRUNC" in q or "django_date_trunc" in q
        for q in queries
    )


def test_the_admin_order_search_reads_indexes_not_every_order_and_customer(
    admin_client: Client,
) -> None:
    # given orders of two customers
    ada = OrderFactory(customer=CustomerFactory(name="Ada Lovelace", email="ada@example.com"))
    OrderFactory(customer=CustomerFactory(name="Charles Babbage"))

    # when the back office searches by part of the name, by e-mail and by the order's ID
    found = {
        term: [
            o.pk
            for o in admin_client.get("/admin/orders/order/", {"q": term}).context["cl"].result_list
        ]
        for term in ("lovelace", "ADA@example.com", ada.display_id.lower())
    }
    queries = _queries(admin_client, "/admin/orders/order/?q=ADA@example.com")

    # then each finds Ada's order, through a union of index reads: no OR of UPPER(...) LIKE
    # across the orders and customers columns
    assert found == {term: [ada.pk] for term in found}
    listing = next(q for q in queries if "UNION" in q)
    assert not re.search(r'UPPER\([^)]*"email"', listing)
    assert " OR " not in listing.split("UNION")[0]


# --- PostgreSQL's planner: each main list is an index range ------------------------------------
def _plan(queryset: Any) -> str:
    with connection.cursor() as cursor:
        # With sequential scans and sorts priced out, a plan still holding one means that no
        # index can serve the query's filter or its order.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    return queryset.explain()


@pytest.mark.postgresql  # EXPLAIN is PostgreSQL's; CI's second pass runs it there
@pytest.mark.parametrize(
    "name",
    [
        "tmf622 list",
        "tmf622 cursor page",
        "manual pool",
        "manual task pool",
        "task retry log",
        "customer products",
        "exception queue",
        "billing mismatches",
        "support search",
        "customer orders",
    ],
)
def test_postgresql_serves_each_main_list_from_an_index(
    name: str, admin_user: User, customer_user: User, customer_account: Customer
) -> None:
    # given a few rows in every table the lists read
    _pool(3)
    _cases(3)
    _billing(3)
    _named(3)

    # when PostgreSQL plans the list's query with sequential scans and sorts priced out
    queryset = {
        "tmf622 list": Order.objects.filter(tmf_deletion__isnull=True).order_by(
            "-submitted_at", "-pk"
        )[:100],
        "tmf622 cursor page": Order.objects.filter(
            submitted_at__lte=timezone.now(), tmf_deletion__isnull=True
        ).order_by("-submitted_at", "-pk")[:100],
        "manual pool": Order.objects.filter(status=OrderStatus.AWAITING_MANUAL).order_by(
            "status_changed_at", "pk"
        )[:100],
        "manual task pool": FulfilmentTask.objects.filter(mode="manual", state="ready").order_by(
            "ready_at", "pk"
        )[:100],
        "task retry log": TaskAttempt.objects.filter(
            trigger__in=["auto_retry", "manual_retry"]
        ).order_by("-started_at", "-pk")[:25],
        "customer products": Product.objects.filter(customer=customer_account).order_by(
            "-created_at", "-id"
        )[:20],
        "exception queue": ExceptionCase.objects.filter(state__in=["open", "retrying"]).order_by(
            "opened_at", "pk"
        )[:200],
        "billing mismatches": BillingAccount.objects.filter(MISMATCH).order_by("created_at", "pk")[
            :100
        ],
        "support search": Customer.objects.filter(
            pk__in=customers_matching("Ada Lovelace")
        ).order_by("pk"),
        "customer orders": own_orders(customer_user),
    }[name]
    plan = _plan(queryset)

    # then it reads an index: no sequential scan of a big table, no sort of one
    big = (
        r"(orders_order|orders_customer|billing_billingaccount|provisioning_exceptioncase"
        r"|provisioning_fulfilmenttask|provisioning_taskattempt|inventory_product)"
    )
    assert not re.search(rf"Seq Scan on {big}\b", plan), plan
    assert not re.search(r"^\s*(->\s+)?Sort\b", plan, re.M), plan
