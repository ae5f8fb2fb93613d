"""Property-based fuzz of our TMF622 API against the official swagger (schemathesis): no 5xx and
no answer outside the contract.

The swagger is loaded FROM ITS FILE in the repository's specs/ (the test fails when it is absent)
and each request goes in-process to the Django WSGI application (``config.wsgi.application``)
under the spec's basePath, with the bearer token of an all-scopes client. Operations: every
productOrder and cancelProductOrder one (GET list, POST, GET by id, PATCH, DELETE); /listener/*
are the client's own endpoints and /hub is fuzzed with the hub, so both are left out.

Checks on every answer: not_a_server_error, status_code_conformance, content_type_conformance,
response_schema_conformance. Three answers are right although the swagger does not list them,
each handled where the check runs (``_check``): a ``fields=`` selection is a partial
representation (TMF630), checked against the definition without its ``required`` list; a 204
has no body, so no media type; 415 answers schemathesis' own wrong-media-type probes.

How the positive paths are reached, not only the validation ones: the database holds a plan,
a serviceable and a manual area, and orders that are completed, awaiting the team, received,
scheduled and cancelled (with its cancellation request). Schema-local hooks turn part of the
generated cases into meaningful ones: a create body keeps its generated attributes but gets one
``add`` item for the real offering at the serviceable address and a new customer; a path ``id``
becomes a seeded order or cancellation id; a cancellation names a seeded open order; a patch
keeps only what may change (externalId, note, requestedStartDate). The rest is what
schemathesis draws (positive and negative modes, and its coverage phase on the operations with
small inputs), which exercises the validation paths.

Bounded for CI (about 30 s): MAX_EXAMPLES draws per operation, derandomized with a fixed seed,
no deadline; the call counts per operation and status are printed after the run. A failure
prints schemathesis' report (the failed check, the answer, a curl line of the request; the
token is filtered) and, being derandomized, comes again with
``pytest tests/tmf/test_tmf622_fuzz.py -k "<METHOD> and <path word>"``.
"""

from __future__ import annotations

import datetime
import itertools
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests.tmf import specs
from tests.tmf.conftest import ApiCaller
from tests.tmf.product_order_bodies import CANCELS, ORDERS, new_customer_party, order_body
from tests.tmf.schema import assert_valid

pytestmark = pytest.mark.django_db

