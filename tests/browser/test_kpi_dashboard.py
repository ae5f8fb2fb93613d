"""The KPI dashboard in a real browser: the operations manager opens it from the navigation,
sees every chart drawn (server-side SVG, nothing the Content-Security-Policy blocks), narrows it
to an area, and downloads a figure; support sees only its own figures."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from kpis.refresh import kpis_refresh
from tests.browser.conftest import sign_in
from tests.kpis.history import seed_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_operations_manager_reads_the_charts_and_support_only_its_figures(
    page: Page, open_page, ops_manager_user: User, support_user: User
) -> None:
    # Given a history counted into the dashboard, and the page's console, where a blocked
    # script, style or image (a CSP refusal) would show
    history = seed_history()
    kpis_refresh(history.baseline[0], history.until)
    problems: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    # When the operations manager opens the KPIs from the navigation, for the history's period
    sign_in(page, ops_manager_user.username)
    page.get_by_role("navigation").get_by_role("link", name="KPIs").click()
    page.get_by_label("From (optional)", exact=True).fill(history.monday.isoformat())
    page.get_by_label("To (optional)", exact=True).fill(history.until.isoformat())
    page.get_by_label("Baseline from").fill(history.baseline[0].isoformat())
    page.get_by_label("Baseline to").fill(history.baseline[1].isoformat())
    page.get_by_role("button", name="Show").click()

    # Then every figure's chart is drawn, with its title, at a size people can read
    for title in (
        "Average activation time per week, hours",
        "Activations by time to live",
        "Provisioning error rate per week, %",
        "Failed attempts by reason",
        "Duplicate entry caught, by kind",
        "CSAT answers by score",
    ):
        chart = page.get_by_role("img", name=title)
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 250 and box["height"] > 80, title
    expect(page.get_by_test_id("average-hours")).to_have_text("42.5 h")
    expect(page.get_by_test_id("error-rate")).to_have_text("30.0 %")
    # the target line is drawn on the error-rate chart
    expect(page.locator("[data-testid=kpi-errors] line.chart-target")).to_have_count(1)

    # When they narrow it to one area
    page.get_by_label("Area postcode").fill("SO1 1AA")
    page.get_by_role("button", name="Show").click()

    # Then the figures are that area's, and a figure downloads as CSV
    expect(page.get_by_test_id("activated")).to_have_text("1")
    page.locator("[data-testid=kpi-activation] summary").first.click()
    with page.expect_download() as download:
        page.get_by_test_id("csv-activation-trend").click()
    assert download.value.suggested_filename.startswith("activation-trend-")
    assert not problems, problems

    # And support, on the same page, sees only tickets, satisfaction and jeopardies
    other = open_page()
    sign_in(other, support_user.username)
    other.goto("/work/kpis/")
    expect(other.get_by_test_id("kpi-support")).to_be_visible()
    for hidden in ("kpi-activation", "kpi-errors", "kpi-duplicates"):
        expect(other.get_by_test_id(hidden)).to_have_count(0)
