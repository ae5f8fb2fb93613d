"""Done when (issue 13, reconciliation), against a real FreeRADIUS and the NAS simulator: the
reconciliation finds a subscriber deleted behind the system's back and repairs it (it signs in
again with its plan's speed and address), finds a session left open for a ceased customer,
reports it and disconnects it once the NAS answers; a wrong plan group and a suspended
subscriber let in again are put right; with the simulator configured none of this is looked at."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from django.utils import timezone
from pyrad import packet

from orders.models import OutboxMessage
from provisioning.models import FulfilmentTask
from reconciliation.models import OPEN, Mismatch, MismatchKind
from reconciliation.repairs import REPAIR_TASK
from reconciliation.services import reconciliation_run
from tests.factories import PlanFactory
from tests.radius.conftest import Lab
from tests.radius.ordering import activate, change, line_of, password_of, username_of

pytestmark = pytest.mark.django_db

RADIUS_KINDS = {
    MismatchKind.RADIUS_SUBSCRIBER_MISSING,
    MismatchKind.RADIUS_WRONG_PLAN_GROUP,
    MismatchKind.RADIUS_BARRED_STATE_DIFFERS,
    MismatchKind.RADIUS_SESSION_FOR_INACTIVE_SUBSCRIBER,
}


@pytest.fixture(autouse=True)
def no_grace(settings) -> None:
    # Every line of a test is settled at once (the grace period has its own test).
    settings.RECONCILIATION_GRACE_MINUTES = 0


def open_of(kind: MismatchKind) -> list[Mismatch]:
    return list(Mismatch.objects.filter(OPEN, kind=kind))


def run(capture: Callable[..., object], **kwargs: object) -> object:
    """A reconciliation run whose repair tasks are handed to the (eager) worker on commit."""
    with capture(execute=True):  # type: ignore[operator]
        return reconciliation_run(**kwargs)  # type: ignore[arg-type]


@pytest.fixture
def nas_keeps_sessions(radius: Lab, monkeypatch) -> Iterator[dict[str, str]]:
    """The NAS simulator as a NAS that does not let sessions go: while ``mode["disconnect"]``
    is "keep" it acknowledges a Disconnect-Request and keeps the session (no Accounting
    Stop: radacct still shows it open), while it is "refuse" it NAKs it; "answer" is the
    simulator's own behaviour."""
    mode = {"disconnect": "answer"}
    handle = radius.nas._handle

    def handle_keeping(request: packet.CoAPacket) -> packet.Packet | None:
        if request.code != packet.DisconnectRequest or mode["disconnect"] == "answer":
            return handle(request)
        reply = request.CreateReply()
        if mode["disconnect"] == "refuse":
            reply.code = packet.DisconnectNAK
            reply["Error-Cause"] = "Session-Context-Not-Removable"
        radius.nas.received.append(("Disconnect-Request", {}, mode["disconnect"]))
        return reply

    monkeypatch.setattr(radius.nas, "_handle", handle_keeping)
    yield mode


