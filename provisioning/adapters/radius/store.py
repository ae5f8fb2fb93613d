"""The FreeRADIUS SQL schema (Debian's FreeRADIUS 3.2, PostgreSQL), as the adapter writes and
reads it: the authorisation tables (radcheck, radreply, radgroupreply, radusergroup), the open
sessions in radacct (read only), and ``oa_holding``, the adapter's own bookkeeping of which
order and item made a subscriber's rows (FreeRADIUS never reads it; see setup.py).

Every write runs in one short transaction holding an advisory lock on the subscriber's name,
so two tasks about one subscriber never interleave; each write replaces what it owns, so doing
it twice leaves the same rows. Connections are opened per call (settings.RADIUS_DATABASE_URL,
as the restricted role radius_setup creates).
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

import psycopg
from django.conf import settings

from provisioning.adapters.radius.groups import PLAN_GROUP_PREFIX, Reply

PASSWORD = "Cleartext-Password"  # noqa: S105  # the attribute's name
SIMULTANEOUS_USE = "Simultaneous-Use"
AUTH_TYPE = "Auth-Type"
FRAMED_IP = "Framed-IP-Address"
# Subscribers made by this system are named sub-<order id, lower case> (credentials.py).
USERNAME_PREFIX = "sub-"


def connect() -> psycopg.Connection:
    """A new connection to the RADIUS database; raises psycopg.OperationalError when it does
    not answer within RADIUS_DATABASE_TIMEOUT_SECONDS."""
    return psycopg.connect(
        settings.RADIUS_DATABASE_URL,
        connect_timeout=max(1, int(settings.RADIUS_DATABASE_TIMEOUT_SECONDS)),
        application_name="oa-radius-adapter",
    )


def lock(cur: psycopg.Cursor, username: str) -> None:
    """Serialise writes about one subscriber until the transaction ends."""
    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"oa-radius:{username}",))


# --- writes (call inside a transaction, after ``lock``) ----------------------------------------
def group_replies_put(cur: psycopg.Cursor, group: str, replies: Iterable[Reply]) -> None:
    """The group's reply rows are exactly ``replies``."""
    rows = [(group, r.attribute, r.op, r.value) for r in replies]
    cur.execute("SELECT attribute, op, value FROM radgroupreply WHERE groupname = %s", (group,))
    if sorted(cur.fetchall()) == sorted(row[1:] for row in rows):
        return  # unchanged: leave the rows (and their ids) alone
    cur.execute("DELETE FROM radgroupreply WHERE groupname = %s", (group,))
    cur.executemany(
        "INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES (%s, %s, %s, %s)",
        rows,
    )


def check_put(cur: psycopg.Cursor, username: str, attribute: str, value: str) -> None:
    """One radcheck row ``attribute := value`` for the subscriber, replacing any other."""
    cur.execute(
        "DELETE FROM radcheck WHERE username = %s AND attribute = %s", (username, attribute)
    )
    cur.execute(
        "INSERT INTO radcheck (username, attribute, op, value) VALUES (%s, %s, ':=', %s)",
        (username, attribute, value),
    )


def check_remove(cur: psycopg.Cursor, username: str, attribute: str) -> None:
    cur.execute(
        "DELETE FROM radcheck WHERE username = %s AND attribute = %s", (username, attribute)
    )


def reply_put(cur: psycopg.Cursor, username: str, attribute: str, value: str) -> None:
    cur.execute(
        "DELETE FROM radreply WHERE username = %s AND attribute = %s", (username, attribute)
    )
    cur.execute(
        "INSERT INTO radreply (username, attribute, op, value) VALUES (%s, %s, ':=', %s)",
        (username, attribute, value),
    )


def reply_remove(cur: psycopg.Cursor, username: str, attribute: str) -> None:
    cur.execute(
        "DELETE FROM radreply WHERE username = %s AND attribute = %s", (username, attribute)
    )


def membership_set(cur: psycopg.Cursor, username: str, group: str) -> None:
    """The subscriber is in ``group`` and no other."""
    cur.execute("SELECT groupname FROM radusergroup WHERE username = %s", (username,))
    if [row[0] for row in cur.fetchall()] == [group]:
        return
    cur.execute("DELETE FROM radusergroup WHERE username = %s", (username,))
    cur.execute(
        "INSERT INTO radusergroup (username, groupname, priority) VALUES (%s, %s, 1)",
        (username, group),
    )


