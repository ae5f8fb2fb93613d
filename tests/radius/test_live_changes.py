"""Done when (issue 13): changes to a live line reach FreeRADIUS and the open session. A plan
change moves the subscriber to the new group and changes the session's rate by CoA (a NAS that
refuses CoA gets a Disconnect; one that answers nothing makes the task fail transiently, after
the rows are written); a suspension bars the subscriber and takes it offline (or, in
walled-garden mode, fences the session in), a resumption lifts the bar; a cease disconnects the
session, removes the authorisation rows and keeps the accounting history."""

from __future__ import annotations

import pytest

from inventory.models import ProductStatus
from orders.states import ItemAction, ItemChange, OrderStatus
from provisioning.adapters.radius import store
from provisioning.models import ExceptionCase, FulfilmentTask, ReasonCode, TaskAttempt, TaskState
from provisioning.services import exception_case_retry
from tests.factories import PlanFactory
from tests.radius.ordering import activate, change, line_of, password_of, username_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def online(radius, plan, serviceable_area, django_capture_on_commit_callbacks):
    """Jane's Fibre 500 (500/100) activated, her router dialled in: one open session."""
    order = activate(django_capture_on_commit_callbacks, plan=plan, area=serviceable_area)
    dial = radius.nas.dial(username_of(order), password_of(order))
    assert dial.accepted and dial.session is not None
    return order


def _task(order, task_type: str) -> FulfilmentTask:
    return FulfilmentTask.objects.get(order=order, task_type=task_type)


def test_a_live_upgrade_changes_the_open_sessions_rate_by_coa(
    radius, online, django_capture_on_commit_callbacks
):
    gigabit = PlanFactory(code="fibre-900", download_mbps=900, upload_mbps=200)

    upgrade = change(
        django_capture_on_commit_callbacks, line_of(online), ItemChange.PLAN, offering=gigabit
    )

    assert upgrade.status == OrderStatus.COMPLETED
    # The session is still up, now at the new rate, told by one CoA the NAS acknowledged
    [session] = radius.nas.online(username_of(online))
    assert session.policy["Mikrotik-Rate-Limit"] == "200M/900M"
    assert session.policy["WISPr-Bandwidth-Max-Down"] == 900_000_000
    assert [(kind, answer) for kind, _, answer in radius.nas.received] == [("CoA-Request", "ACK")]
    assert "CoA-ACK x1" in _task(upgrade, "apply_speed_profile").network_reference
    # ... and the subscriber is in the new plan's group: the next sign-in gets it too
    assert radius.query("SELECT groupname FROM radusergroup") == [("plan-fibre-900",)]


def test_a_nas_that_naks_the_coa_gets_a_disconnect_and_the_router_comes_back_at_the_new_rate(
    radius, online, django_capture_on_commit_callbacks
):
    radius.nas.behaviour = "nak-coa"
    gigabit = PlanFactory(code="fibre-900", download_mbps=900, upload_mbps=200)

    upgrade = change(
        django_capture_on_commit_callbacks, line_of(online), ItemChange.PLAN, offering=gigabit
    )

    assert upgrade.status == OrderStatus.COMPLETED
    assert [(kind, answer) for kind, _, answer in radius.nas.received] == [
        ("CoA-Request", "NAK"),
        ("Disconnect-Request", "ACK"),
    ]
    reference = _task(upgrade, "apply_speed_profile").network_reference
    assert "CoA-NAK x1" in reference and "Disconnect-ACK x1" in reference
    # The old session is closed in radacct; the router redials and gets the new plan
    assert radius.query("SELECT count(*) FROM radacct WHERE acctstoptime IS NULL") == [(0,)]
    assert radius.nas.online(username_of(online)) == []
    redial = radius.nas.dial(username_of(online), password_of(online))
    assert redial.accepted and redial.attributes["Mikrotik-Rate-Limit"] == "200M/900M"


def test_a_nas_that_answers_nothing_fails_the_task_transiently_after_the_rows_are_written(
    radius, online, django_capture_on_commit_callbacks, settings, lead_user
):
    radius.nas.behaviour = "silent"
    settings.PROVISIONING_MAX_AUTO_ATTEMPTS = 2
    gigabit = PlanFactory(code="fibre-900", download_mbps=900, upload_mbps=200)

    upgrade = change(
        django_capture_on_commit_callbacks, line_of(online), ItemChange.PLAN, offering=gigabit
    )

    # Each attempt is on record as a transient timeout naming the NAS, and was retried
    attempts = list(
        TaskAttempt.objects.filter(order_id=upgrade.pk)
        .order_by("number")
        .values_list("error_code", "transient", "error_message")
    )
    assert len(attempts) == 2
    for code, transient, message in attempts:
        assert (code, transient) == (ReasonCode.NETWORK_TIMEOUT, True)
        assert "127.0.0.1" in message
    # ... each tried CoA, then Disconnect
    assert [kind for kind, _, _ in radius.nas.received] == [
        "CoA-Request",
        "Disconnect-Request",
    ] * 2
    # ... the group was changed before any packet (the next sign-in has the new plan)
    assert radius.query("SELECT groupname FROM radusergroup") == [("plan-fibre-900",)]

    # When the NAS answers again, a retry of the task pushes the new rate to the session
    radius.nas.behaviour = "answer"
    case = ExceptionCase.objects.get(order_id=upgrade.pk)
    with django_capture_on_commit_callbacks(execute=True):
        exception_case_retry(case, acting_user=lead_user)
    assert _task(upgrade, "apply_speed_profile").state == TaskState.DONE
    [session] = radius.nas.online(username_of(online))
    assert session.policy["Mikrotik-Rate-Limit"] == "200M/900M"