def test_a_subscriber_deleted_behind_the_systems_back_is_found_and_made_again(
    radius, serviceable_area, django_capture_on_commit_callbacks, caplog, lead_user
):
    # Given a live 500/100 line with a static IP whose subscriber someone deleted straight in
    # the RADIUS database (its check and group rows)
    plan = PlanFactory(code="fibre-500", download_mbps=500, upload_mbps=100)
    order = activate(
        django_capture_on_commit_callbacks, plan=plan, area=serviceable_area, static_ip=True
    )
    line, username = line_of(order), username_of(order)
    address = FulfilmentTask.objects.get(order=order, task_type="allocate_address").result[
        "ipv4Address"
    ]
    with radius.admin() as conn:
        conn.execute("DELETE FROM radcheck WHERE username = %s", (username,))
        conn.execute("DELETE FROM radusergroup WHERE username = %s", (username,))
    assert not radius.nas.dial(username, password_of(order)).accepted

    # When the reconciliation runs
    caplog.set_level("INFO", logger="reconciliation")
    run(django_capture_on_commit_callbacks)

    # Then the drift is listed with its order and product, in words
    [mismatch] = open_of(MismatchKind.RADIUS_SUBSCRIBER_MISSING)
    assert (mismatch.order_id, mismatch.product_ref) == (order.pk, line.pk)
    assert f"Subscriber {username}" in mismatch.detail
    assert f"(active, order {order.display_id})" in mismatch.detail
    assert "missing from RADIUS" in mismatch.detail
    # ... and its repair task made the subscriber again: it signs in with the same
    # credentials, its plan's speed and its static address
    dial = radius.nas.dial(username, password_of(order))
    assert dial.accepted
    assert dial.attributes["Mikrotik-Rate-Limit"] == "100M/500M"
    assert dial.attributes["Framed-IP-Address"] == address
    # ... what it did is on the mismatch and in the log, and its message is done
    assert mismatch.repair.startswith("Repaired ")
    assert "create subscriber" in mismatch.repair and "bind address" in mismatch.repair
    assert "repaired radius_subscriber_missing for order " + order.pk in caplog.text
    assert password_of(order) not in mismatch.detail + mismatch.repair + caplog.text
    message = OutboxMessage.objects.get(task_name=REPAIR_TASK)
    assert message.completed_at is not None and message.order_id == order.pk
    # ... and the provisioning lead sees both on the reconciliation page, with the order
    page = Client()
    page.force_login(lead_user)
    row = page.get("/work/reconciliation/").content.decode()
    assert f"Subscriber {username}" in row and mismatch.repair in row
    assert order.display_id in row

    # When the next run looks, then it finds nothing: the mismatch is closed
    radius.nas.reset()
    run(django_capture_on_commit_callbacks, now=timezone.now() + datetime.timedelta(minutes=1))
    mismatch.refresh_from_db()
    assert mismatch.resolved_at is not None
    assert OutboxMessage.objects.filter(task_name=REPAIR_TASK).count() == 1


def test_a_session_left_open_for_a_ceased_customer_is_reported_and_disconnected_once_the_nas_answers(  # noqa: E501
    radius, plan, serviceable_area, django_capture_on_commit_callbacks, nas_keeps_sessions
):
    # Given a customer online whose line is ceased while the NAS keeps the session (it
    # acknowledges the Disconnect and never sends the Stop)
    order = activate(django_capture_on_commit_callbacks, plan=plan, area=serviceable_area)
    username = username_of(order)
    assert radius.nas.dial(username, password_of(order)).accepted
    nas_keeps_sessions["disconnect"] = "keep"
    change(django_capture_on_commit_callbacks, line_of(order), "delete")
    assert line_of(order).status == "terminated"
    assert radius.nas.online(username)

    # When the reconciliation runs while the NAS still refuses to let the session go
    nas_keeps_sessions["disconnect"] = "refuse"
    run(django_capture_on_commit_callbacks)

    # Then the open session is listed with the ceased line's order and product
    [mismatch] = open_of(MismatchKind.RADIUS_SESSION_FOR_INACTIVE_SUBSCRIBER)
    assert (mismatch.order_id, mismatch.product_ref) == (order.pk, line_of(order).pk)
    assert f"subscriber {username} still has 1 open session(s)" in mismatch.detail
    # ... its repair tried to disconnect it, says that the NAS refused, and is kept on record
    # to be tried again (not done, due one interval later)
    assert "refused" in mismatch.repair and "tried again in 60 min" in mismatch.repair
    message = OutboxMessage.objects.get(task_name=REPAIR_TASK)
    assert message.completed_at is None and message.failed_at is None
    assert message.not_before > timezone.now() + datetime.timedelta(minutes=59)
    assert radius.nas.online(username)
    # ... a run meanwhile sees it again, keeps the repair's note and asks for no second one
    run(django_capture_on_commit_callbacks, now=timezone.now() + datetime.timedelta(minutes=1))
    mismatch.refresh_from_db()
    assert mismatch.resolved_at is None and "refused" in mismatch.repair
    assert OutboxMessage.objects.filter(task_name=REPAIR_TASK).count() == 1
    # ... and the subscriber itself cannot sign in (the cease removed it)
    assert open_of(MismatchKind.RADIUS_BARRED_STATE_DIFFERS) == []

    # When the NAS answers again and the repair's time comes
    nas_keeps_sessions["disconnect"] = "answer"
    OutboxMessage.objects.filter(pk=message.pk).update(not_before=timezone.now())
    from orders.outbox import outbox_dispatch_due

    with django_capture_on_commit_callbacks(execute=True):
        outbox_dispatch_due()

    # Then the session is disconnected (radacct has its stop) and the repair is done
    assert not radius.nas.online(username)
    assert radius.query(
        "SELECT count(*) FROM radacct WHERE username = %s AND acctstoptime IS NULL", username
    ) == [(0,)]
    message.refresh_from_db()
    assert message.completed_at is not None
    mismatch.refresh_from_db()
    assert mismatch.repair.startswith("Repaired ")
    # ... and the next run closes the mismatch; its accounting history stays
    run(django_capture_on_commit_callbacks, now=timezone.now() + datetime.timedelta(minutes=2))
    mismatch.refresh_from_db()
    assert mismatch.resolved_at is not None
    assert radius.query("SELECT count(*) FROM radacct WHERE username = %s", username) == [(1,)]


