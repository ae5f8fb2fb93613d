"""The FreeRADIUS adapter: a line's subscriber, its speed, its suspension and its static address
as rows of the FreeRADIUS SQL schema, and live sessions changed by CoA/Disconnect.

Task types it does (the RoutedNetworkAdapter sends it only these, per settings):

- ``create_subscriber``: radcheck Cleartext-Password (provisioning.adapters.credentials) and
  Simultaneous-Use := 1, in the plan's group (groups.py). Undo (a cease, a cancelled order):
  every authorisation row of the subscriber goes, open sessions are disconnected, radacct
  stays.
- ``apply_speed_profile``: the subscriber in its plan's group (a plan change: the new plan's),
  then a CoA with the new rate to each open session (Disconnect if refused or unanswered).
  Undo: out of every group.
- ``suspend_service``: barred per RADIUS_SUSPEND_MODE, "reject" (Auth-Type := Reject, open
  sessions disconnected) or "walled-garden" (moved to the walled-garden group, sessions moved
  there by CoA, Disconnect if that fails). ``resume_service`` lifts the bar and pushes the plan
  back. Each one's undo is the other.
- ``bind_address``: radreply Framed-IP-Address := the address allocate_address recorded; an
  open session on another address is disconnected so the router comes back on it. Undo
  removes it.

The SQL change commits before any packet is sent. A NAS that answers neither CoA nor
Disconnect is a transient NETWORK_TIMEOUT (the task is retried and sends again to what is still
open); so is a RADIUS database that does not answer. The password is in no result, log line,
exception message or event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from contextlib import closing

import psycopg
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from orders.fulfilment import TaskType
from provisioning.adapters.base import NetworkHolding, TaskRequest, TaskResult
from provisioning.adapters.credentials import subscriber_credentials, subscriber_username
from provisioning.adapters.radius import groups, sessions, store
from provisioning.models import ReasonCode

logger = logging.getLogger(__name__)

SUSPEND_MODES = ("reject", "walled-garden")

Handler = Callable[[psycopg.Connection, TaskRequest], TaskResult]


class RadiusAdapter:
    def __init__(self) -> None:
        if settings.RADIUS_SUSPEND_MODE not in SUSPEND_MODES:
            raise ImproperlyConfigured(
                f'RADIUS_SUSPEND_MODE is "reject" or "walled-garden", '
                f'not "{settings.RADIUS_SUSPEND_MODE}".'
            )

    def execute(self, request: TaskRequest) -> TaskResult:
        handler = _HANDLERS.get((request.task_type, request.undo))
        if handler is None:
            return TaskResult.failure(
                ReasonCode.ADAPTER_ERROR,
                f"FreeRADIUS does not do {request.task_type}: route it to another adapter "
                "(PROVISIONING_TASK_ADAPTERS).",
                transient=False,
            )
        try:
            with closing(store.connect()) as conn:
                return handler(conn, request)
        except psycopg.OperationalError as exc:
            # Connection refused, timed out or dropped: a retry may find it back.
            logger.warning(
                "RADIUS database unreachable for order %s: %s", request.order_id, type(exc)
            )
            return TaskResult.failure(
                ReasonCode.NETWORK_TIMEOUT,
                "The RADIUS database did not answer.",
                transient=True,
            )
        except psycopg.Error as exc:
            # Refused (a grant missing, a schema not set up): a defect of the installation. Only
            # the SQLSTATE is kept: a message's detail could quote a value we wrote.
            logger.error(
                "RADIUS database refused order %s task %s: SQLSTATE %s",
                request.order_id,
                request.task_type,
                exc.sqlstate,
            )
            return TaskResult.failure(
                ReasonCode.ADAPTER_ERROR,
                f"The RADIUS database refused the change ({type(exc).__name__}, "
                f"SQLSTATE {exc.sqlstate}).",
                transient=False,
            )

    def lookup(self, order_ids: Collection[str]) -> list[NetworkHolding]:
        """What RADIUS holds for these orders (one query)."""
        if not order_ids:
            return []
        with closing(store.connect()) as conn:
            return [_holding(row) for row in store.held_for_orders(conn, order_ids)]

    def holdings(
        self,
        *,
        task_type: str | None = None,
        after: tuple[str, str, str] | None = None,
        limit: int = 1000,
    ) -> list[NetworkHolding]:
        """One page of what RADIUS holds, in key order (one query)."""
        with closing(store.connect()) as conn:
            page = store.held_page(conn, task_type=task_type, after=after, limit=limit)
            return [_holding(row) for row in page]


def _holding(row: store.HeldRow) -> NetworkHolding:
    identifiers = {"subscriber": row.username} if row.task_type == "create_subscriber" else {}
    return NetworkHolding(
        order_id=row.order_id,
        item_id=row.item_id,
        task_type=row.task_type,
        reference=row.reference,
        identifiers=identifiers,
        since=row.since,
    )


# --- helpers -------------------------------------------------------------------------------
def _plan_rows(request: TaskRequest) -> tuple[str, list[groups.Reply]] | None:
    if request.download_mbps is None:
        return None
    return groups.plan_group(request.plan_code), groups.plan_replies(
        download_mbps=request.download_mbps, upload_mbps=request.upload_mbps
    )


def _push(
    conn: psycopg.Connection,
    username: str,
    *,
    attributes: dict[str, str | int] | None,
) -> sessions.PushOutcome:
    """After the change committed: CoA (or, with ``attributes=None``, Disconnect) each of the
    subscriber's open sessions."""
    open_now = store.open_sessions(conn, [username])
    conn.commit()  # end the read; no transaction stays open while waiting on a NAS
    if not open_now:
        return sessions.PushOutcome()
    secrets = store.nas_secrets(conn, {s.nas_ip for s in open_now})
    conn.commit()
    return sessions.push(open_now, secrets=secrets, attributes=attributes)


