"""/metrics (observability.views, observability.metrics): only for the scraper holding the
token, request latency under bounded labels, and gauges other apps register."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from observability.registry import register_gauge, unregister_gauge
from tests.observability.conftest import METRICS_TOKEN, parse_metrics, sample

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_metrics_without_a_token_are_refused_with_401(metrics_token):
    response = Client().get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"orders_by_state" not in response.content


def test_metrics_with_a_wrong_token_are_refused_with_403(metrics_token):
    response = Client(HTTP_AUTHORIZATION="Bearer not-the-token").get("/metrics")
    assert response.status_code == 403
    assert b"orders_by_state" not in response.content


def test_metrics_are_refused_while_no_token_is_configured(settings):
    # A server started without METRICS_TOKEN (development) never serves the metrics.
    settings.METRICS_TOKEN = ""
    response = Client(HTTP_AUTHORIZATION="Bearer ").get("/metrics")
    assert response.status_code == 401
    response = Client(HTTP_AUTHORIZATION="Bearer anything").get("/metrics")
    assert response.status_code == 403


def test_metrics_with_the_token_are_prometheus_text(scrape):
    samples = scrape()
    assert sample(samples, "orders_by_state", state="submitted") == 0
    assert ("metrics_tally_pending_deltas", ()) in samples


def test_metrics_refuse_writes(metrics_token):
    response = Client(HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}").post("/metrics")
    assert response.status_code == 405


def test_unknown_paths_are_timed_under_one_label_not_their_path(scrape):
    # Given requests for made-up paths (a scanner, a mistyped link)
    before = scrape()
    for n in range(3):
        assert Client().get(f"/no-such-page-{n}/").status_code == 404
    after = scrape()
    # Then they share one series; the paths themselves appear nowhere
    key = {"route": "unmatched", "method": "GET", "status": "4xx"}
    count = "http_request_duration_seconds_count"
    assert sample(after, count, **key) - sample(before, count, **key) == 3
    assert not any("no-such-page" in str(labels) for (_, labels) in after)


def test_an_odd_http_method_is_counted_as_other(scrape):
    before = scrape()
    Client().generic("BREW", "/accounts/login/")
    after = scrape()
    key = {"route": "login", "method": "other"}
    count = "http_request_duration_seconds_count"
    grew = {
        labels: value - before.get((name, labels), 0)
        for (name, labels), value in after.items()
        if name == count and ("method", "other") in labels
    }
    assert sum(grew.values()) == 1
    assert all(dict(labels)["route"] == key["route"] for labels in grew)


def test_another_app_registers_a_gauge_computed_at_each_scrape(scrape):
    # Given reconciliation's gauge of mismatches found, by kind (computed at scrape time)
    found = {"count": 2}
    register_gauge(
        "reconciliation_mismatches",
        "Mismatches between the order record and the network, by kind.",
        lambda: {("billing",): found["count"], ("network",): 0},
        labels=("kind",),
    )
    register_gauge("reconciliation_last_run_age_seconds", "Age of the last run.", lambda: 42.5)
    try:
        first = scrape()
        found["count"] = 5
        second = scrape()
    finally:
        unregister_gauge("reconciliation_mismatches")
        unregister_gauge("reconciliation_last_run_age_seconds")
    # Then each scrape shows the value as it is then
    assert sample(first, "reconciliation_mismatches", kind="billing") == 2
    assert sample(second, "reconciliation_mismatches", kind="billing") == 5
    assert sample(second, "reconciliation_last_run_age_seconds") == 42.5


def test_a_gauge_that_fails_is_left_out_and_the_rest_still_served(scrape):
    def broken() -> float:
        raise RuntimeError("reconciliation table missing")

    register_gauge("reconciliation_broken", "Always fails.", broken)
    try:
        samples = scrape()
    finally:
        unregister_gauge("reconciliation_broken")
    assert ("reconciliation_broken", ()) not in samples
    assert sample(samples, "orders_by_state", state="completed") == 0


def test_a_gauge_with_a_bad_name_is_refused_at_registration():
    with pytest.raises(ValueError, match="not a Prometheus metric name"):
        register_gauge("reconciliation mismatches", "Spaces are not allowed.", lambda: 1)


def test_exposition_parses_as_prometheus_text(scrape, metrics_token):
    text = Client(HTTP_AUTHORIZATION=f"Bearer {metrics_token}").get("/metrics").content.decode()
    assert parse_metrics(text)  # the client library's own parser reads it
    for gauge in (
        "orders_by_state",
        "outbox_queue_depth",
        "outbox_lag_seconds",
        "fulfilment_tasks_ready",
        "hub_deliveries_pending",
        "hub_delivery_lag_seconds",
        "metrics_tally_pending_deltas",
    ):
        assert f"# TYPE {gauge} gauge" in text, gauge
    for counter in (
        "task_attempts",
        "task_failures",
        "emails_sent",
        "emails_failed",
        "outbox_given_up",
        "hub_delivery_attempts",
        "hub_deliveries_failed",
    ):
        assert f"# TYPE {counter}_total counter" in text, counter
    assert "# TYPE http_request_duration_seconds histogram" in text


MULTIPROCESS_REQUEST = """
import django
django.setup()
from django.test import RequestFactory
from django.urls import resolve
from observability.metrics import observe_request
request = RequestFactory().get("/accounts/login/")
request.resolver_match = resolve("/accounts/login/")
observe_request(request, status=200, seconds=0.25)
"""

MULTIPROCESS_SCRAPE = """
import django
django.setup()
from prometheus_client import generate_latest
from observability.metrics import process_registry
print(generate_latest(process_registry()).decode())
"""


def test_several_web_processes_add_up_their_request_metrics(tmp_path):
    # Given three web processes (uvicorn --workers 3) sharing PROMETHEUS_MULTIPROC_DIR
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(shared),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "VAR_DIR": str(tmp_path),
    }

    def python(script: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    # When each answers one sign-in page request
    for _ in range(3):
        python(MULTIPROCESS_REQUEST)
    # Then a scrape answered by any process counts all three
    samples = parse_metrics(python(MULTIPROCESS_SCRAPE))
    key = {"route": "login", "method": "GET", "status": "2xx"}
    assert sample(samples, "http_request_duration_seconds_count", **key) == 3
    assert sample(samples, "http_request_duration_seconds_sum", **key) == pytest.approx(0.75)


def test_prometheus_scrapes_a_web_process_by_its_address_over_plain_http(metrics_token, settings):
    # Production redirects plain HTTP and checks the Host; Prometheus scrapes 10.0.0.7:8000
    settings.SECURE_SSL_REDIRECT = True
    scraper = Client(HTTP_AUTHORIZATION=f"Bearer {metrics_token}")
    response = scraper.get("/metrics", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200
    assert b"orders_by_state" in response.content
    # ... still only with the token
    assert Client().get("/metrics", HTTP_HOST="10.0.0.7:8000").status_code == 401


def test_metrics_while_the_database_is_down_answer_503(metrics_token, monkeypatch):
    from django.db import OperationalError, connections

    def refuse() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "ensure_connection", refuse)
    scraper = Client(HTTP_AUTHORIZATION=f"Bearer {metrics_token}", raise_request_exception=False)
    assert scraper.get("/metrics").status_code == 503