def test_a_subscriber_in_another_plans_group_is_moved_back_and_its_session_changed_by_coa(
    radius, serviceable_area, django_capture_on_commit_callbacks
):
    # Given a live 500/100 line, online, moved by hand into a slower plan's group
    plan = PlanFactory(code="fibre-500", download_mbps=500, upload_mbps=100)
    PlanFactory(code="fibre-50", download_mbps=50, upload_mbps=10)
    order = activate(django_capture_on_commit_callbacks, plan=plan, area=serviceable_area)
    username = username_of(order)
    assert radius.nas.dial(username, password_of(order)).accepted
    with radius.admin() as conn:
        conn.execute(
            "UPDATE radusergroup SET groupname = 'plan-fibre-50' WHERE username = %s", (username,)
        )

    run(django_capture_on_commit_callbacks)

    [mismatch] = open_of(MismatchKind.RADIUS_WRONG_PLAN_GROUP)
    assert "is in plan-fibre-50 in RADIUS, not in plan-fibre-500" in mismatch.detail
    # The repair put it back in its plan's group and pushed the plan's rate to the session
    assert radius.query("SELECT groupname FROM radusergroup WHERE username = %s", username) == [
        ("plan-fibre-500",)
    ]
    [session] = radius.nas.online(username)
    assert session.policy["Mikrotik-Rate-Limit"] == "100M/500M"
    assert mismatch.repair.startswith("Repaired ")


