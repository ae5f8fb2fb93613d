"""A real FreeRADIUS for the tests, on 127.0.0.1, as an unprivileged user, with its SQL module on
a PostgreSQL database of its own:

- the database: on the app's own PostgreSQL server when the tests run on PostgreSQL (a database
  and two roles named after this process, dropped at the end); otherwise a scratch cluster
  initdb'd in a temporary directory on a free port;
- the stock schema, the server's and the adapter's roles (provisioning.adapters.radius.setup);
- FreeRADIUS from a copy of /etc/freeradius/3.0 with a small site of its own (PAP from SQL,
  accounting and Simultaneous-Use in SQL) on free ports.

Everything started is stopped by its PID and the directory removed by ``stop()``.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from provisioning.adapters.radius.setup import radius_database_setup

FREERADIUS = Path("/usr/sbin/freeradius")
STOCK_RADDB = Path("/etc/freeradius/3.0")
SECRET = "harness-secret"  # the NAS simulator's shared secret with FreeRADIUS and for CoA


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unprivileged_user() -> str | None:
    """Who runs the servers: ourselves unless we are root (FreeRADIUS and PostgreSQL should not
    run as root); then the package's own user."""
    if os.geteuid() != 0:
        return None
    for name in ("freerad", "postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("no unprivileged user to run FreeRADIUS as")


@dataclass
class Harness:
    admin: dict[str, Any]  # connection parameters of a role that may create databases and roles
    root: Path
    user: str | None
    database: str = ""
    server_role: str = ""
    adapter_role: str = ""
    auth_port: int = 0
    acct_port: int = 0
    pids: list[int] = field(default_factory=list)
    pg_data: Path | None = None
    radius_log: Path | None = None

    # --- what the tests use -------------------------------------------------------------
    def adapter_url(self) -> str:
        return (
            f"postgres://{self.adapter_role}:adapter-pw@{self.admin['host']}:"
            f"{self.admin['port']}/{self.database}"
        )

    def connect_admin(self, dbname: str | None = None) -> psycopg.Connection:
        return psycopg.connect(**{**self.admin, "dbname": dbname or self.database})

    # --- starting ---------------------------------------------------------------------------
    def _as_user(self) -> dict[str, Any]:
        if not self.user:
            return {"cwd": self.root}
        entry = pwd.getpwnam(self.user)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": [], "cwd": self.root}

    def _run_as(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, check=True, capture_output=True, text=True, **self._as_user())

    def _spawn_as(self, argv: list[str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, **self._as_user())

    def _chown(self, path: Path) -> None:
        if self.user:
            subprocess.run(["chown", "-R", self.user, str(path)], check=True)

    def start_cluster(self) -> None:
        """A scratch PostgreSQL (the SQLite pass has no server of its own)."""
        self.pg_data = self.root / "pg"
        socket_dir = self.root / "pgsock"
        socket_dir.mkdir()
        self._chown(socket_dir)
        whoami = self.user or pwd.getpwuid(os.geteuid()).pw_name
        self._run_as(
            [
                "initdb",
                "-D",
                str(self.pg_data),
                "-U",
                whoami,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-instructions",
            ]
        )
        port = free_port(socket.SOCK_STREAM)
        self._run_as(
            [
                "pg_ctl",
                "-D",
                str(self.pg_data),
                "-l",
                str(self.root / "pg.log"),
                "-w",
                "-t",
                "30",
                "start",
                "-o",
                f"-c listen_addresses=127.0.0.1 -p {port} -k {socket_dir} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off",
            ]
        )
        pid = int((self.pg_data / "postmaster.pid").read_text().split()[0])
        self.pids.append(pid)
        self.admin = {"host": "127.0.0.1", "port": port, "user": whoami, "dbname": "postgres"}

    def create_database(self) -> None:
        # Unique per harness: the bench may start one beside the tests' on the same server.
        tag = f"{os.getpid()}_{secrets.token_hex(3)}"
        self.database = f"oa_radius_test_{tag}"
        self.server_role = f"oa_radius_server_{tag}"
        self.adapter_role = f"oa_radius_adapter_{tag}"
        with psycopg.connect(**{**self.admin, "dbname": "postgres"}, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.database)
                )
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
        with self.connect_admin() as conn:
            radius_database_setup(
                conn,
                server_role=self.server_role,
                server_password="server-pw",
                adapter_role=self.adapter_role,
                adapter_password="adapter-pw",
            )

    def start_freeradius(self) -> None:
        raddb = self.root / "raddb"
        shutil.copytree(STOCK_RADDB, raddb, symlinks=True)
        var = self.root / "var"
        for sub in ("log", "run", "lib"):
            (var / sub).mkdir(parents=True)
        conf = raddb / "radiusd.conf"
        text = conf.read_text()
        text = re.sub(r"(?m)^(\s*)(user|group) = freerad", r"\1#\2 = freerad", text)
        text = re.sub(r"(?m)^localstatedir = .*", f"localstatedir = {var}", text)
        text = re.sub(r"(?m)^logdir = .*", f"logdir = {var}/log", text)
        text = re.sub(r"(?m)^run_dir = .*", f"run_dir = {var}/run", text)
        text = re.sub(r"(?m)^raddbdir = .*", f"raddbdir = {raddb}", text)
        text = re.sub(r"(?m)^proxy_requests\s*=\s*yes", "proxy_requests = no", text)
        # A reject is answered at once (the stock 1 s delay slows down brute force, not tests).
        text = re.sub(r"(?m)^(\s*)reject_delay = .*", r"\1reject_delay = 0", text)
        conf.write_text(text)
        # Our own site and client: no wildcard or fixed ports (other runs share the machine),
        # and no EAP (it needs certificates the package does not ship).
        for enabled in (raddb / "sites-enabled").iterdir():
            enabled.unlink()
        (raddb / "mods-enabled" / "eap").unlink()
        self.auth_port, self.acct_port = free_port(), free_port()
        (raddb / "sites-enabled" / "oa-test").write_text(
            SITE.format(auth_port=self.auth_port, acct_port=self.acct_port)
        )
        (raddb / "clients.conf").write_text(
            f"client nas-simulator {{\n\tipaddr = 127.0.0.1\n\tsecret = {SECRET}\n}}\n"
        )
        module = (raddb / "mods-available" / "sql").read_text()
        module = module.replace('\tdialect = "sqlite"', '\tdialect = "postgresql"')
        module = module.replace('\tdriver = "rlm_sql_null"', '\tdriver = "rlm_sql_${dialect}"')
        conninfo = (
            f"host={self.admin['host']} port={self.admin['port']} dbname={self.database} "
            f"user={self.server_role} password=server-pw"
        )
        module = module.replace('\tradius_db = "radius"', f'\tradius_db = "{conninfo}"')
        (raddb / "mods-available" / "sql").write_text(module)
        (raddb / "mods-enabled" / "sql").symlink_to("../mods-available/sql")
        self._chown(self.root)
        os.chmod(self.root, 0o755)  # noqa: S103  # the servers' user walks into it
        self.radius_log = var / "log" / "radiusd.out"
        process = self._spawn_as([str(FREERADIUS), "-X", "-d", str(raddb)], self.radius_log)
        self.pids.append(process.pid)
        deadline = time.monotonic() + 20
        while b"Ready to process requests" not in self.radius_log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                tail = self.radius_log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"FreeRADIUS did not start:\n{tail}")
            time.sleep(0.02)

    # --- stopping ---------------------------------------------------------------------------
    def stop(self, *, own_cluster: bool) -> None:
        for pid in reversed(self.pids[1:] if own_cluster else self.pids):
            _stop_pid(pid)  # FreeRADIUS first: it holds connections to the database
        if not own_cluster and self.database:
            with psycopg.connect(**{**self.admin, "dbname": "postgres"}, autocommit=True) as c:
                c.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(self.database)
                    )
                )
                for role in (self.server_role, self.adapter_role):
                    c.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        if own_cluster and self.pg_data is not None:
            self._run_as(["pg_ctl", "-D", str(self.pg_data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)


def _stop_pid(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            waited, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not our child (the postmaster): poll for it
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            waited = 0
        if waited:
            return
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)


# The site: PAP against radcheck, groups' replies, accounting into radacct, Simultaneous-Use
# counted from radacct, the stock attribute filter on rejects.
SITE = """
server default {{
listen {{
	type = auth
	ipaddr = 127.0.0.1
	port = {auth_port}
}}
listen {{
	type = acct
	ipaddr = 127.0.0.1
	port = {acct_port}
}}
authorize {{
	preprocess
	sql
	pap
}}
authenticate {{
	Auth-Type PAP {{
		pap
	}}
}}
preacct {{
	preprocess
	acct_unique
}}
accounting {{
	sql
}}
session {{
	sql
}}
post-auth {{
	Post-Auth-Type REJECT {{
		attr_filter.access_reject
	}}
}}
}}
"""


def server_of(settings_dict: dict[str, Any]) -> dict[str, Any] | None:
    """The connection parameters of a Django database's PostgreSQL server (its maintenance
    database), or None when it is not PostgreSQL."""
    if "postgresql" not in settings_dict["ENGINE"]:
        return None
    params = {
        "host": settings_dict.get("HOST") or "127.0.0.1",
        "port": int(settings_dict.get("PORT") or 5432),
        "user": settings_dict.get("USER") or "postgres",
        "password": settings_dict.get("PASSWORD") or None,
        "dbname": "postgres",
    }
    return {key: value for key, value in params.items() if value is not None}


def harness_start(database: dict[str, Any] | None) -> tuple[Harness, bool]:
    """Start it all. ``database``: the app's PostgreSQL connection parameters, or None for a
    scratch cluster. Returns the harness and whether the cluster is its own."""
    root = Path(tempfile.mkdtemp(prefix="oa-radius-"))
    harness = Harness(admin=dict(database or {}), root=root, user=_unprivileged_user())
    own = database is None
    try:
        harness._chown(root)
        if own:
            harness.start_cluster()
        harness.create_database()
        harness.start_freeradius()
    except BaseException:
        harness.stop(own_cluster=own)
        raise
    return harness, own
