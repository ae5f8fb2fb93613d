"""Fixtures for the TM Forum API tests.

- ``make_api_client(*scopes, name=None)`` registers a client system through the real service
  and returns an ``ApiCaller``: a DRF test client with its bearer token set, plus ``.client``
  (the ApiClient row) and ``.token``.
- ``api_reader`` / ``api_writer`` / ``api_all``: callers with scopes read / read+create /
  all four.
- ``spec(name)`` (``tmf_spec`` fixture): the official swagger document, read from the
  repository's ``specs/`` (or TMF_SPECS_DIR); a test that needs an absent one fails.

- ``delivered_order(**overrides)`` (``delivered_order`` fixture): a 3-item order (the ``plan``
  line, a static IP, a router) at ``serviceable_area``, carried by the in-process flow to
  completion, so its items are products of the installed base (TMF637).

Paths: ``TMF622``, ``TMF679``, ``TMF620``, ``TMF637`` are the API base paths.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from orders.models import Order, Plan, ServiceArea
from tests.factories import RouterOfferingFactory, StaticIpOfferingFactory, submit_order
from tests.tmf import specs
from tmf.clients import api_client_create
from tmf.models import ApiClient

TMF622 = "/tmf-api/productOrderingManagement/v4"
TMF679 = "/tmf-api/productOfferingQualification/v4"
TMF620 = "/tmf-api/productCatalogManagement/v4"
TMF637 = "/tmf-api/productInventory/v4"

_names = itertools.count(1)


class ApiCaller(APIClient):
    client_row: ApiClient
    token: str


@pytest.fixture
def make_api_client(db: None) -> Callable[..., ApiCaller]:
    def make(*scopes: str, name: str | None = None) -> ApiCaller:
        client, token = api_client_create(name or f"system-{next(_names)}", scopes or ("read",))
        caller = ApiCaller()
        caller.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        caller.client_row = client
        caller.token = token
        return caller

    return make


@pytest.fixture
def api_reader(make_api_client: Callable[..., ApiCaller]) -> ApiCaller:
    return make_api_client("read", name="reader")


@pytest.fixture
def api_writer(make_api_client: Callable[..., ApiCaller]) -> ApiCaller:
    return make_api_client("read", "create", name="writer")


@pytest.fixture
def api_all(make_api_client: Callable[..., ApiCaller]) -> ApiCaller:
    return make_api_client("read", "create", "cancel", "subscribe", name="integrator")


@pytest.fixture
def tmf_spec() -> Callable[[str], dict[str, Any]]:
    return specs.load


@pytest.fixture
def delivered_order(
    django_capture_on_commit_callbacks: Any, plan: Plan, serviceable_area: ServiceArea
) -> Callable[..., Order]:
    def complete(**overrides: Any) -> Order:
        overrides.setdefault("plan", plan)
        overrides.setdefault("add_ons", (StaticIpOfferingFactory(), RouterOfferingFactory()))
        overrides.setdefault("area", serviceable_area)
        with django_capture_on_commit_callbacks(execute=True):
            order = submit_order(**overrides).order
        return Order.objects.get(pk=order.pk)

    return complete