def membership_remove(cur: psycopg.Cursor, username: str) -> None:
    cur.execute("DELETE FROM radusergroup WHERE username = %s", (username,))


def subscriber_remove(cur: psycopg.Cursor, username: str) -> None:
    """No authorisation row of the subscriber is left (its accounting stays)."""
    for table in ("radcheck", "radreply", "radusergroup"):
        cur.execute(f"DELETE FROM {table} WHERE username = %s", (username,))  # noqa: S608
    cur.execute("DELETE FROM oa_holding WHERE username = %s", (username,))


def holding_put(
    cur: psycopg.Cursor,
    *,
    username: str,
    task_type: str,
    order_id: str,
    item_id: str,
    reference: str,
) -> None:
    """Record which order's item made this part of the subscriber. A later order about the
    same line (a plan change) keeps the first one: the installed base knows the line by the
    order that delivered it."""
    cur.execute(
        "INSERT INTO oa_holding (username, task_type, order_id, item_id, reference) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (username, task_type) "
        "DO UPDATE SET reference = EXCLUDED.reference",
        (username, task_type, order_id, item_id, reference[:120]),
    )


def holding_remove(cur: psycopg.Cursor, *, username: str, task_type: str) -> None:
    cur.execute(
        "DELETE FROM oa_holding WHERE username = %s AND task_type = %s", (username, task_type)
    )


def holding_reference(cur: psycopg.Cursor, *, username: str, task_type: str) -> str | None:
    cur.execute(
        "SELECT reference FROM oa_holding WHERE username = %s AND task_type = %s",
        (username, task_type),
    )
    row = cur.fetchone()
    return None if row is None else str(row[0])


# --- reads ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SubscriberState:
    """What RADIUS holds of one subscriber: whether it exists (it has a password), its groups
    and plan group, whether it is barred (``rejected``: a reject rule; ``walled``: in the walled
    garden), its static address."""

    username: str
    exists: bool
    groups: tuple[str, ...] = ()
    rejected: bool = False
    walled: bool = False
    address: str = ""
    plan_group: str = ""

    @property
    def barred(self) -> bool:
        return self.rejected or self.walled

    @property
    def can_sign_in(self) -> bool:
        """Whether FreeRADIUS accepts it (in the walled garden it is accepted, fenced in)."""
        return self.exists and not self.rejected


@dataclass(frozen=True)
class Session:
    """An open session in radacct (no stop time yet)."""

    username: str
    nas_ip: str
    session_id: str
    framed_ip: str = ""
    started: datetime.datetime | None = None


def subscriber_states(
    conn: psycopg.Connection, usernames: Collection[str]
) -> dict[str, SubscriberState]:
    """The state of each named subscriber (three queries for the batch); a name RADIUS has no
    row for is reported as not existing."""
    names = sorted(set(usernames))
    checks: dict[str, set[str]] = {name: set() for name in names}
    groups: dict[str, list[str]] = {name: [] for name in names}
    address: dict[str, str] = {}
    with conn.cursor() as cur:
        cur.execute(
            "SELECT username, attribute, value FROM radcheck WHERE username = ANY(%s)", (names,)
        )
        for username, attribute, value in cur.fetchall():
            if attribute == AUTH_TYPE and value.lower() == "reject":
                checks[username].add("reject")
            elif attribute == PASSWORD:
                checks[username].add("password")
        cur.execute(
            "SELECT username, groupname FROM radusergroup WHERE username = ANY(%s) "
            "ORDER BY priority, groupname",
            (names,),
        )
        for username, group in cur.fetchall():
            groups[username].append(group)
        cur.execute(
            "SELECT username, value FROM radreply WHERE username = ANY(%s) AND attribute = %s",
            (names, FRAMED_IP),
        )
        address.update(cur.fetchall())
    walled = str(settings.RADIUS_WALLED_GARDEN_GROUP)
    return {
        name: SubscriberState(
            username=name,
            exists="password" in checks[name],
            groups=tuple(groups[name]),
            rejected="reject" in checks[name],
            walled=walled in groups[name],
            address=address.get(name, ""),
            plan_group=next((g for g in groups[name] if g.startswith(PLAN_GROUP_PREFIX)), ""),
        )
        for name in names
    }


