"""The RADIUS database's roles and the adapter's guarantees that no order shows: the adapter's
role writes only the authorisation tables; a task done twice leaves the same rows, undone
twice succeeds; a RADIUS database that does not answer is a transient failure; plans are synced
from the catalogue by a command."""

from __future__ import annotations

import socket

import psycopg
import pytest
from django.core.management import call_command

from provisioning.adapters.base import TaskRequest
from provisioning.adapters.credentials import subscriber_password
from provisioning.adapters.radius import RadiusAdapter
from provisioning.models import ReasonCode
from tests.factories import PlanFactory
from tests.radius.harness import free_port

pytestmark = pytest.mark.django_db


def request(task_type: str, *, undo: bool = False, **identifiers: str) -> TaskRequest:
    return TaskRequest(
        order_id="K7M2Q9XW4R",
        item_id="1",
        task_type=task_type,
        attempt=1,
        postcode="SW1A1AA",
        address="9 Elm Row",
        exchange="Westminster",
        technology="fttp",
        offering_code="fibre-500",
        plan_code="fibre-500",
        download_mbps=500,
        upload_mbps=100,
        identifiers=identifiers,
        undo=undo,
    )


def all_rows(radius) -> list[tuple]:
    return radius.query(
        "SELECT 'check', username, attribute, value FROM radcheck UNION ALL "
        "SELECT 'reply', username, attribute, value FROM radreply UNION ALL "
        "SELECT 'group', username, groupname, priority::text FROM radusergroup UNION ALL "
        "SELECT 'plan', groupname, attribute, value FROM radgroupreply ORDER BY 1, 2, 3"
    )


def test_the_adapters_role_writes_authorisation_tables_only(radius, settings):
    with psycopg.connect(settings.RADIUS_DATABASE_URL, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO radcheck (username, attribute, op, value) VALUES ('u', 'x', ':=', 'y')"
        )
        conn.execute("SELECT count(*) FROM radacct")
        for statement in (
            "DELETE FROM radacct",
            "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress) "
            "VALUES ('s', 'u', 'u', '127.0.0.1')",
            "SELECT * FROM radpostauth",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)  # type: ignore[arg-type]


def test_a_task_done_twice_leaves_the_same_rows_and_undone_twice_succeeds(radius):
    adapter = RadiusAdapter()
    first = adapter.execute(request("create_subscriber"))
    rows = all_rows(radius)

    again = adapter.execute(request("create_subscriber"))

    assert first.ok and again.ok
    assert (again.network_reference, again.identifiers) == (
        first.network_reference,
        first.identifiers,
    )
    assert all_rows(radius) == rows
    assert [r[2] for r in rows if r[0] == "check"] == ["Cleartext-Password", "Simultaneous-Use"]
    # Undoing it twice: the first removes everything of it, the second finds nothing to do
    assert adapter.execute(request("create_subscriber", undo=True)).ok
    assert adapter.execute(request("create_subscriber", undo=True)).ok
    assert [r for r in all_rows(radius) if r[0] != "plan"] == []


def test_a_speed_profile_for_a_subscriber_radius_does_not_have_fails_for_good(radius):
    result = RadiusAdapter().execute(request("apply_speed_profile"))

    assert not result.ok and not result.transient
    assert result.error_code == ReasonCode.SPEED_PROFILE_FAILED


def test_a_radius_database_that_does_not_answer_is_a_transient_failure(radius, settings):
    settings.RADIUS_DATABASE_URL = (
        f"postgres://someone:hunter2secret@127.0.0.1:{free_port(socket.SOCK_STREAM)}/radius"
    )

    result = RadiusAdapter().execute(request("create_subscriber"))

    assert (result.ok, result.error_code, result.transient) == (
        False,
        ReasonCode.NETWORK_TIMEOUT,
        True,
    )
    assert "hunter2secret" not in result.error_message


def test_a_task_type_that_is_not_radius_business_is_a_failure_not_an_exception(radius):
    result = RadiusAdapter().execute(request("reserve_port"))

    assert not result.ok and result.error_code == ReasonCode.ADAPTER_ERROR


def test_radius_sync_plans_writes_each_plans_group_from_the_catalogue(radius, capsys):
    PlanFactory(code="fibre-80", download_mbps=80, upload_mbps=20)
    PlanFactory(code="fibre-2000", download_mbps=2000, upload_mbps=None)

    call_command("radius_sync_plans")
    call_command("radius_sync_plans")  # again: the same rows

    replies = radius.query(
        "SELECT groupname, attribute, value FROM radgroupreply ORDER BY groupname, attribute"
    )
    assert ("plan-fibre-80", "Mikrotik-Rate-Limit", "20M/80M") in replies
    assert ("plan-fibre-2000", "Mikrotik-Rate-Limit", "2000M/2000M") in replies  # symmetric
    assert ("walled-garden", "Filter-Id", "walled-garden") in replies
    assert len([r for r in replies if r[0] == "plan-fibre-80"]) == 4


def test_radius_setup_is_safe_to_run_again(radius, monkeypatch):
    harness = radius.harness
    admin = harness.admin
    monkeypatch.setenv("RADIUS_SERVER_DB_PASSWORD", "server-pw")

    call_command(
        "radius_setup",
        admin_url=f"postgres://{admin['user']}@{admin['host']}:{admin['port']}/{harness.database}",
        server_role=harness.server_role,
    )

    # FreeRADIUS and the adapter still work with their roles
    assert RadiusAdapter().execute(request("create_subscriber")).ok
    assert radius.nas.dial("sub-k7m2q9xw4r", subscriber_password("sub-k7m2q9xw4r")).accepted


def test_a_plan_saved_in_the_catalogue_rewrites_its_group(
    radius, django_capture_on_commit_callbacks
):
    # Given a plan whose group FreeRADIUS has
    with django_capture_on_commit_callbacks(execute=True):
        plan = PlanFactory(code="fibre-150", download_mbps=150, upload_mbps=30)
    rate = "SELECT value FROM radgroupreply WHERE groupname = %s AND attribute = %s"
    assert radius.query(rate, "plan-fibre-150", "Mikrotik-Rate-Limit") == [("30M/150M",)]

    # When its speed is changed in the catalogue
    plan.download_mbps, plan.upload_mbps = 200, 50
    with django_capture_on_commit_callbacks(execute=True):
        plan.save()

    # Then the group's replies follow, once
    assert radius.query(rate, "plan-fibre-150", "Mikrotik-Rate-Limit") == [("50M/200M",)]
    assert radius.query(
        "SELECT count(*) FROM radgroupreply WHERE groupname = 'plan-fibre-150'"
    ) == [(4,)]