def test_a_suspended_subscriber_let_in_again_is_barred_again(
    radius, plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given a suspended line whose reject rule someone removed: the customer signs in again
    order = activate(django_capture_on_commit_callbacks, plan=plan, area=serviceable_area)
    change(django_capture_on_commit_callbacks, line_of(order), "suspend")
    username = username_of(order)
    with radius.admin() as conn:
        conn.execute(
            "DELETE FROM radcheck WHERE username = %s AND attribute = 'Auth-Type'", (username,)
        )
    # ... and is online
    radius.nas.dial(username, password_of(order))

    # When the reconciliation runs without repairs (a person is to look first)
    from django.conf import settings

    settings.RECONCILIATION_RADIUS_REPAIR = False
    run(django_capture_on_commit_callbacks)

    # Then both drifts are listed, and nothing was changed
    [barred] = open_of(MismatchKind.RADIUS_BARRED_STATE_DIFFERS)
    assert "is suspended, but its subscriber" in barred.detail
    assert "it can sign in with full access" in barred.detail
    [session] = open_of(MismatchKind.RADIUS_SESSION_FOR_INACTIVE_SUBSCRIBER)
    assert f"subscriber {username} still has 1 open session(s)" in session.detail
    assert not OutboxMessage.objects.filter(task_name=REPAIR_TASK).exists()
    assert radius.nas.online(username)

    # When it runs with repairs on, then the subscriber is barred again and its session gone
    settings.RECONCILIATION_RADIUS_REPAIR = True
    run(django_capture_on_commit_callbacks, now=timezone.now() + datetime.timedelta(minutes=1))
    assert not radius.nas.dial(username, password_of(order)).accepted
    assert not radius.nas.online(username)
    run(django_capture_on_commit_callbacks, now=timezone.now() + datetime.timedelta(minutes=2))
    assert open_of(MismatchKind.RADIUS_BARRED_STATE_DIFFERS) == []
    assert open_of(MismatchKind.RADIUS_SESSION_FOR_INACTIVE_SUBSCRIBER) == []


def test_a_line_in_order_and_a_fresh_drift_are_not_mismatches(
    radius, plan, serviceable_area, django_capture_on_commit_callbacks, settings
):
    # Given a line in order, and another whose subscriber went missing a moment ago
    activate(django_capture_on_commit_callbacks, plan=plan, area=serviceable_area)
    run(django_capture_on_commit_callbacks)
    assert not Mismatch.objects.filter(kind__in=RADIUS_KINDS).exists()

    other = activate(
        django_capture_on_commit_callbacks, plan=plan, area=serviceable_area, email="b@example.com"
    )
    with radius.admin() as conn:
        conn.execute("DELETE FROM radcheck WHERE username = %s", (username_of(other),))
    # When a run looks within the grace period of the line's last change, then it waits
    settings.RECONCILIATION_GRACE_MINUTES = 30
    run(django_capture_on_commit_callbacks)
    assert not Mismatch.objects.filter(kind__in=RADIUS_KINDS).exists()
    # ... and once it is over it reports it
    run(django_capture_on_commit_callbacks, now=timezone.now() + datetime.timedelta(minutes=31))
    assert [m.order_id for m in open_of(MismatchKind.RADIUS_SUBSCRIBER_MISSING)] == [other.pk]


def test_with_the_simulator_none_of_the_radius_checks_looks_and_an_unreachable_radius_fails_them(
    settings, plan, serviceable_area, django_capture_on_commit_callbacks, monkeypatch
):
    # Given a live line on the simulator (no FreeRADIUS needed here): RADIUS has no subscriber
    order = activate(django_capture_on_commit_callbacks, plan=plan, area=serviceable_area)
    from provisioning.adapters.radius import store

    asked: list[str] = []
    connect = store.connect
    monkeypatch.setattr(store, "connect", lambda: asked.append("connect") or connect())

    # When a run looks with the simulator configured
    summary = run(django_capture_on_commit_callbacks)

    # Then no RADIUS check asked RADIUS anything, failed, or found anything
    assert asked == []
    assert not set(summary.failed) & RADIUS_KINDS  # type: ignore[attr-defined]
    assert not Mismatch.objects.filter(kind__in=RADIUS_KINDS).exists()

    # Given the subscribers routed to a FreeRADIUS whose database does not answer, and a
    # mismatch an earlier run found
    settings.PROVISIONING_NETWORK_ADAPTER = "provisioning.adapters.routed.RoutedNetworkAdapter"
    settings.PROVISIONING_TASK_ADAPTERS = {
        "create_subscriber": "provisioning.adapters.radius.RadiusAdapter"
    }
    settings.RADIUS_DATABASE_URL = "postgres://nobody@127.0.0.1:1/radius"
    settings.RADIUS_DATABASE_TIMEOUT_SECONDS = 1
    earlier = Mismatch.objects.create(
        kind=MismatchKind.RADIUS_SUBSCRIBER_MISSING,
        subject=str(line_of(order).pk),
        order_id=order.pk,
        detail="Subscriber missing.",
    )
    # When a run looks, then the RADIUS checks tried, failed, and left it open
    summary = run(django_capture_on_commit_callbacks)
    assert asked
    assert set(summary.failed) >= RADIUS_KINDS  # type: ignore[attr-defined]
    earlier.refresh_from_db()
    assert earlier.resolved_at is None


def _radius_check_queries() -> tuple[list[str], dict[str, int]]:
    """The app database's queries of one pass of the RADIUS checks, and the RADIUS batches."""
    from collections import Counter

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from provisioning.adapters import get_adapter
    from provisioning.adapters.radius import store
    from reconciliation.checks import CheckContext
    from reconciliation.checks_radius import RADIUS_CHECKS

    batches: Counter[str] = Counter()
    real = {name: getattr(store, name) for name in ("subscriber_states", "open_sessions")}

    def counted(name: str) -> Callable[..., object]:
        return lambda *args: batches.update([name]) or real[name](*args)

    ctx = CheckContext(
        settled_before=timezone.now() + datetime.timedelta(seconds=1), adapter=get_adapter()
    )
    try:
        for name in real:
            setattr(store, name, counted(name))
        with CaptureQueriesContext(connection) as captured:
            for check in RADIUS_CHECKS.values():
                list(check(ctx))
    finally:
        for name, function in real.items():
            setattr(store, name, function)
    return [q["sql"] for q in captured.captured_queries], dict(batches)


def _lines_of_every_status(capture: Callable[..., object], plan, area, tag: str) -> None:
    lines = [
        activate(capture, plan=plan, area=area, email=f"{tag}{n}@example.com") for n in range(3)
    ]
    change(capture, line_of(lines[1]), "suspend")
    change(capture, line_of(lines[2]), "delete")


@pytest.mark.postgresql  # EXPLAIN is PostgreSQL's; CI's second pass runs it there
def test_every_app_query_of_the_radius_checks_reads_an_index(
    radius, plan, serviceable_area, django_capture_on_commit_callbacks
):
    import re

    from django.db import connection

    from tests.reconciliation.test_costs import BIG_TABLES

    _lines_of_every_status(django_capture_on_commit_callbacks, plan, serviceable_area, "a")
    queries, _ = _radius_check_queries()
    selects = [sql for sql in queries if sql.lstrip().upper().startswith("SELECT")]
    assert selects
    slow = []
    for sql in selects:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}")
            plan_text = "\n".join(row[0] for row in cursor.fetchall())
        if re.search(rf"Seq Scan on {BIG_TABLES}\b", plan_text):
            slow.append(f"{sql}\n{plan_text}")
    assert not slow, "\n\n".join(slow)


