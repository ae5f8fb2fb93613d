"""Tracking one order by order ID + postcode without an account (portal/accounts.py): the
customer-facing status only, the same answer for a wrong postcode and an unknown ID, and failed
lookups limited per client address and per order ID."""

from __future__ import annotations

import re
from itertools import count

import pytest
from django.core.cache import cache
from django.test import Client

from orders import order_id as order_ids
from orders.models import Order
from orders.services import order_confirm_manual_activation
from orders.states import EventSource, OrderStatus
from portal import accounts
from portal.accounts import (
    RateLimit,
    client_ip,
    rate_limit_hit,
    rate_limit_reached,
    rate_limit_refund,
    rate_limit_take,
)

pytestmark = pytest.mark.django_db

TRACK = "/track/"
_addresses = count(1)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Counters live in the cache, which outlives each test's database transaction.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock(monkeypatch):
    """The limiter's clock, standing still until a test moves it."""
    now = {"t": 1_800_000_000.0}
    monkeypatch.setattr(accounts, "_clock", lambda: now["t"])
    return now


@pytest.fixture
def manual_order(place_order, plan, manual_area) -> Order:
    return place_order(
        plan=plan,
        area=manual_area,
        email="tracy@example.com",
        name="Tracy Tracker",
        phone="07700900555",
    )


def unknown_id() -> str:
    """A well-formed order ID that no order has."""
    while True:
        candidate = order_ids.generate()
        if not Order.objects.filter(pk=candidate).exists():
            return candidate


def fresh_client() -> Client:
    """A client from an address of its own."""
    return Client(REMOTE_ADDR=f"192.0.2.{next(_addresses)}")


def track(client: Client, order_id: str, postcode: str):
    return client.post(TRACK, {"order_id": order_id, "postcode": postcode})


def test_the_right_id_and_postcode_show_the_orders_status_in_customer_words(client, manual_order):
    # Given an order waiting for the provisioning team, at IV1 1AA
    # When anyone types its ID in another case with spaces, and the postcode without its space
    typed = " ".join(manual_order.pk.lower())
    response = track(client, typed, "iv11aa")
    # Then they see its status, estimated activation date and progress
    page = response.content.decode()
    assert response.status_code == 200
    assert manual_order.display_id in page
    assert "Being set up by our team" in page
    assert "Estimated activation" in page
    assert "We received your order." in page
    assert "Our provisioning team is setting up your line." in page
    assert manual_order.plan.name in page
    assert "IV1 1AA" in page
    # ... and what the order holds, item by item, in customer words (and without prices:
    # an ID and a postcode do not prove who pays)
    assert '<span class="item-status">Internet line: being set up</span></li>' in page
    assert "35.00" not in page


def test_a_wrong_postcode_answers_exactly_like_an_unknown_order_id(client, manual_order):
    # Given a real order
    # When someone tries its ID with another postcode, and an unknown ID with the same postcode
    wrong_postcode = track(client, manual_order.pk, "SW1A 1AA")
    other_id = unknown_id()
    unknown = track(client, other_id, "SW1A 1AA")

    # Then both answers are the same, status and text (apart from the ID they typed)
    def normalized(response) -> str:
        page = response.content.decode()
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
        return page.replace(manual_order.pk, "ID").replace(other_id, "ID")

    assert wrong_postcode.status_code == unknown.status_code == 404
    assert normalized(wrong_postcode) == normalized(unknown)
    assert "We couldn't find an order with that ID and postcode" in normalized(unknown)
    assert "Being set up" not in normalized(wrong_postcode)


def test_a_mistyped_order_id_is_caught_by_its_check_character(client, manual_order):
    # Given the order ID with one character changed
    body = manual_order.pk[:-1]
    wrong_check = next(s for s in order_ids.ALPHABET if s != manual_order.pk[-1])
    # When it is typed
    response = track(client, body + wrong_check, "IV1 1AA")
    # Then the form asks to check the ID, without looking anything up
    assert response.status_code == 200
    assert "Check the order ID" in response.content.decode()


def test_the_page_shows_no_personal_data_and_no_internal_reason_codes(
    client, place_order, plan, faulty_area
):
    # Given an order whose activation failed with an internal reason code
    order = place_order(
        plan=plan,
        area=faulty_area,
        email="private@example.com",
        name="Priya Private",
        phone="07700900777",
    )
    assert order.status == OrderStatus.EXCEPTION
    # When it is tracked with its ID and postcode
    page = track(client, order.pk, "FB1 1AA").content.decode()
    # Then the customer wording is there
    assert "Delayed: our team is on it" in page
    # ... and nothing about the person, the full address or the internal reasons
    customer = order.customer
    for secret in (
        customer.name,
        customer.email,
        customer.phone,
        order.service_address_line1,
        order.service_city,
        "PORT_UNAVAILABLE",
        "No free access port",
        "Faultybridge",
        "exception case",
    ):
        assert secret not in page, secret