def _finish(
    outcome: sessions.PushOutcome, reference: str, *, refused: str, **identifiers: str
) -> TaskResult:
    summary = f"{reference}; {outcome.summary()}"
    if outcome.unreachable:
        nas = ", ".join(sorted({s.nas_ip for s in outcome.unreachable}))
        return TaskResult.failure(
            ReasonCode.NETWORK_TIMEOUT,
            f"RADIUS rows written, but the NAS {nas} answered neither CoA nor Disconnect for "
            f"{len(outcome.unreachable)} open session(s) ({outcome.summary()}).",
            transient=True,
        )
    if outcome.refused:
        nas = ", ".join(sorted({s.nas_ip for s in outcome.refused}))
        return TaskResult.failure(
            refused,
            f"RADIUS rows written, but the NAS {nas} refused to disconnect "
            f"{len(outcome.refused)} open session(s) ({outcome.summary()}).",
            transient=True,
        )
    return TaskResult.success(summary[:120], **identifiers)


def _exists(cur: psycopg.Cursor, username: str) -> bool:
    cur.execute(
        "SELECT 1 FROM radcheck WHERE username = %s AND attribute = %s",
        (username, store.PASSWORD),
    )
    return cur.fetchone() is not None


# --- task handlers -------------------------------------------------------------------------
def _create_subscriber(conn: psycopg.Connection, request: TaskRequest) -> TaskResult:
    credentials = subscriber_credentials(request)
    username = credentials.username
    plan = _plan_rows(request)
    with conn.transaction(), conn.cursor() as cur:
        store.lock(cur, username)
        store.check_put(cur, username, store.PASSWORD, credentials.password)
        store.check_put(cur, username, store.SIMULTANEOUS_USE, "1")
        if plan is not None:
            group, replies = plan
            store.group_replies_put(cur, group, replies)
            store.membership_set(cur, username, group)
        store.holding_put(
            cur,
            username=username,
            task_type=TaskType.CREATE_SUBSCRIBER,
            order_id=request.order_id,
            item_id=request.item_id,
            reference=f"RADIUS {username}",
        )
    return TaskResult.success(f"RADIUS {username}", subscriber=username)


