"""Who may call TMF622, and with what: bearer tokens of registered client systems, their scopes,
how a token is issued (create_api_client) and kept (hashed), and what a read client sees (every
order of the ISP: the API is for the ISP's own systems, not for customers)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from orders.models import Order
from orders.states import OrderStatus
from tests.factories import submit_order
from tests.tmf.conftest import TMF622
from tests.tmf.product_order_bodies import CANCELS, ORDERS, order_body, row_counts
from tmf.models import ApiClient, CancelProductOrder

pytestmark = pytest.mark.django_db


def _unauthorized(response):
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert (body["code"], body["status"], body["@type"]) == ("UNAUTHORIZED", "401", "Error")
    return body


# --- authentication -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ota_not-a-token-we-issued", "Bearer", "Basic dXNlcjpwYXNz"],
    ids=["no-token", "unknown-token", "empty-bearer", "basic"],
)
def test_calls_without_a_valid_token_are_401_with_a_bearer_challenge(
    plan, submitted_order, authorization
):
    caller = APIClient()
    if authorization:
        caller.credentials(HTTP_AUTHORIZATION=authorization)

    _unauthorized(caller.get(ORDERS))
    _unauthorized(caller.get(f"{ORDERS}/{submitted_order.pk}"))
    before = row_counts()
    _unauthorized(caller.post(ORDERS, order_body(postcode="IV1 1AA"), format="json"))
    assert row_counts() == before


def test_an_inactive_clients_token_is_refused(api_all, submitted_order):
    assert api_all.get(ORDERS).status_code == 200
    ApiClient.objects.filter(pk=api_all.client_row.pk).update(is_active=False)

    _unauthorized(api_all.get(ORDERS))


def test_token_is_stored_only_as_its_hash(make_api_client):
    caller = make_api_client("read", name="billing")

    row = ApiClient.objects.get(pk=caller.client_row.pk)
    assert row.token_hash != caller.token
    columns = {field.attname: getattr(row, field.attname) for field in ApiClient._meta.fields}
    columns.update(
        {field.attname: getattr(row.user, field.attname) for field in row.user._meta.fields}
    )
    assert not [name for name, value in columns.items() if caller.token in str(value)]
    # The hint helps recognise a token; it is far too short to use as one.
    assert caller.token.startswith(row.token_hint)
    assert len(row.token_hint) < len(caller.token) // 2


# --- scopes -------------------------------------------------------------------------------------
def _forbidden(response):
    assert response.status_code == 403, response.content
    body = response.json()
    assert (body["code"], body["status"]) == ("FORBIDDEN", "403")
    return body


def test_read_only_client_can_change_nothing(api_reader, plan, manual_area, completed_order):
    open_order = submit_order(plan=plan, area=manual_area).order
    before = (row_counts(), CancelProductOrder.objects.count())

    body = _forbidden(
        api_reader.post(ORDERS, order_body(postcode=manual_area.postcode), format="json")
    )
    assert "'create'" in body["message"]
    _forbidden(api_reader.patch(f"{ORDERS}/{open_order.pk}", {"externalId": "x"}, format="json"))
    _forbidden(api_reader.delete(f"{ORDERS}/{completed_order.pk}"))
    _forbidden(api_reader.post(CANCELS, {"productOrder": {"id": open_order.pk}}, format="json"))

    assert (row_counts(), CancelProductOrder.objects.count()) == before
    open_order.refresh_from_db()
    assert (open_order.status, open_order.external_id) == (OrderStatus.SUBMITTED, "")
    assert api_reader.get(f"{ORDERS}/{completed_order.pk}").status_code == 200


def test_create_client_without_read_cannot_read_orders(make_api_client, submitted_order):
    writer_only = make_api_client("create")

    _forbidden(writer_only.get(ORDERS))
    _forbidden(writer_only.get(f"{ORDERS}/{submitted_order.pk}"))
    _forbidden(writer_only.get(CANCELS))


def test_create_client_without_read_may_still_place_orders(make_api_client, plan, manual_area):
    writer_only = make_api_client("create")

    response = writer_only.post(ORDERS, order_body(postcode=manual_area.postcode), format="json")

    assert response.status_code == 201
    assert Order.objects.filter(pk=response.json()["id"]).exists()


def test_create_scope_does_not_allow_cancelling_or_deleting(api_writer, submitted_order):
    _forbidden(
        api_writer.post(CANCELS, {"productOrder": {"id": submitted_order.pk}}, format="json")
    )
    _forbidden(api_writer.delete(f"{ORDERS}/{submitted_order.pk}"))

    submitted_order.refresh_from_db()
    assert submitted_order.status == OrderStatus.AWAITING_MANUAL


# --- issuing tokens -----------------------------------------------------------------------------
def _create_client(*args: str) -> str:
    out = StringIO()
    call_command("create_api_client", *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def test_create_api_client_prints_a_working_token_last(plan, manual_area):
    token = _create_client("crm", "--scopes", "read,create")

    caller = APIClient()
    caller.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    placed = caller.post(ORDERS, order_body(postcode=manual_area.postcode), format="json")
    assert placed.status_code == 201
    assert caller.get(placed["Location"]).status_code == 200
    client = ApiClient.objects.get(name="crm")
    assert client.scopes == ["read", "create"]
    assert Order.objects.get(pk=placed.json()["id"]).submitted_by == client.user


def test_create_api_client_refuses_an_unknown_scope():
    with pytest.raises(CommandError, match="Unknown scope 'admin'"):
        _create_client("crm", "--scopes", "read,admin")

    assert not ApiClient.objects.exists()


def test_create_api_client_refuses_a_second_client_of_the_same_name():
    _create_client("crm")

    with pytest.raises(CommandError, match="--rotate"):
        _create_client("crm")


def test_rotating_a_token_stops_the_old_one_at_once(submitted_order):
    old = _create_client("crm", "--scopes", "read")
    new = _create_client("crm", "--rotate", "--scopes", "read")
    caller = APIClient()

    caller.credentials(HTTP_AUTHORIZATION=f"Bearer {old}")
    _unauthorized(caller.get(ORDERS))
    caller.credentials(HTTP_AUTHORIZATION=f"Bearer {new}")
    assert caller.get(ORDERS).status_code == 200


# --- what a read client sees --------------------------------------------------------------------
def test_a_read_client_sees_every_order_of_the_isp_whichever_channel_took_it(
    make_api_client, api_reader, plan, manual_area, sales_user
):
    # The API serves the ISP's own systems (CRM, billing), so it sees orders from the sales form
    # and from other client systems alike, not only its own.
    from_sales_form = submit_order(plan=plan, area=manual_area, submitted_by=sales_user).order
    crm = make_api_client("read", "create", name="crm")
    from_crm = crm.post(ORDERS, order_body(postcode=manual_area.postcode), format="json").json()

    listed = api_reader.get(ORDERS).json()

    assert {entry["id"] for entry in listed} == {from_sales_form.pk, from_crm["id"]}
    fetched = api_reader.get(f"{ORDERS}/{from_sales_form.pk}").json()
    assert fetched["channel"][0]["id"] == "sales_portal"
    assert fetched["relatedParty"][0]["id"] == str(from_sales_form.customer_id)


def test_orders_api_answers_only_json_errors_under_its_base_path(api_reader):
    response = api_reader.get(f"{TMF622}/productOrders")

    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
