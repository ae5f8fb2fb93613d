"""The TMF API's per-client rate limit (tmf.auth.ClientRateThrottle, TMF_API_RATE), and the
suite's isolation from it: a test not about the limit is never throttled, and no count one
test leaves in the cache reaches the next (tests/conftest.py: fresh_caches,
api_throttle_lifted)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from rest_framework.settings import api_settings

from tests.tmf.product_order_bodies import ORDERS
from tests.tmf.schema import assert_valid
from tmf.auth import ClientPrincipal, ClientRateThrottle
from tmf.models import ApiClient

pytestmark = pytest.mark.django_db

# Filled by the test that goes over the rate, read by the one after it.
_over_the_rate: dict[str, int] = {}


def _rate(monkeypatch: pytest.MonkeyPatch, rate: str) -> None:
    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"client": rate})


def _through_the_throttle(client_pk: int) -> bool:
    """Whether one call of the client with this id passes the throttle."""
    request: Any = SimpleNamespace(user=ClientPrincipal(ApiClient(pk=client_pk)))
    return ClientRateThrottle().allow_request(request, None)


@pytest.mark.throttle
def test_a_client_over_its_rate_is_answered_429_in_the_tmf_error_body(
    monkeypatch, api_reader, make_api_client
):
    # Given a rate of two calls a minute per client
    _rate(monkeypatch, "2/min")

    # When one client calls three times
    answers = [api_reader.get(ORDERS) for _ in range(3)]

    # Then the third is refused with 429, a TMF error and when to come back
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    refused = answers[-1]
    assert 0 < int(refused["Retry-After"]) <= 60
    assert_valid("TMF622", "Error", refused.json())
    assert refused.json()["code"] == "TOO_MANY_REQUESTS"
    # ... while another client still has its own allowance
    assert make_api_client("read").get(ORDERS).status_code == 200
    _over_the_rate["client"] = api_reader.client_row.pk


@pytest.mark.throttle
def test_no_throttle_count_is_left_over_from_the_test_before(monkeypatch):
    # Given the client that went over its rate in the test before (same rate here)
    _rate(monkeypatch, "2/min")
    client_pk = _over_the_rate.get("client", 1)

    # When this test's first call of a client with that id comes through the throttle
    allowed = _through_the_throttle(client_pk)

    # Then it passes: on SQLite a rolled-back test's ids come again, so a count kept in the
    # cache would throttle a client of this test for what another test did
    assert allowed


def test_a_test_not_about_the_rate_is_never_throttled(api_reader):
    # Given the configured rate (TMF_API_RATE) of calls a minute per client
    allowance, _ = ClientRateThrottle().parse_rate(api_settings.DEFAULT_THROTTLE_RATES["client"])
    assert allowance

    # When a test not marked ``throttle`` sends more calls than that within the minute
    passed = [_through_the_throttle(api_reader.client_row.pk) for _ in range(allowance + 5)]

    # Then none is refused: how many calls a test makes, and how fast, is not its outcome
    assert all(passed)
