"""Liveness and readiness (observability.health, observability.middleware.HealthMiddleware):
what an orchestrator probing a web process gets, whatever Host it sends."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connections
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def probe() -> Client:
    # As a server answers: an exception becomes a response, it is not raised into the test.
    return Client(raise_request_exception=False)


@pytest.fixture
def database_down(monkeypatch):
    """Every query fails as it does with the server stopped: connecting is refused."""

    def refuse() -> None:
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: refused')

    monkeypatch.setattr(connections["default"], "ensure_connection", refuse)


@pytest.fixture
def broker_down(settings):
    """The broker's address answers nothing (port 1 on this machine: connection refused)."""
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"


def test_live_answers_ok_with_any_host_header(probe):
    # An orchestrator probes the container by its IP: not an allowed host
    response = probe.get("/health/live", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_live_needs_no_database(probe, database_down):
    # A database outage must not get every web process restarted
    assert probe.get("/health/live").status_code == 200


def test_ready_checks_database_and_broker(probe):
    response = probe.get("/health/ready/", HTTP_HOST="10.0.0.7")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_ready_reports_a_database_outage_as_503_naming_the_database(probe, database_down):
    response = probe.get("/health/ready")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "unavailable", "broker": "ok"},
    }


def test_ready_reports_a_broker_outage_as_503_naming_the_broker(probe, broker_down, caplog):
    response = probe.get("/health/ready")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "unavailable"},
    }
    # The body says which; why (the address) goes to the log only
    assert b"127.0.0.1" not in response.content
    assert any("broker unavailable" in r.getMessage() for r in caplog.records)


def test_probes_are_answered_over_plain_http_under_production_redirects(probe, settings):
    # Production redirects plain HTTP to HTTPS; the orchestrator probes plain HTTP
    settings.SECURE_SSL_REDIRECT = True
    assert probe.get("/health/live").status_code == 200
    assert probe.get("/accounts/login/").status_code == 301


def test_other_paths_still_check_the_host(probe):
    assert probe.get("/accounts/login/", HTTP_HOST="10.0.0.7").status_code == 400


def test_ready_reports_the_embedded_brokers_missing_folder(probe, settings, tmp_path):
    # make run's broker is a folder (kombu's filesystem transport): gone, nothing can be queued
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "gone")}
    response = probe.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "unavailable"
    (tmp_path / "gone").mkdir()
    assert probe.get("/health/ready").status_code == 200