def test_ten_failed_lookups_from_one_address_pause_it_even_for_a_correct_pair(
    clock, manual_order, settings
):
    # Given an address that failed 10 lookups in the window
    settings.TRACKING_MAX_FAILURES_PER_IP = 10
    client = fresh_client()
    for _ in range(10):
        assert track(client, unknown_id(), "IV1 1AA").status_code == 404
    # When it then tries the right pair
    refused = track(client, manual_order.pk, "IV1 1AA")
    # Then it is refused with a friendly 429 and told when to come back
    assert refused.status_code == 429
    assert "try again in" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= settings.TRACKING_WINDOW_SECONDS
    assert "Being set up" not in refused.content.decode()
    # ... while another address is not affected
    assert track(fresh_client(), manual_order.pk, "IV1 1AA").status_code == 200
    # When the window has passed
    clock["t"] += settings.TRACKING_WINDOW_SECONDS
    # Then the same address finds the order again
    assert track(client, manual_order.pk, "IV1 1AA").status_code == 200


def test_five_failed_lookups_of_one_order_id_pause_that_id_from_everywhere(
    clock, manual_order, settings
):
    # Given 5 wrong postcodes tried for one order ID, each from another address
    settings.TRACKING_MAX_FAILURES_PER_ORDER = 5
    for postcode in ("AB1 1AA", "AB1 1AB", "AB1 1AD", "AB1 1AE", "AB1 1AF"):
        assert track(fresh_client(), manual_order.pk, postcode).status_code == 404
    # When anyone tries that ID again, even with the right postcode
    refused = track(fresh_client(), manual_order.pk, "IV1 1AA")
    # Then it is refused
    assert refused.status_code == 429
    # ... and once the window has passed it works again
    clock["t"] += settings.TRACKING_WINDOW_SECONDS
    assert track(fresh_client(), manual_order.pk, "IV1 1AA").status_code == 200


def test_an_unknown_id_is_paused_like_a_real_one(settings):
    # Given 5 failed lookups of an ID that no order has
    settings.TRACKING_MAX_FAILURES_PER_ORDER = 5
    ghost = unknown_id()
    for _ in range(5):
        track(fresh_client(), ghost, "IV1 1AA")
    # Then it is paused too: a pause says nothing about whether the order exists
    assert track(fresh_client(), ghost, "IV1 1AA").status_code == 429


def test_successful_lookups_do_not_count_against_the_address(manual_order, settings):
    # Given an address that looks its order up many times
    settings.TRACKING_MAX_FAILURES_PER_IP = 3
    client = fresh_client()
    for _ in range(10):
        assert track(client, manual_order.pk, "IV1 1AA").status_code == 200
    # Then it can still make its allowed mistakes before being paused
    for _ in range(3):
        assert track(client, unknown_id(), "IV1 1AA").status_code == 404
    assert track(client, manual_order.pk, "IV1 1AA").status_code == 429


def test_the_form_page_is_open_to_anyone_and_never_cached(client, manual_order):
    # When someone opens the tracking page from the link in their e-mail
    response = client.get(TRACK, {"order_id": manual_order.display_id})
    # Then the form is there, with the order ID filled in and nothing about the order
    page = response.content.decode()
    assert response.status_code == 200
    assert manual_order.display_id in page
    assert "Being set up" not in page
    assert "no-store" in response["Cache-Control"]
    # ... and results are never stored by a cache either
    found = track(client, manual_order.pk, "IV1 1AA")
    assert "no-store" in found["Cache-Control"]


def test_tracking_needs_the_csrf_token(manual_order):
    # Given a browser posting from another site (no CSRF token)
    client = Client(enforce_csrf_checks=True)
    # Then the lookup is refused
    assert track(client, manual_order.pk, "IV1 1AA").status_code == 403


# --- the result page follows the order by itself ----------------------------------------------
LIVE = "/track/live/"


def live_token_of(response) -> str:
    token = response.context["live_token"]
    assert token
    return token


def poll(client: Client, token: str, since: int | str = 0):
    return client.get(LIVE, {"since": since}, headers={"X-Live-Token": token})


def test_the_result_page_gets_the_new_status_on_its_next_poll(
    client, manual_order, lead_user, django_capture_on_commit_callbacks
):
    # Given the tracking result of an order waiting for the provisioning team, open at its version
    found = track(client, manual_order.pk, "IV1 1AA")
    token, version = live_token_of(found), found.context["live_version"]
    assert poll(client, token, version).status_code == 204
    # When the line is activated by hand (billing then completes the order)
    with django_capture_on_commit_callbacks(execute=True):
        order_confirm_manual_activation(
            manual_order,
            actor=lead_user,
            reason="Engineer at the Inverness exchange.",
            source=EventSource.ADMIN,
        )
    # Then the page's next poll brings the new status, in customer words only
    update = poll(client, token, version)
    assert update.status_code == 200
    assert int(update["X-Live-Version"]) > version
    html = update.content.decode()
    assert "Active" in html
    assert "Your internet service is live." in html
    assert '<span class="item-status">Internet line: ready</span></li>' in html
    assert "Inverness" not in html
    assert "no-store" in update["Cache-Control"]