def _remove_subscriber(conn: psycopg.Connection, request: TaskRequest) -> TaskResult:
    username = subscriber_username(request)
    with conn.transaction(), conn.cursor() as cur:
        store.lock(cur, username)
        store.subscriber_remove(cur, username)
    outcome = _push(conn, username, attributes=None)
    return _finish(outcome, f"RADIUS {username} removed", refused=ReasonCode.PROFILE_REJECTED)


def _apply_speed_profile(conn: psycopg.Connection, request: TaskRequest) -> TaskResult:
    username = subscriber_username(request)
    plan = _plan_rows(request)
    if plan is None:
        return TaskResult.failure(
            ReasonCode.SPEED_PROFILE_FAILED,
            f"Plan {request.plan_code} has no speed to apply.",
            transient=False,
        )
    group, replies = plan
    with conn.transaction(), conn.cursor() as cur:
        store.lock(cur, username)
        if not _exists(cur, username):
            return TaskResult.failure(
                ReasonCode.SPEED_PROFILE_FAILED,
                f"RADIUS has no subscriber {username} to apply plan {request.plan_code} to.",
                transient=False,
            )
        store.group_replies_put(cur, group, replies)
        store.membership_set(cur, username, group)
        store.holding_put(
            cur,
            username=username,
            task_type=TaskType.APPLY_SPEED_PROFILE,
            order_id=request.order_id,
            item_id=request.item_id,
            reference=f"RADIUS {username} in {group}",
        )
    outcome = _push(conn, username, attributes=groups.coa_attributes(replies))
    return _finish(
        outcome, f"RADIUS {username} in {group}", refused=ReasonCode.SPEED_PROFILE_FAILED
    )


def _remove_speed_profile(conn: psycopg.Connection, request: TaskRequest) -> TaskResult:
    username = subscriber_username(request)
    with conn.transaction(), conn.cursor() as cur:
        store.lock(cur, username)
        store.membership_remove(cur, username)
        store.holding_remove(cur, username=username, task_type=TaskType.APPLY_SPEED_PROFILE)
    return TaskResult.success(f"RADIUS {username} out of its plan group")


def _suspend(conn: psycopg.Connection, request: TaskRequest) -> TaskResult:
    username = subscriber_username(request)
    walled = settings.RADIUS_SUSPEND_MODE == "walled-garden"
    with conn.transaction(), conn.cursor() as cur:
        store.lock(cur, username)
        if walled:
            garden = groups.walled_garden_group()
            store.group_replies_put(cur, garden, groups.walled_garden_replies())
            store.membership_set(cur, username, garden)
        else:
            store.check_put(cur, username, store.AUTH_TYPE, "Reject")
    attributes = groups.coa_attributes(groups.walled_garden_replies()) if walled else None
    outcome = _push(conn, username, attributes=attributes)
    mode = "walled garden" if walled else "reject"
    return _finish(
        outcome, f"RADIUS {username} barred ({mode})", refused=ReasonCode.PROFILE_REJECTED
    )


def _resume(conn: psycopg.Connection, request: TaskRequest) -> TaskResult:
    username = subscriber_username(request)
    plan = _plan_rows(request)
    with conn.transaction(), conn.cursor() as cur:
        store.lock(cur, username)
        store.check_remove(cur, username, store.AUTH_TYPE)
        if plan is not None:
            group, replies = plan
            store.group_replies_put(cur, group, replies)
            store.membership_set(cur, username, group)
    attributes = None if plan is None else groups.coa_attributes(plan[1])
    outcome = _push(conn, username, attributes=attributes)
    return _finish(outcome, f"RADIUS {username} bar lifted", refused=ReasonCode.PROFILE_REJECTED)


