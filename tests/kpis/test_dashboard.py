"""The KPI dashboard as its users read it: the figures of a seeded history on the page, each
figure's CSV equal to its table, each role its own figures, and bad filters explained."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from kpis.refresh import kpis_refresh
from kpis.views import EXPORTS
from tests.kpis.history import History, seed_history

pytestmark = pytest.mark.django_db


class Page(HTMLParser):
    """The text of each element with a data-testid, and the rows of each table with one."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.texts: dict[str, str] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self._open: list[tuple[str, str | None]] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        testid = dict(attrs).get("data-testid")
        self._open.append((tag, testid))
        if tag == "table" and testid:
            self._table = testid.removeprefix("table-")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            opened, _ = self._open.pop()
            if opened == tag:
                break
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        for _, testid in self._open:
            if testid:
                self.texts[testid] = self.texts.get(testid, "") + data


@pytest.fixture
def history() -> History:
    seeded = seed_history()
    kpis_refresh(seeded.baseline[0], seeded.until)
    return seeded


def query(history: History, **extra: Any) -> dict[str, Any]:
    return {
        "since": history.monday.isoformat(),
        "until": history.until.isoformat(),
        "baseline_since": history.baseline[0].isoformat(),
        "baseline_until": history.baseline[1].isoformat(),
        **extra,
    }


def open_dashboard(client: Client, user: User, params: dict[str, Any]) -> Page:
    client.force_login(user)
    response = client.get(reverse("kpis:dashboard"), params)
    assert response.status_code == 200
    return Page(response.content.decode())


def text(page: Page, testid: str) -> str:
    return " ".join(page.texts[testid].split())


def test_the_operations_manager_reads_every_figure_of_the_history(
    client: Client, ops_manager_user: User, history: History
) -> None:
    page = open_dashboard(client, ops_manager_user, query(history))

    assert text(page, "activated") == "4"
    assert text(page, "average-hours") == "42.5 h"
    assert (text(page, "median-hours"), text(page, "p90-hours")) == ("20 h", "96 h")
    assert (text(page, "within-target"), text(page, "auto-provisioned")) == ("50.0 %", "75.0 %")
    assert (text(page, "error-rate"), text(page, "baseline-rate")) == ("30.0 %", "50.0 %")
    assert text(page, "target-rate") == "30.0 %"
    assert text(page, "duplicates-refused") == "2"
    assert text(page, "customers-matched") == "3"
    assert (text(page, "tickets"), text(page, "tickets-per-order")) == ("3", "0.60")
    assert text(page, "csat-average") == "4.00 / 5"
    # each section draws its charts
    for section in ("kpi-activation", "kpi-errors", "kpi-duplicates", "kpi-support"):
        assert section in page.texts


def test_each_figures_csv_is_the_table_on_the_page(
    client: Client, ops_manager_user: User, history: History
) -> None:
    params = query(history)
    page = open_dashboard(client, ops_manager_user, params)

    for name in EXPORTS:
        response = client.get(reverse("kpis:export", args=[name]), params)
        assert response.status_code == 200, name
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        shown = page.tables[name]
        if len(shown) == 2 and len(shown[1]) == 1:  # "Nothing in this period."
            shown = shown[:1]
        assert rows == shown, name
    reasons = page.tables["error-reasons"]
    assert [row[0] for row in reasons[1:]] == ["PORT_UNAVAILABLE", "NETWORK_TIMEOUT"]


def test_a_filter_narrows_every_figure_to_its_slice(
    client: Client, ops_manager_user: User, history: History
) -> None:
    page = open_dashboard(client, ops_manager_user, query(history, area="so1 1aa"))

    assert (text(page, "activated"), text(page, "average-hours")) == ("1", "96.0 h")
    assert text(page, "tickets") == "1"
    assert text(page, "duplicates-refused") == "0"


@pytest.mark.parametrize(
    ("role_user", "shown", "hidden"),
    [
        ("billing_user", {"kpi-activation", "kpi-duplicates"}, {"kpi-errors", "kpi-support"}),
        ("support_user", {"kpi-support"}, {"kpi-activation", "kpi-errors", "kpi-duplicates"}),
        (
            "lead_user",
            {"kpi-activation", "kpi-errors", "kpi-duplicates", "kpi-support"},
            set(),
        ),
    ],
)
def test_each_role_sees_its_own_figures_only(
    request: pytest.FixtureRequest,
    client: Client,
    history: History,
    role_user: str,
    shown: set[str],
    hidden: set[str],
) -> None:
    user = request.getfixturevalue(role_user)
    page = open_dashboard(client, user, query(history))

    assert shown <= set(page.texts)
    assert not hidden & set(page.texts)
    for name, (perm, _, _) in EXPORTS.items():
        status = client.get(reverse("kpis:export", args=[name]), query(history)).status_code
        assert status == (200 if user.has_perm(perm) else 403), name


def test_people_without_figures_are_refused(
    client: Client, sales_user: User, customer_user: User
) -> None:
    for user in (sales_user, customer_user):
        client.force_login(user)
        assert client.get(reverse("kpis:dashboard")).status_code == 403
    client.logout()
    assert client.get(reverse("kpis:dashboard")).status_code == 302


def test_bad_filters_are_each_explained_next_to_their_field(
    client: Client, ops_manager_user: User, history: History
) -> None:
    client.force_login(ops_manager_user)
    response = client.get(
        reverse("kpis:dashboard"),
        {"since": "2026-11-30", "until": "2026-11-01", "area": "ZZ99 9ZZ", "plan": "nope"},
    )

    assert response.status_code == 400
    page = Page(response.content.decode())
    summary = text(page, "error-summary")
    assert "The period must start on or before its last day." in summary
    assert "No service area has this postcode." in summary
    assert "Select a valid choice." in summary
    body = response.content.decode()
    assert 'id="field-since"' in body and 'id="field-area"' in body

    csv_response = client.get(reverse("kpis:export", args=["duplicates"]), {"until": "bad"})
    assert csv_response.status_code == 400
    assert "until: Enter a valid date." in csv_response.content.decode()


def test_an_empty_dashboard_shows_dashes_not_errors(client: Client, ops_manager_user: User) -> None:
    page = open_dashboard(client, ops_manager_user, {})

    assert text(page, "activated") == "0"
    assert text(page, "average-hours") == "\N{EN DASH}"
    assert text(page, "error-rate") == "\N{EN DASH}"