def test_the_live_status_needs_the_token_the_result_page_was_given(client, manual_order):
    # Given a visitor who proved ID + postcode for one order
    token = live_token_of(track(client, manual_order.pk, "IV1 1AA"))
    # When someone asks for the live status with no token, the bare order ID, or an altered token
    forged = accounts.signing.dumps({"o": manual_order.pk, "p": "IV11AA", "e": 2**40})
    for attempt in ("", manual_order.pk, token[:-1] + ("A" if token[-1] != "A" else "B"), forged):
        response = poll(fresh_client(), attempt)
        # Then nothing about the order is given
        assert response.status_code == 404, attempt
        assert "Being set up" not in response.content.decode()
    # ... and the order ID in the URL is no way in either
    assert fresh_client().get(LIVE, {"order_id": manual_order.pk}).status_code == 404


def test_the_token_stops_working_after_its_time(client, clock, manual_order, settings):
    # Given a token given out now, valid for an hour
    settings.TRACKING_LIVE_SECONDS = 3600
    token = live_token_of(track(client, manual_order.pk, "IV1 1AA"))
    clock["t"] += 3599
    assert poll(client, token).status_code == 200
    # When the hour has passed, then it opens nothing: the page is told it is gone
    clock["t"] += 2
    expired = poll(client, token)
    assert expired.status_code == 410
    assert "Being set up" not in expired.content.decode()
    # ... and a page left open polling with it never locks its visitor out of tracking
    settings.TRACKING_MAX_FAILURES_PER_IP = 3
    for _ in range(10):
        assert poll(client, token).status_code == 410
    assert track(client, manual_order.pk, "IV1 1AA").status_code == 200


def test_the_token_stops_working_when_the_postcode_no_longer_matches(client, manual_order):
    # Given a token for the order at IV1 1AA
    token = live_token_of(track(client, manual_order.pk, "IV1 1AA"))
    # When the order's service postcode is corrected to another one
    Order.objects.filter(pk=manual_order.pk).update(service_postcode="IV11AB")
    # Then the token no longer follows the order (the visitor proved the old postcode only)
    assert poll(client, token).status_code == 410


def test_bad_tokens_count_against_the_address_like_failed_lookups(clock, manual_order, settings):
    # Given an address allowed 3 failures in the window
    settings.TRACKING_MAX_FAILURES_PER_IP = 3
    client = fresh_client()
    for n in range(3):
        assert poll(client, f"made-up-{n}").status_code == 404
    # When it tries again, then it is paused like the tracking form
    refused = poll(client, "made-up-again")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert track(client, manual_order.pk, "IV1 1AA").status_code == 429


# --- the limiter ---------------------------------------------------------------------------------
def test_rate_limit_counts_hits_per_key_within_its_window():
    limit = RateLimit(scope="test", max_hits=2, window_seconds=60)
    start = 6_000.0  # the start of a window
    # Given two hits on one key
    assert rate_limit_hit(limit, "a", now=start) == 1
    assert not rate_limit_reached(limit, "a", now=start + 1)
    assert rate_limit_hit(limit, "a", now=start + 2) == 2
    # Then that key has reached its limit for the rest of the window, another key has not
    assert rate_limit_reached(limit, "a", now=start + 59)
    assert not rate_limit_reached(limit, "b", now=start + 59)
    # ... and the next window starts afresh
    assert not rate_limit_reached(limit, "a", now=start + 60)
    assert limit.seconds_left(now=start + 15) == 45


def test_rate_limit_take_refuses_without_counting_once_the_hits_are_used_up():
    limit = RateLimit(scope="test", max_hits=2, window_seconds=60)
    # Given a key that took its 2 hits
    assert rate_limit_take(limit, "a", now=0) is True
    assert rate_limit_take(limit, "a", now=1) is True
    # Then a third is refused, however often it is asked for
    assert rate_limit_take(limit, "a", now=2) is False
    assert rate_limit_take(limit, "a", now=3) is False
    # ... and a hit given back can be taken again
    rate_limit_refund(limit, "a", now=4)
    assert rate_limit_take(limit, "a", now=5) is True
    assert rate_limit_take(limit, "a", now=6) is False


def test_rate_limit_keeps_the_raw_key_out_of_the_cache():
    limit = RateLimit(scope="test", max_hits=1, window_seconds=60)
    key = limit.cache_key("someone@example.com", now=0)
    assert "someone" not in key and "example" not in key


def test_client_address_comes_from_the_trusted_proxy_only(rf, settings):
    # Given a request that came through our one TLS proxy, with a forged entry in front
    request = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9")
    # Without a trusted proxy the header is ignored
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.5"
    # With one, the address the proxy saw is used, never the client's own claim
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"
    # A request that skipped the proxy falls back to the socket address
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.6")) == "10.0.0.6"
    # ... and so does a header holding no address (a misconfigured proxy)
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.7", HTTP_X_FORWARDED_FOR="junk")) == (
        "10.0.0.7"
    )
    # A request with no address at all has none
    request.META.pop("REMOTE_ADDR")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) is None
