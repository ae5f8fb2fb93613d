"""Placing the same order twice through TMF622: Idempotency-Key retries (per client) and the
duplicate-order rule for requests without a key."""

from __future__ import annotations

import threading

import pytest
from rest_framework.test import APIClient

from orders.models import DuplicateEntry, DuplicateKind, Order
from orders.states import OrderStatus
from tests.factories import PlanFactory
from tests.tmf.product_order_bodies import ORDERS, new_customer_party, order_body, post_refused
from tmf.productorder.views import ProductOrderList

pytestmark = pytest.mark.django_db


# --- the same order twice -------------------------------------------------------------------------
def test_same_idempotency_key_and_body_returns_the_first_order(api_writer, plan, manual_area):
    body = order_body(postcode=manual_area.postcode)
    headers = {"HTTP_IDEMPOTENCY_KEY": "crm-retry-1"}

    first = api_writer.post(ORDERS, body, format="json", **headers)
    again = api_writer.post(ORDERS, body, format="json", **headers)

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again["Location"] == first["Location"]
    assert Order.objects.count() == 1


def test_a_replay_is_marked_and_ignores_the_order_of_json_keys(api_writer, plan, manual_area):
    body = order_body(postcode=manual_area.postcode, externalId="crm-9")
    reordered = dict(reversed(list(body.items())))
    headers = {"HTTP_IDEMPOTENCY_KEY": "crm-retry-9"}

    first = api_writer.post(ORDERS, body, format="json", **headers)
    again = api_writer.post(ORDERS, reordered, format="json", **headers)

    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Order.objects.count() == 1


def test_a_refused_request_does_not_use_up_its_idempotency_key(api_writer, plan, manual_area):
    headers = {"HTTP_IDEMPOTENCY_KEY": "crm-retry-3"}
    wrong = order_body(postcode=manual_area.postcode, offering="gold-9000")
    post_refused(api_writer, wrong, **headers)

    fixed = api_writer.post(
        ORDERS, order_body(postcode=manual_area.postcode), format="json", **headers
    )

    assert fixed.status_code == 201, fixed.json()


def test_an_overlong_idempotency_key_ispost_refused(api_writer, plan, manual_area):
    error = post_refused(
        api_writer,
        order_body(postcode=manual_area.postcode),
        HTTP_IDEMPOTENCY_KEY="k" * 201,
    )

    assert "Idempotency-Key" in error["fieldErrors"]


def test_same_idempotency_key_with_another_body_is_a_409(api_writer, plan, manual_area):
    headers = {"HTTP_IDEMPOTENCY_KEY": "crm-retry-2"}
    api_writer.post(ORDERS, order_body(postcode=manual_area.postcode), format="json", **headers)

    error = post_refused(
        api_writer,
        order_body(postcode=manual_area.postcode, externalId="other"),
        status=409,
        **headers,
    )

    assert error["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert "crm-retry-2" in error["message"]


def test_idempotency_keys_belong_to_each_client(make_api_client, plan, manual_area):
    crm = make_api_client("read", "create", name="crm")
    shop = make_api_client("read", "create", name="webshop")
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-1"}

    from_crm = crm.post(ORDERS, order_body(postcode=manual_area.postcode), format="json", **headers)
    from_shop = shop.post(
        ORDERS, order_body(postcode=manual_area.postcode), format="json", **headers
    )

    assert from_crm.status_code == from_shop.status_code == 201
    assert from_crm.json()["id"] != from_shop.json()["id"]
    assert Order.objects.count() == 2


def test_same_open_order_again_without_a_key_is_a_duplicate(api_writer, plan, manual_area):
    body = order_body(postcode=manual_area.postcode)
    first = api_writer.post(ORDERS, body, format="json").json()

    error = post_refused(api_writer, body, status=409)

    assert error["code"] == "DUPLICATE_ORDER"
    assert first["id"] in error["message"]


def test_after_the_first_order_completed_the_same_body_is_a_new_order(
    api_writer, plan, serviceable_area, django_capture_on_commit_callbacks
):
    body = order_body(postcode=serviceable_area.postcode)
    with django_capture_on_commit_callbacks(execute=True):
        first = api_writer.post(ORDERS, body, format="json").json()

    again = api_writer.post(ORDERS, body, format="json")

    assert again.status_code == 201
    assert again.json()["id"] != first["id"]


def test_a_different_offering_for_the_same_customer_and_address_is_not_a_duplicate(
    api_writer, plan, manual_area
):
    PlanFactory(code="fibre-100", download_mbps=100)
    party = new_customer_party()
    api_writer.post(ORDERS, order_body(postcode=manual_area.postcode, party=party), format="json")

    other = api_writer.post(
        ORDERS,
        order_body(postcode=manual_area.postcode, party=party, offering="fibre-100"),
        format="json",
    )

    assert other.status_code == 201
    assert Order.objects.filter(status=OrderStatus.SUBMITTED).count() == 2


# --- twins: the same key at the same moment ---------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_concurrent_twins_with_one_key_give_one_order_and_the_loser_is_a_replay(
    make_api_client, plan, manual_area, run_in_threads, monkeypatch
):
    # Given two copies of one request (same Idempotency-Key, same body), each past the check
    # for an earlier answer before either has committed
    writer = make_api_client("read", "create", name="crm")
    body = order_body(postcode=manual_area.postcode)
    both_checked = threading.Barrier(2, timeout=30)
    checked = threading.local()
    real_replay = ProductOrderList._replay

    def replay_then_wait_for_the_twin(self, *args, **kwargs):
        answer = real_replay(self, *args, **kwargs)
        if not getattr(checked, "once", False):
            checked.once = True
            both_checked.wait()
        return answer

    monkeypatch.setattr(ProductOrderList, "_replay", replay_then_wait_for_the_twin)

    def post():
        caller = APIClient()
        caller.credentials(HTTP_AUTHORIZATION=f"Bearer {writer.token}")
        return caller.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="crm-twin-1")

    # When both are sent at once
    answers = run_in_threads(post, post)

    # Then both answer 201 with the one order, and exactly one of them says it is a replay
    assert [a.status_code for a in answers] == [201, 201], [a.content for a in answers]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert Order.objects.count() == 1
    assert sorted(a.headers.get("Idempotent-Replayed", "") for a in answers) == ["", "true"]


# --- counted for the duplicate-entry KPI (orders.models.duplicates) --------------------------
def counted() -> list[tuple[str, str, str]]:
    return list(DuplicateEntry.objects.order_by("id").values_list("kind", "order_id", "channel"))


def test_the_api_counts_a_refused_duplicate_once(api_writer, plan, manual_area):
    body = order_body(postcode=manual_area.postcode)
    first = api_writer.post(ORDERS, body, format="json").json()

    post_refused(api_writer, body, status=409)

    assert counted() == [(DuplicateKind.REFUSED, first["id"], "api")]


def test_the_api_counts_each_replay_of_a_key(api_writer, plan, manual_area):
    body = order_body(postcode=manual_area.postcode)
    headers = {"HTTP_IDEMPOTENCY_KEY": "crm-77"}
    first = api_writer.post(ORDERS, body, format="json", **headers).json()

    for _ in range(2):
        assert api_writer.post(ORDERS, body, format="json", **headers).status_code == 201

    assert counted() == [(DuplicateKind.REPLAYED, first["id"], "api")] * 2