def _bind_address(conn: psycopg.Connection, request: TaskRequest) -> TaskResult:
    username = request.identifiers.get("subscriber", "")
    address = request.identifiers.get("ipv4Address", "")
    if not username or not address:
        return TaskResult.failure(
            ReasonCode.ADDRESS_BIND_FAILED,
            f"No {'subscriber' if not username else 'address'} to bind (order {request.order_id}).",
            transient=False,
        )
    with conn.transaction(), conn.cursor() as cur:
        store.lock(cur, username)
        if not _exists(cur, username):
            return TaskResult.failure(
                ReasonCode.ADDRESS_BIND_FAILED,
                f"RADIUS has no subscriber {username} to bind {address} to.",
                transient=False,
            )
        store.reply_put(cur, username, store.FRAMED_IP, address)
        store.holding_put(
            cur,
            username=username,
            task_type=TaskType.BIND_ADDRESS,
            order_id=request.order_id,
            item_id=request.item_id,
            reference=f"RADIUS {username} at {address}",
        )
    return _readdress(conn, username, f"RADIUS {username} at {address}", keep=address)


def _unbind_address(conn: psycopg.Connection, request: TaskRequest) -> TaskResult:
    username = subscriber_username(request)
    with conn.transaction(), conn.cursor() as cur:
        store.lock(cur, username)
        cur.execute(
            "SELECT value FROM radreply WHERE username = %s AND attribute = %s",
            (username, store.FRAMED_IP),
        )
        row = cur.fetchone()
        store.reply_remove(cur, username, store.FRAMED_IP)
        store.holding_remove(cur, username=username, task_type=TaskType.BIND_ADDRESS)
    if row is None:
        return TaskResult.success(f"RADIUS {username} has no static address")
    return _readdress(conn, username, f"RADIUS {username} unbound from {row[0]}", drop=row[0])


def _readdress(
    conn: psycopg.Connection, username: str, reference: str, *, keep: str = "", drop: str = ""
) -> TaskResult:
    """Disconnect the open sessions on the wrong address (not ``keep``, or ``drop``): an
    address changes only at sign-in, so the router reconnects to take the new one."""
    open_now = [
        s
        for s in store.open_sessions(conn, [username])
        if (keep and s.framed_ip != keep) or (drop and s.framed_ip == drop)
    ]
    conn.commit()
    if not open_now:
        return TaskResult.success(reference)
    secrets = store.nas_secrets(conn, {s.nas_ip for s in open_now})
    conn.commit()
    outcome = sessions.push(open_now, secrets=secrets, attributes=None)
    return _finish(outcome, reference, refused=ReasonCode.ADDRESS_BIND_FAILED)


_HANDLERS: dict[tuple[str, bool], Handler] = {
    (TaskType.CREATE_SUBSCRIBER, False): _create_subscriber,
    (TaskType.CREATE_SUBSCRIBER, True): _remove_subscriber,
    (TaskType.APPLY_SPEED_PROFILE, False): _apply_speed_profile,
    (TaskType.APPLY_SPEED_PROFILE, True): _remove_speed_profile,
    (TaskType.SUSPEND_SERVICE, False): _suspend,
    (TaskType.SUSPEND_SERVICE, True): _resume,
    (TaskType.RESUME_SERVICE, False): _resume,
    (TaskType.RESUME_SERVICE, True): _suspend,
    (TaskType.BIND_ADDRESS, False): _bind_address,
    (TaskType.BIND_ADDRESS, True): _unbind_address,
}


def plans_sync(*, codes: Collection[str] | None = None) -> int:
    """Write the group of every internet plan of the catalogue (of ``codes`` only, if given;
    the walled garden with all of them) as the plans are now; returns how many groups.
    Idempotent."""
    from orders.models import Plan

    plans = Plan.objects.filter(download_mbps__isnull=False).only(
        "code", "download_mbps", "upload_mbps"
    )
    if codes is not None:
        plans = plans.filter(code__in=list(codes))
    written = 0
    with closing(store.connect()) as conn, conn.transaction(), conn.cursor() as cur:
        for plan in plans.order_by("code"):
            assert plan.download_mbps is not None
            store.group_replies_put(
                cur,
                groups.plan_group(plan.code),
                groups.plan_replies(download_mbps=plan.download_mbps, upload_mbps=plan.upload_mbps),
            )
            written += 1
        if codes is None:
            store.group_replies_put(
                cur, groups.walled_garden_group(), groups.walled_garden_replies()
            )
            written += 1
    return written
