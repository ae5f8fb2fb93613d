"""The real FreeRADIUS and the NAS simulator, one of each per test session (harness.py,
nas.py), and per test: settings that route the subscriber's tasks to the RadiusAdapter (the
rest to the simulator), and empty RADIUS tables at the end."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from django.conf import settings as django_settings

from tests.radius.harness import FREERADIUS, SECRET, Harness, harness_start, server_of
from tests.radius.nas import NasSimulator

RADIUS_TASKS = (
    "create_subscriber",
    "apply_speed_profile",
    "suspend_service",
    "resume_service",
    "bind_address",
)
TABLES = "radcheck, radreply, radgroupcheck, radgroupreply, radusergroup, radacct, radpostauth, nas"


@dataclass
class Lab:
    harness: Harness
    nas: NasSimulator

    def query(self, text: str, *params: object) -> list[tuple]:
        """Read the RADIUS database as its owner (what an operator would look at)."""
        with self.harness.connect_admin() as conn:
            return conn.execute(text, params).fetchall()  # type: ignore[arg-type]

    def admin(self) -> psycopg.Connection:
        return self.harness.connect_admin()


@pytest.fixture(scope="session")
def radius_lab() -> Iterator[Lab]:
    if not FREERADIUS.exists():
        pytest.skip(
            "FreeRADIUS is not installed (/usr/sbin/freeradius): apt-get install "
            "freeradius freeradius-postgresql freeradius-utils"
        )
    harness, own = harness_start(server_of(django_settings.DATABASES["default"]))
    nas = NasSimulator(auth_port=harness.auth_port, acct_port=harness.acct_port, secret=SECRET)
    try:
        yield Lab(harness=harness, nas=nas)
    finally:
        nas.stop()
        harness.stop(own_cluster=own)


@pytest.fixture
def radius(radius_lab: Lab, settings) -> Iterator[Lab]:
    """This test's tasks of the subscriber go to FreeRADIUS; its tables are emptied after."""
    settings.PROVISIONING_NETWORK_ADAPTER = "provisioning.adapters.routed.RoutedNetworkAdapter"
    settings.PROVISIONING_TASK_ADAPTERS = {
        task: "provisioning.adapters.radius.RadiusAdapter" for task in RADIUS_TASKS
    }
    settings.RADIUS_DATABASE_URL = radius_lab.harness.adapter_url()
    settings.RADIUS_COA_PORT = radius_lab.nas.coa_port
    settings.RADIUS_COA_SECRET = SECRET
    # Long enough for a loaded CI machine; the silent NAS test waits it out 4 times.
    settings.RADIUS_COA_TIMEOUT_SECONDS = 1.0
    settings.RADIUS_COA_RETRIES = 1
    settings.RADIUS_SUSPEND_MODE = "reject"
    radius_lab.nas.reset()
    yield radius_lab
    radius_lab.nas.reset()
    with radius_lab.admin() as conn:
        conn.execute(f"TRUNCATE {TABLES}, oa_holding")  # type: ignore[arg-type]