def open_sessions(conn: psycopg.Connection, usernames: Collection[str]) -> list[Session]:
    """The open sessions (radacct rows without a stop time) of these subscribers."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT username, host(nasipaddress), acctsessionid, "
            "coalesce(host(framedipaddress), ''), acctstarttime FROM radacct "
            "WHERE username = ANY(%s) AND acctstoptime IS NULL ORDER BY radacctid",
            (sorted(set(usernames)),),
        )
        return [Session(*row) for row in cur.fetchall()]


def nas_secrets(conn: psycopg.Connection, nas_ips: Collection[str]) -> dict[str, str]:
    """The shared secret of each NAS the ``nas`` table names (by address)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT nasname, secret FROM nas WHERE nasname = ANY(%s)", (sorted(set(nas_ips)),)
        )
        return {str(name): str(secret) for name, secret in cur.fetchall()}


# What RADIUS holds, as (order_id, item_id, task_type) rows: the bookkeeping rows still backed
# by their authorisation rows, and (item "") each subscriber named like ours that no
# bookkeeping row explains (one set up behind the system's back). Keys compare byte-wise
# (COLLATE "C"), as the reconciliation's Python keys do.
_HOLDINGS = """
SELECT * FROM (
    SELECT b.order_id, b.item_id, b.task_type, b.reference, b.username, b.since
    FROM oa_holding b
    WHERE (b.task_type = 'create_subscriber' AND EXISTS (
            SELECT 1 FROM radcheck c WHERE c.username = b.username
            AND c.attribute = 'Cleartext-Password'))
       OR (b.task_type = 'apply_speed_profile' AND EXISTS (
            SELECT 1 FROM radusergroup g WHERE g.username = b.username))
       OR (b.task_type = 'bind_address' AND EXISTS (
            SELECT 1 FROM radreply r WHERE r.username = b.username
            AND r.attribute = 'Framed-IP-Address'))
    UNION ALL
    SELECT DISTINCT upper(substr(c.username, 5)), '', 'create_subscriber', c.username,
        c.username, NULL::timestamptz
    FROM radcheck c
    WHERE c.attribute = 'Cleartext-Password' AND c.username LIKE 'sub-%%'
      AND NOT EXISTS (SELECT 1 FROM oa_holding b WHERE b.username = c.username
                      AND b.task_type = 'create_subscriber')
) h
"""
_KEY_ORDER = ' ORDER BY h.order_id COLLATE "C", h.item_id COLLATE "C", h.task_type COLLATE "C"'


@dataclass(frozen=True)
class HeldRow:
    order_id: str
    item_id: str
    task_type: str
    reference: str
    username: str
    since: datetime.datetime | None
    identifiers: dict[str, str] = field(default_factory=dict)


def held_for_orders(conn: psycopg.Connection, order_ids: Collection[str]) -> list[HeldRow]:
    with conn.cursor() as cur:
        cur.execute(
            _HOLDINGS + " WHERE h.order_id = ANY(%s)" + _KEY_ORDER,
            (sorted(set(order_ids)),),
        )
        return [HeldRow(*row) for row in cur.fetchall()]


def held_page(
    conn: psycopg.Connection,
    *,
    task_type: str | None,
    after: tuple[str, str, str] | None,
    limit: int,
) -> list[HeldRow]:
    where, params = ["TRUE"], []
    if task_type is not None:
        where.append("h.task_type = %s")
        params.append(task_type)
    if after is not None:
        where.append(
            '(h.order_id COLLATE "C", h.item_id COLLATE "C", h.task_type COLLATE "C") '
            '> (%s COLLATE "C", %s COLLATE "C", %s COLLATE "C")'
        )
        params.extend(after)
    with conn.cursor() as cur:
        cur.execute(
            # Only fixed fragments are joined; every value is a parameter.
            _HOLDINGS + " WHERE " + " AND ".join(where) + _KEY_ORDER + " LIMIT %s",
            (*params, limit),
        )
        return [HeldRow(*row) for row in cur.fetchall()]