SPEC = "TMF622"
MAX_EXAMPLES = 40
SEED = 622
# Excluded rather than the others included: schemathesis ORs include filters with its
# per-operation configuration, which would let every operation back in.
NOT_OURS = r"^/(listener|hub)(/|$)"
SERVICEABLE = "SW1A 1AA"
JSON_UTF8 = "application/json; charset=utf-8"
# Generated top-level text kept in the steered cases (see _clean).
CREATE_TEXT = {"externalId", "requestedStartDate", "description", "category", "priority"}
PATCHABLE_TEXT = {"externalId", "requestedStartDate"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass(frozen=True)
class World:
    """What the fuzz aims at: the client's token, the offering on sale, ids that exist."""

    token: str
    offering: str
    orders: tuple[str, ...]
    cancellable: tuple[str, ...]
    cancels: tuple[str, ...]


# The hooks are attached when the module is collected; they read the seeded world of the
# running test from here when they draw.
_seeded: dict[str, World] = {}
_people = itertools.count(1)
# "METHOD /path -> status": how many generated calls got that answer.
CALLS: dict[str, int] = {}


def seeded() -> World:
    return _seeded["world"]


@pytest.fixture(scope="module", autouse=True)
def fuzz_summary(request: pytest.FixtureRequest) -> Iterator[None]:
    started = time.monotonic()
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is None or capture is None or not CALLS:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(
            f"TMF622 fuzz: {sum(CALLS.values())} calls in {time.monotonic() - started:.1f} s"
        )
        for label, count in sorted(CALLS.items()):
            reporter.write_line(f"  {label}: {count}")


@pytest.fixture
def in_process_wsgi() -> Iterator[None]:
    """Requests reach Django in this thread, inside the test's transaction: as Django's test
    client does, keep the request signals from closing that connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(
    django_capture_on_commit_callbacks: Callable[..., Any],
    plan: Any,
    serviceable_area: Any,
    manual_area: Any,
    api_all: ApiCaller,
) -> World:
    def place(**body: Any) -> str:
        response = api_all.post(ORDERS, order_body(**body), format="json")
        assert response.status_code == 201, response.content
        return response.json()["id"]

    with django_capture_on_commit_callbacks(execute=True):
        completed = place(postcode=SERVICEABLE, street="1 Seed Street")
        waiting = place(postcode=manual_area.postcode, street="2 Seed Street")
    received = place(postcode=SERVICEABLE, street="3 Seed Street")
    later = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    scheduled = place(postcode=SERVICEABLE, street="4 Seed Street", requestedStartDate=later)
    cancelled = place(postcode=SERVICEABLE, street="5 Seed Street")
    cancel = api_all.post(CANCELS, {"productOrder": {"id": cancelled}}, format="json")
    assert cancel.status_code == 201, cancel.content
    _seeded["world"] = World(
        token=api_all.token,
        offering=plan.code,
        orders=(completed, waiting, received, scheduled, cancelled),
        cancellable=(waiting, received, scheduled),
        cancels=(cancel.json()["id"],),
    )
    return _seeded["world"]


def _clean(generated: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """The generated top-level text attributes among ``names``."""
    return {
        key: value for key, value in generated.items() if key in names and isinstance(value, str)
    }


def _sellable(generated: dict[str, Any]) -> dict[str, Any]:
    """One orderable item for a new customer, carrying the generated text attributes a create
    reads or may ignore (externalId, requestedStartDate, description, ...)."""
    n = next(_people)
    valid = order_body(
        postcode=SERVICEABLE,
        offering=seeded().offering,
        street=f"{n} Fuzz Street",
        party=new_customer_party(name=f"Fuzz Customer {n}", email=f"fuzz{n}@example.com"),
    )
    return {**_clean(generated, CREATE_TEXT), **valid}


def _hooks(schema: Any) -> None:
    """Schema-local hooks (no other schemathesis test sees them) steering part of the cases to
    the positive paths."""

    def is_operation(ctx: Any, label: str) -> bool:
        return ctx.operation is not None and ctx.operation.label == label

    @schema.hook
    def flatmap_body(ctx: Any, body: Any) -> st.SearchStrategy[Any]:
        if not isinstance(body, dict):
            return st.just(body)
        if is_operation(ctx, "POST /productOrder"):
            return st.booleans().map(lambda sellable: _sellable(body) if sellable else body)
        if is_operation(ctx, "POST /cancelProductOrder"):
            return st.one_of(
                st.just(body),
                st.deferred(lambda: st.sampled_from(seeded().cancellable)).map(
                    lambda order: {**body, "productOrder": {"id": order}}
                ),
            )
        if is_operation(ctx, "PATCH /productOrder/{id}"):
            return st.sampled_from(
                [body, _clean(body, PATCHABLE_TEXT), _clean(body, {"externalId"})]
            )
        return st.just(body)

    @schema.hook
    def flatmap_path_parameters(ctx: Any, parameters: Any) -> st.SearchStrategy[Any]:
        if not isinstance(parameters, dict) or "id" not in parameters:
            return st.just(parameters)
        cancels = ctx.operation.path.startswith("/cancelProductOrder")
        return st.one_of(
            st.just(parameters),
            st.deferred(
                lambda: st.sampled_from(seeded().cancels if cancels else seeded().orders)
            ).map(lambda known: {**parameters, "id": known}),
        )


def _load_schema() -> Any:
    """The official swagger, read from its file when the module is collected (None if absent)."""
    path = specs.path_of(SPEC)
    if not path.is_file():
        return None
    # The coverage phase walks every boundary of every attribute of a body: for the
    # ProductOrder bodies of create and patch, ~10,000 calls (some 150 s), so in CI it runs on
    # the operations with small inputs only. TMF_FUZZ_THOROUGH=1 runs it everywhere, with five
    # times the draws.
    thorough = os.environ.get("TMF_FUZZ_THOROUGH") == "1"
    big_bodies = ("POST /productOrder", "PATCH /productOrder/{id}")
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "max-examples": MAX_EXAMPLES * (5 if thorough else 1),
                "deterministic": True,
            },
            "operations": []
            if thorough
            else [
                {"include-name": name, "phases": {"coverage": {"enabled": False}}}
                for name in big_bodies
            ],
        }
    )
    loaded = schemathesis.openapi.from_path(path, config=config)
    loaded.app = application
    _hooks(loaded)
    return loaded.exclude(path_regex=NOT_OURS)


def _check(case: Any, response: Any) -> None:
    excluded = []
    projected = bool(case.query and case.query.get("fields")) and response.status_code == 200
    if projected:
        # A fields= selection leaves out attributes the full resource requires: checked below
        # against the official definition without its required list.
        excluded.append(response_schema_conformance)
    if response.status_code == 204:
        # 204 No Content has no body, hence no media type (RFC 9110 15.3.5): the swagger's
        # global "produces" cannot apply to it.
        excluded.append(content_type_conformance)
        assert response.content == b""
    case.validate_response(response, checks=CHECKS, excluded_checks=excluded)
    if response.status_code == 415:
        # Not in the swagger, but the right answer to schemathesis' probes that send a body in
        # a media type the operation does not consume (not_a_server_error expects it there).
        assert response.headers["content-type"] == [JSON_UTF8]
        assert_valid(SPEC, "Error", response.json())
    if projected:
        body = response.json()
        definition = "CancelProductOrder" if "cancel" in case.operation.path else "ProductOrder"
        for entry in body if isinstance(body, list) else [body]:
            assert_valid(SPEC, definition, entry, projection=True)


schema = _load_schema()

if schema is None:

    def test_tmf622_answers_conform_to_the_official_swagger() -> None:
        pytest.fail(specs.missing(SPEC))

else:

    @schema.parametrize()
    # The seeded world is meant to be shared by all the examples of one operation. The
    # generation-side health checks (examples too large, too slow, too filtered) judge
    # hypothesis' own drawing from the swagger's deep ProductOrder schema, not our answers: a
    # PATCH run on PostgreSQL once stopped on data_too_large with every answer correct.
    @settings(
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.data_too_large,
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
        ]
    )
    def test_tmf622_answers_conform_to_the_official_swagger(
        case: Any, world: World, in_process_wsgi: None
    ) -> None:
        response = case.call(headers={"Authorization": f"Bearer {world.token}"})
        label = f"{case.operation.label} -> {response.status_code}"
        CALLS[label] = CALLS.get(label, 0) + 1
        _check(case, response)
