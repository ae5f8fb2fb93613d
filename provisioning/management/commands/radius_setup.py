"""Make a RADIUS database ready for FreeRADIUS and the adapter: the stock schema (if missing),
the adapter's bookkeeping, FreeRADIUS's role and the adapter's restricted role with their grants
(provisioning.adapters.radius.setup). Safe to run again.

    RADIUS_ADMIN_DATABASE_URL=postgres://postgres@db/radius \\
    RADIUS_SERVER_DB_PASSWORD=... manage.py radius_setup

The adapter's role and password are those of RADIUS_DATABASE_URL; passwords come from the
environment, never the command line (it shows in the process list).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from provisioning.adapters.radius.setup import STOCK_SCHEMA, radius_database_setup


class Command(BaseCommand):
    help = "Create or update the RADIUS schema, FreeRADIUS's role and the adapter's role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--admin-url",
            default=os.environ.get("RADIUS_ADMIN_DATABASE_URL", ""),
            help="The RADIUS database as a role that may create tables and roles "
            "(default: $RADIUS_ADMIN_DATABASE_URL).",
        )
        parser.add_argument(
            "--server-role", default="radius", help="The role FreeRADIUS's sql module uses."
        )
        parser.add_argument("--schema", default=str(STOCK_SCHEMA), help="The stock schema.sql.")
        parser.add_argument(
            "--create-database",
            action="store_true",
            help="Create the admin URL's database first if the server has none of that name.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        admin_url = options["admin_url"]
        if not admin_url:
            raise CommandError("Give --admin-url or set RADIUS_ADMIN_DATABASE_URL.")
        server_password = os.environ.get("RADIUS_SERVER_DB_PASSWORD", "")
        if not server_password:
            raise CommandError("Set RADIUS_SERVER_DB_PASSWORD (FreeRADIUS's database password).")
        adapter = conninfo_to_dict(settings.RADIUS_DATABASE_URL)
        if not adapter.get("user") or not adapter.get("password"):
            raise CommandError("RADIUS_DATABASE_URL names no user and password for the adapter.")
        if options["create_database"]:
            _database_ensure(admin_url)
        with psycopg.connect(admin_url) as conn:
            radius_database_setup(
                conn,
                server_role=options["server_role"],
                server_password=server_password,
                adapter_role=str(adapter["user"]),
                adapter_password=str(adapter["password"]),
                schema=Path(options["schema"]),
            )
        self.stdout.write(
            f"RADIUS database ready: roles {options['server_role']} (FreeRADIUS) and "
            f"{adapter['user']} (the adapter)."
        )


def _database_ensure(admin_url: str) -> None:
    name = str(conninfo_to_dict(admin_url).get("dbname") or "")
    if not name:
        raise CommandError("The admin URL names no database.")
    with psycopg.connect(admin_url, dbname="postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