def test_a_suspended_subscriber_is_disconnected_and_rejected_and_a_resumed_one_signs_in(
    radius, online, django_capture_on_commit_callbacks
):
    line = line_of(online)

    suspended = change(django_capture_on_commit_callbacks, line, ItemChange.SUSPEND)

    assert suspended.status == OrderStatus.COMPLETED
    line.refresh_from_db()
    assert line.status == ProductStatus.SUSPENDED
    # Not still online: the session was disconnected (and closed in radacct) ...
    assert radius.nas.online(username_of(online)) == []
    assert radius.query("SELECT count(*) FROM radacct WHERE acctstoptime IS NULL") == [(0,)]
    # ... and it cannot sign in again
    assert not radius.nas.dial(username_of(online), password_of(online)).accepted

    resumed = change(django_capture_on_commit_callbacks, line, ItemChange.RESUME)

    assert resumed.status == OrderStatus.COMPLETED
    dial = radius.nas.dial(username_of(online), password_of(online))
    assert dial.accepted and dial.attributes["Mikrotik-Rate-Limit"] == "100M/500M"


def test_in_walled_garden_mode_a_suspension_fences_the_session_in_by_coa(
    radius, online, django_capture_on_commit_callbacks, settings
):
    settings.RADIUS_SUSPEND_MODE = "walled-garden"
    line = line_of(online)

    change(django_capture_on_commit_callbacks, line, ItemChange.SUSPEND)

    # The session stays up, moved into the walled garden by CoA
    [session] = radius.nas.online(username_of(online))
    assert session.policy["Filter-Id"] == "walled-garden"
    assert session.policy["Mikrotik-Address-List"] == "walled-garden"
    # ... a new sign-in lands there too, without the plan's speed
    radius.nas.reset()
    with radius.admin() as conn:  # the router's first session ended (a power cut)
        conn.execute("UPDATE radacct SET acctstoptime = now()")
    fenced = radius.nas.dial(username_of(online), password_of(online))
    assert fenced.accepted and fenced.attributes["Filter-Id"] == "walled-garden"
    assert "Mikrotik-Rate-Limit" not in fenced.attributes

    change(django_capture_on_commit_callbacks, line, ItemChange.RESUME)

    # The resumption pushes the plan back onto the session
    assert fenced.session is not None
    assert fenced.session.policy["Mikrotik-Rate-Limit"] == "100M/500M"
    assert radius.query("SELECT groupname FROM radusergroup") == [("plan-fibre-500",)]


def test_a_cease_disconnects_the_session_removes_the_subscriber_and_keeps_accounting(
    radius, plan, serviceable_area, django_capture_on_commit_callbacks
):
    order = activate(
        django_capture_on_commit_callbacks, plan=plan, area=serviceable_area, static_ip=True
    )
    assert radius.nas.dial(username_of(order), password_of(order)).accepted

    cease = change(django_capture_on_commit_callbacks, line_of(order), ItemAction.DELETE)

    assert cease.status == OrderStatus.COMPLETED
    # Offline: disconnected, its session closed in radacct ...
    assert radius.nas.online(username_of(order)) == []
    assert radius.query(
        "SELECT username, acctstoptime IS NOT NULL, acctterminatecause FROM radacct"
    ) == [(username_of(order), True, "Admin-Reset")]
    # ... no authorisation row left, so it cannot sign in
    for table in ("radcheck", "radreply", "radusergroup", "oa_holding"):
        assert radius.query(f"SELECT count(*) FROM {table}") == [(0,)], table  # noqa: S608
    assert not radius.nas.dial(username_of(order), password_of(order)).accepted


def test_the_nas_tables_secret_is_used_for_its_coa(
    radius, online, django_capture_on_commit_callbacks, settings
):
    # Given the NAS listed in the nas table with its secret, and a wrong default secret
    settings.RADIUS_COA_SECRET = "not-the-nas-secret"
    with radius.admin() as conn:
        conn.execute(
            "INSERT INTO nas (nasname, shortname, secret) VALUES ('127.0.0.1', 'bng-1', %s)",
            (radius.nas.secret,),
        )
    gigabit = PlanFactory(code="fibre-900", download_mbps=900, upload_mbps=200)

    change(django_capture_on_commit_callbacks, line_of(online), ItemChange.PLAN, offering=gigabit)

    # Then the NAS accepted the CoA: it was signed with the nas table's secret
    [session] = radius.nas.online(username_of(online))
    assert session.policy["Mikrotik-Rate-Limit"] == "200M/900M"


def test_the_read_helpers_tell_a_barred_subscriber_and_its_sessions(
    radius, online, django_capture_on_commit_callbacks
):
    username = username_of(online)
    with radius.admin() as conn:
        [before] = store.subscriber_states(conn, [username]).values()
        sessions = store.open_sessions(conn, [username])
    assert (before.exists, before.plan_group, before.barred) == (True, "plan-fibre-500", False)
    assert [s.username for s in sessions] == [username]

    change(django_capture_on_commit_callbacks, line_of(online), ItemChange.SUSPEND)

    with radius.admin() as conn:
        after = store.subscriber_states(conn, [username, "sub-nobody"])
        assert store.open_sessions(conn, [username]) == []
    assert after[username].rejected and not after[username].can_sign_in
    assert not after["sub-nobody"].exists
