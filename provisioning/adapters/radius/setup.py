"""A RADIUS database made ready for FreeRADIUS and the adapter (``manage.py radius_setup``, and
the tests' harness): the stock schema Debian's FreeRADIUS 3.2 ships, the adapter's bookkeeping
table, and two roles:

- the server's (FreeRADIUS's ``sql`` module logs in as it): the grants of the stock setup.sql,
  reading the authorisation tables, writing accounting;
- the adapter's: writes only the authorisation tables (radcheck, radreply, radgroupcheck,
  radgroupreply, radusergroup, nas) and its bookkeeping, reads radacct. It cannot touch the
  accounting history or the post-auth log.

Every statement is safe to run again (roles are altered, grants repeated).
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

STOCK_SCHEMA = Path("/etc/freeradius/3.0/mods-config/sql/main/postgresql/schema.sql")

AUTHORISATION_TABLES = (
    "radcheck",
    "radreply",
    "radgroupcheck",
    "radgroupreply",
    "radusergroup",
    "nas",
)

BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS oa_holding (
    username text NOT NULL,
    task_type text NOT NULL,
    order_id text NOT NULL,
    item_id text NOT NULL,
    reference text NOT NULL DEFAULT '',
    since timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (username, task_type)
);
CREATE INDEX IF NOT EXISTS oa_holding_key
    ON oa_holding (order_id COLLATE "C", item_id COLLATE "C", task_type COLLATE "C");
-- The adapter finds a subscriber's open sessions by name (the stock schema has no such index).
CREATE INDEX IF NOT EXISTS radacct_open_user_idx ON radacct (username) WHERE acctstoptime IS NULL;
"""


def _role_ensure(cur: psycopg.Cursor, name: str, password: str) -> None:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
    verb = "ALTER" if cur.fetchone() else "CREATE"
    cur.execute(
        sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(
            sql.SQL(verb), sql.Identifier(name), sql.Literal(password)
        )
    )


def radius_database_setup(
    admin: psycopg.Connection,
    *,
    server_role: str,
    server_password: str,
    adapter_role: str,
    adapter_password: str,
    schema: Path = STOCK_SCHEMA,
) -> None:
    """Load the stock schema if radcheck is missing, add the bookkeeping, create or update
    both roles with their grants. ``admin`` is a connection to the RADIUS database as a role
    that may create roles and tables there."""
    with admin.transaction(), admin.cursor() as cur:
        cur.execute("SELECT to_regclass('radcheck') IS NOT NULL")
        row = cur.fetchone()
        if not (row and row[0]):
            cur.execute(schema.read_text())  # type: ignore[call-overload]  # trusted file
        cur.execute(BOOKKEEPING)  # type: ignore[call-overload]
        _role_ensure(cur, server_role, server_password)
        _role_ensure(cur, adapter_role, adapter_password)
        server, adapter = sql.Identifier(server_role), sql.Identifier(adapter_role)
        tables = sql.SQL(", ").join(sql.Identifier(t) for t in AUTHORISATION_TABLES)
        for statement in (
            # The stock setup.sql's grants for the server.
            "GRANT SELECT ON {tables} TO {server}",
            "GRANT SELECT, INSERT, UPDATE ON radacct, radpostauth, nasreload TO {server}",
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {server}",
            # The adapter's: the authorisation tables and its bookkeeping, read accounting.
            "GRANT SELECT, INSERT, UPDATE, DELETE ON {tables}, oa_holding TO {adapter}",
            "GRANT SELECT ON radacct TO {adapter}",
            "GRANT USAGE, SELECT ON SEQUENCE radcheck_id_seq, radreply_id_seq, "
            "radgroupcheck_id_seq, radgroupreply_id_seq, radusergroup_id_seq, nas_id_seq "
            "TO {adapter}",
        ):
            cur.execute(sql.SQL(statement).format(tables=tables, server=server, adapter=adapter))
