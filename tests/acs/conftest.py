"""The fake GenieACS (tests/acs/fake_genieacs.py) served for a test, with the adapter's
settings pointing at it."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.acs.fake_genieacs import FakeGenieAcs, FakeGenieAcsServer


@pytest.fixture
def acs_server(settings) -> Iterator[FakeGenieAcsServer]:
    server = FakeGenieAcsServer().start()
    settings.GENIEACS_URL = server.url
    settings.GENIEACS_USERNAME = ""
    settings.GENIEACS_PASSWORD = ""
    settings.GENIEACS_TIMEOUT_SECONDS = 5.0
    settings.GENIEACS_DATA_MODEL = "tr098"
    settings.GENIEACS_PPPOE_USERNAME_PATH = ""
    settings.GENIEACS_PPPOE_PASSWORD_PATH = ""
    settings.GENIEACS_CONNECTION_REQUEST = True
    yield server
    server.stop()


@pytest.fixture
def acs(acs_server: FakeGenieAcsServer) -> FakeGenieAcs:
    return acs_server.fake


@pytest.fixture
def unreachable_url() -> str:
    """A port on 127.0.0.1 that nothing listens on (bound, then let go): connection refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