def test_the_radius_checks_cost_the_same_at_3_and_at_6_lines(
    radius, plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given lines of every status the checks read: active, suspended, ceased
    _lines_of_every_status(django_capture_on_commit_callbacks, plan, serviceable_area, "a")
    queries, batches = _radius_check_queries()
    # When three more are there, then the checks read them in as many queries and RADIUS
    # batches: one of each per check and status
    _lines_of_every_status(django_capture_on_commit_callbacks, plan, serviceable_area, "b")
    more, more_batches = _radius_check_queries()
    assert (len(more), more_batches) == (len(queries), batches)
    assert batches == {"subscriber_states": 7, "open_sessions": 2}


def test_in_walled_garden_mode_a_fenced_in_session_is_fine_and_a_bar_against_the_status_is_put_right(  # noqa: E501
    radius, plan, serviceable_area, django_capture_on_commit_callbacks, settings
):
    settings.RADIUS_SUSPEND_MODE = "walled-garden"
    capture = django_capture_on_commit_callbacks
    # Given a suspended line, online in the walled garden ...
    suspended = activate(capture, plan=plan, area=serviceable_area, email="a@example.com")
    change(capture, line_of(suspended), "suspend")
    assert radius.nas.dial(username_of(suspended), password_of(suspended)).accepted
    # ... and an active line someone barred by hand with a reject rule
    active = activate(capture, plan=plan, area=serviceable_area, email="b@example.com")
    with radius.admin() as conn:
        conn.execute(
            "INSERT INTO radcheck (username, attribute, op, value) "
            "VALUES (%s, 'Auth-Type', ':=', 'Reject')",
            (username_of(active),),
        )

    # When the reconciliation runs
    run(capture)

    # Then the walled-garden session is no mismatch, the barred active line is, and its
    # repair lifted the bar: the customer signs in again with the plan's speed
    assert open_of(MismatchKind.RADIUS_SESSION_FOR_INACTIVE_SUBSCRIBER) == []
    [barred] = open_of(MismatchKind.RADIUS_BARRED_STATE_DIFFERS)
    assert barred.order_id == active.pk
    assert "is active, but its subscriber" in barred.detail and "(rejected)" in barred.detail
    dial = radius.nas.dial(username_of(active), password_of(active))
    assert dial.accepted and dial.attributes["Mikrotik-Rate-Limit"] == "100M/500M"

    # Given the suspended line's subscriber taken out of the walled garden by hand
    with radius.admin() as conn:
        conn.execute(
            "UPDATE radusergroup SET groupname = 'plan-fibre-500' WHERE username = %s",
            (username_of(suspended),),
        )
    # When the next run looks, then it is found and moved back, its session fenced in by CoA
    radius.nas.received.clear()
    run(capture, now=timezone.now() + datetime.timedelta(minutes=1))
    [again] = open_of(MismatchKind.RADIUS_BARRED_STATE_DIFFERS)
    assert again.order_id == suspended.pk
    assert "walled-garden mode" in again.detail
    assert radius.query(
        "SELECT groupname FROM radusergroup WHERE username = %s", username_of(suspended)
    ) == [("walled-garden",)]
    assert [
        (kind, attributes.get("Filter-Id"), answer)
        for kind, attributes, answer in radius.nas.received
        if attributes.get("User-Name") == username_of(suspended)
    ] == [("CoA-Request", "walled-garden", "ACK")]
    assert radius.nas.online(username_of(suspended))


def test_a_repair_the_network_refuses_for_good_is_left_to_a_person(
    radius, plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given a live line whose subscriber is missing, and a RADIUS database that refuses the
    # adapter's writes (a grant taken away: not something a retry fixes)
    order = activate(django_capture_on_commit_callbacks, plan=plan, area=serviceable_area)
    with radius.admin() as conn:
        conn.execute("DELETE FROM radcheck WHERE username = %s", (username_of(order),))
        conn.execute(f"REVOKE INSERT ON radcheck FROM {radius.harness.adapter_role}")
    try:
        # When the reconciliation runs
        run(django_capture_on_commit_callbacks)
    finally:
        with radius.admin() as conn:
            conn.execute(f"GRANT INSERT ON radcheck TO {radius.harness.adapter_role}")

    # Then the mismatch stays open, says why the repair failed and that a person must act,
    # and its repair is done with (not retried)
    [mismatch] = open_of(MismatchKind.RADIUS_SUBSCRIBER_MISSING)
    assert "create subscriber failed" in mismatch.repair
    assert "SQLSTATE 42501" in mismatch.repair and "left to a person" in mismatch.repair
    message = OutboxMessage.objects.get(task_name=REPAIR_TASK)
    assert message.completed_at is not None
    assert not radius.nas.dial(username_of(order), password_of(order)).accepted
