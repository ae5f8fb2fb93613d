"""The reconciliation page (/work/reconciliation/) and its CSV: who may open them, what they
list (open mismatches, oldest first, filtered by kind, paged), and that the CSV is the page's
list."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client
from django.urls import reverse
from django.utils import timezone

from orders.selectors import WORKLIST_PAGE
from reconciliation.models import Mismatch, MismatchKind
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

PAGE = "/work/reconciliation/"
EXPORT = "/work/reconciliation/export.csv"


def _mismatch(kind: MismatchKind, subject: str, *, minutes_ago: int, **fields) -> Mismatch:
    at = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    return Mismatch.objects.create(
        kind=kind,
        subject=subject,
        detail=fields.pop("detail", f"{kind.label}: {subject}"),
        first_seen_at=at,
        last_seen_at=timezone.now(),
        **fields,
    )


@pytest.fixture
def seeded():
    """Three open mismatches (one about an order, one about no order) and a resolved one."""
    order = OrderFactory()
    unbilled = _mismatch(
        MismatchKind.ORDER_ACTIVE_WITHOUT_BILLING_ACCOUNT, order.pk, minutes_ago=90, order=order
    )
    ghost = _mismatch(MismatchKind.NETWORK_HAS_UNKNOWN_SUBSCRIBER, "GHOST:1", minutes_ago=60)
    uncharged = _mismatch(
        MismatchKind.PRODUCT_LIVE_WITHOUT_CHARGE, "p-1", minutes_ago=30, order=order
    )
    resolved = _mismatch(MismatchKind.PRODUCT_WITHOUT_ORDER, "p-2", minutes_ago=120)
    Mismatch.objects.filter(pk=resolved.pk).update(resolved_at=timezone.now())
    return {"order": order, "open": [unbilled, ghost, uncharged], "resolved": resolved}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _rows(response) -> list[str]:
    """The page's rows, as their subjects in order."""
    html = response.content.decode()
    return [chunk.split('"', 1)[0] for chunk in html.split('data-subject="')[1:]]


def _csv(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("who", ["lead_user", "billing_user", "ops_manager_user"])
def test_the_lead_billing_and_operations_see_the_open_mismatches_oldest_first(request, who, seeded):
    # given open and resolved mismatches, when each of the three roles opens the page
    response = _client(request.getfixturevalue(who)).get(PAGE)
    # then it lists the open ones, oldest first, each with what, since when, and its order
    assert response.status_code == 200
    assert _rows(response) == [m.subject for m in seeded["open"]]
    html = response.content.decode()
    order = seeded["order"]
    assert f'href="{reverse("orders:detail", args=[order.pk])}"' in html
    assert order.display_id in html
    assert "Subscriber on the network for no order we know" in html
    assert 'data-testid="count-network_has_unknown_subscriber">1<' in html


@pytest.mark.parametrize(
    "who", ["sales_user", "provisioning_user", "support_user", "customer_user"]
)
def test_other_roles_and_customers_are_turned_away(request, who, seeded):
    client = _client(request.getfixturevalue(who))
    # when anyone else opens the page or its CSV, then it is forbidden, and lists nothing
    for url in (PAGE, EXPORT):
        response = client.get(url)
        assert response.status_code == 403
        assert seeded["order"].pk not in response.content.decode()


def test_signed_out_people_are_sent_to_sign_in(seeded):
    response = Client().get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_list_filters_by_kind(lead_user, seeded):
    # when the lead asks for one kind
    response = _client(lead_user).get(PAGE, {"kind": MismatchKind.NETWORK_HAS_UNKNOWN_SUBSCRIBER})
    # then only that kind is listed, and the CSV link keeps the filter
    assert _rows(response) == ["GHOST:1"]
    assert f"{EXPORT}?kind=network_has_unknown_subscriber" in response.content.decode()


def test_an_unknown_kind_is_a_clear_error(lead_user, seeded):
    client = _client(lead_user)
    # when the filter names no kind of mismatch, then the page and the CSV say so (400)
    response = client.get(PAGE, {"kind": "nonsense"})
    assert response.status_code == 400
    assert "No such kind of mismatch: nonsense." in response.content.decode()
    assert _rows(response) == []
    export = client.get(EXPORT, {"kind": "nonsense"})
    assert export.status_code == 400 and "No such kind of mismatch" in export.content.decode()


def test_the_list_pages_by_its_key(billing_user):
    # given one more open mismatch than a page holds
    for n in range(WORKLIST_PAGE + 1):
        _mismatch(MismatchKind.PRODUCT_LIVE_WITHOUT_CHARGE, f"p-{n:03d}", minutes_ago=100 - n)
    client = _client(billing_user)
    # when billing opens the page, then it shows a page and a link to the next
    first = client.get(PAGE)
    assert _rows(first) == [f"p-{n:03d}" for n in range(WORKLIST_PAGE)]
    html = first.content.decode()
    next_url = html.split('rel="next" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    # and the next page holds the rest
    second = client.get(PAGE + next_url)
    assert _rows(second) == [f"p-{WORKLIST_PAGE:03d}"]


def test_the_csv_holds_the_pages_rows(ops_manager_user, seeded):
    client = _client(ops_manager_user)
    for query in ({}, {"kind": MismatchKind.PRODUCT_LIVE_WITHOUT_CHARGE}):
        # when the page and its CSV are asked for with the same filter
        page = client.get(PAGE, query)
        export = client.get(EXPORT, query)
        # then the CSV is a download of the same rows, in the same order
        assert export.status_code == 200
        assert export["Content-Type"].startswith("text/csv")
        assert "attachment" in export["Content-Disposition"]
        rows = _csv(export)
        assert [row["what"] for row in rows] == _rows(page)
    # and each row says what, since when, and links to its order
    order = seeded["order"]
    (row,) = rows
    assert row["order"] == order.display_id
    assert row["link"] == f"http://testserver{reverse('orders:detail', args=[order.pk])}"
    assert row["first_seen_at"] == seeded["open"][2].first_seen_at.isoformat()
    assert row["kind"] == MismatchKind.PRODUCT_LIVE_WITHOUT_CHARGE.label


def test_the_csv_has_every_page(lead_user):
    # given more open mismatches than a page holds
    for n in range(WORKLIST_PAGE + 3):
        _mismatch(MismatchKind.PRODUCT_WITHOUT_ORDER, f"p-{n:03d}", minutes_ago=100 - n)
    # when the lead downloads the CSV, then every one is in it
    rows = _csv(_client(lead_user).get(EXPORT))
    assert [row["what"] for row in rows] == [f"p-{n:03d}" for n in range(WORKLIST_PAGE + 3)]


def test_the_navigation_links_the_page_for_its_roles_only(lead_user, sales_user):
    link = f'href="{PAGE}"'
    assert link in _client(lead_user).get(reverse("portal:lead_home")).content.decode()
    assert link not in _client(sales_user).get(reverse("portal:sales_home")).content.decode()


def test_an_asgi_server_streams_the_same_csv(lead_user, seeded):
    # given the web server is ASGI (uvicorn, as the image runs it)
    client = AsyncClient()
    client.force_login(lead_user)
    response = async_to_sync(client.get)(EXPORT)
    assert response.status_code == 200 and response.is_async

    async def read() -> bytes:
        return b"".join([part async for part in response.streaming_content])

    # then the CSV streamed is the one a WSGI server gives
    rows = list(csv.DictReader(io.StringIO(async_to_sync(read)().decode())))
    assert [row["what"] for row in rows] == [m.subject for m in seeded["open"]]
