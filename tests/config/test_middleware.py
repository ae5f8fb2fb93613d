"""While the database is down (config/middleware.py, tmf/errors.py): every page and API call
answers 503 with Retry-After, never a 500, and the answer itself needs no database."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connections
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tmf.clients import api_client_create

pytestmark = pytest.mark.django_db

ORDERS_API = "/tmf-api/productOrderingManagement/v4/productOrder"


@pytest.fixture
def database_down(monkeypatch):
    """From here on, every query fails as it does with the server stopped: connecting is
    refused."""

    def refuse() -> None:
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: refused')

    def stop() -> None:
        monkeypatch.setattr(connections["default"], "ensure_connection", refuse)

    return stop


def signed_in(user) -> Client:
    # As a server answers: an exception becomes a response, it is not raised into the test.
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def assert_plain_503(response) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "Temporarily unavailable" in page
    assert "try again in 30 seconds" in page
    assert "Sign out" not in page  # no navigation: nothing that needs the signed-in user


def test_a_portal_page_answers_503_with_retry_after_while_the_database_is_down(
    sales_user, database_down
):
    # Given a signed-in rep (the session and user are in the database)
    client = signed_in(sales_user)
    database_down()
    # When they open their worklist
    response = client.get(reverse("portal:sales_home"))
    # Then a plain "come back in 30 seconds" page, not a server error
    assert_plain_503(response)


def test_a_staff_page_whose_view_queries_answers_503(sales_user, database_down):
    client = signed_in(sales_user)
    database_down()
    assert_plain_503(client.get(reverse("orders:new")))


def test_signing_in_answers_503_while_the_database_is_down(sales_user, database_down):
    # Given the sign-in page, and the database going down before the form is sent
    client = Client(raise_request_exception=False)
    assert client.get(reverse("login")).status_code == 200
    database_down()
    # When someone signs in
    response = client.post(reverse("login"), {"username": "sales-user", "password": "password"})
    # Then they are told to come back, not shown an error
    assert_plain_503(response)


def test_the_sign_in_page_with_an_old_session_answers_503(sales_user, database_down):
    client = signed_in(sales_user)
    database_down()
    assert_plain_503(client.get(reverse("login")))


def test_an_api_list_answers_503_with_a_tmf_error_and_retry_after(database_down):
    # Given a client system with a valid token
    _, token = api_client_create("crm", ("read",))
    caller = APIClient(raise_request_exception=False)
    caller.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    database_down()
    # When it lists product orders
    response = caller.get(ORDERS_API)
    # Then 503, with Retry-After and the TMF error body
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    error = response.json()
    assert error["code"] == "SERVICE_UNAVAILABLE"
    assert error["status"] == "503"
    assert error["reason"] == "Service unavailable"
    assert "30 seconds" in error["message"]
