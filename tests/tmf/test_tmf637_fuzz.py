"""Property-based fuzz of our TMF637 API against the official swagger (schemathesis 4): no 5xx
and no answer outside the contract, as tests/tmf/test_tmf622_fuzz.py does for TMF622 (read it
for the machinery: the swagger loaded from its file, requests in-process to the WSGI
application with an all-scopes client's token, seeded and derandomized draws).

Operations: every one of ours in the swagger: product (GET list, GET by id, and POST, PATCH,
DELETE, which must answer the TMF 405 the swagger lists) and the hub (POST, DELETE); only
/listener/* is left out, being the client's own endpoints. The database holds the products of
a completed 3-item order; a generated path ``id`` is, in part of the cases, one of those
products or the seeded listener, so the positive paths are reached, not only the 404s. The
fuzzing phase only, MAX_EXAMPLES draws per operation (the bodies are never read: the resource
is read only).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from inventory.models import Product
from orders.models import Order
from tests.tmf import specs
from tests.tmf.conftest import TMF637, ApiCaller

SPEC = "TMF637"
MAX_EXAMPLES = 40
SEED = int(os.environ.get("TMF_FUZZ_SEED") or 637)
pytestmark = [pytest.mark.django_db, pytest.mark.timeout(240)]
NOT_OURS = r"^/listener(/|$)"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
GENERATION_HEALTH = [
    HealthCheck.function_scoped_fixture,
    HealthCheck.data_too_large,
    HealthCheck.too_slow,
    HealthCheck.filter_too_much,
]


@dataclass(frozen=True)
class World:
    token: str
    products: tuple[str, ...]
    listeners: tuple[str, ...]


_seeded: dict[str, World] = {}
# "METHOD /path -> status": how many generated calls got that answer.
CALLS: dict[str, int] = {}


def seeded() -> World:
    return _seeded["world"]


@pytest.fixture
def in_process_wsgi() -> Iterator[None]:
    """Requests reach Django in this thread, inside the test's transaction (as the test
    client does, the request signals must not close that connection)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(delivered_order: Callable[..., Order], api_all: ApiCaller) -> World:
    order = delivered_order()
    listener = api_all.post(
        f"{TMF637}/hub", {"callback": "https://maintenance.example.com/events"}, format="json"
    )
    assert listener.status_code == 201, listener.content
    _seeded["world"] = World(
        token=api_all.token,
        products=tuple(
            str(pk) for pk in Product.objects.filter(order=order).values_list("pk", flat=True)
        ),
        listeners=(listener.json()["id"],),
    )
    return _seeded["world"]


def _hooks(schema: Any) -> None:
    @schema.hook
    def flatmap_path_parameters(ctx: Any, parameters: Any) -> st.SearchStrategy[Any]:
        if not isinstance(parameters, dict) or "id" not in parameters:
            return st.just(parameters)
        path = ctx.operation.path

        def known() -> tuple[str, ...]:
            return seeded().listeners if path.startswith("/hub") else seeded().products

        return st.one_of(
            st.just(parameters),
            st.deferred(lambda: st.sampled_from(known())).map(
                lambda value: {**parameters, "id": value}
            ),
        )


def _load_schema() -> Any:
    path = specs.path_of(SPEC)
    if not path.is_file():
        return None
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": False},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
        }
    )
    loaded = schemathesis.openapi.from_path(path, config=config)
    loaded.app = application
    _hooks(loaded)
    return loaded.exclude(path_regex=NOT_OURS)


@pytest.fixture(scope="module", autouse=True)
def fuzz_summary(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is None or capture is None or not CALLS:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(f"TMF637 fuzz: {sum(CALLS.values())} calls")
        for label, count in sorted(CALLS.items()):
            reporter.write_line(f"  {label}: {count}")


schema = _load_schema()

if schema is None:

    def test_tmf637_answers_conform_to_the_official_swagger() -> None:
        pytest.fail(specs.missing(SPEC))

else:

    @schema.parametrize()
    @settings(suppress_health_check=GENERATION_HEALTH)
    def test_tmf637_answers_conform_to_the_official_swagger(
        case: Any, world: World, in_process_wsgi: None
    ) -> None:
        response = case.call(headers={"Authorization": f"Bearer {seeded().token}"})
        label = f"{case.method} {case.operation.path} -> {response.status_code}"
        CALLS[label] = CALLS.get(label, 0) + 1
        if response.status_code == 204:
            assert response.content == b""
        case.validate_response(response, checks=CHECKS)
