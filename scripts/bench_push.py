"""(f) of ``make bench``: a status change -> the open pages of the order, pushed, with a thousand
pages open at once.

A real uvicorn serves the throwaway database (the local settings, as ``make run`` serves).
``streams`` customer pages are opened on ``orders`` orders (the same number on each), each as
the browser opens it: its fragment URL asked with ``Accept: text/event-stream`` and the
customer's session cookie, so every stream passes the view's permission check. Then, one order
at a time, a real status change is committed in this process (another process than the
server's) and timed to (1) each of the order's streams saying ``change`` with the change's
version and (2) one page's fragment fetched after it, showing the change (what the page
displays). The notifier is Redis pub/sub when CELERY_BROKER_URL is Redis, else the 250 ms read
of the event table.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
OPEN_AT_ONCE = 50
CHANGE_TIMEOUT_SECONDS = 5.0
VERSION = re.compile(rb'event: change\r?\ndata: \{"order":"[0-9A-Z]+","version":(\d+)\}')


class Stream:
    """One open page's event stream over a raw HTTP/1.1 connection."""

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.heard: list[tuple[float, int]] = []
        self.task: asyncio.Task[None] | None = None

    async def open(self, port: int, path: str, cookie: str) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, port)
        self.writer.write(request(path, cookie, accept="text/event-stream"))
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0] or b"text/event-stream" not in head:
            raise RuntimeError(f"no stream: {head[:200]!r}")
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.reader is not None
        buffer = b""
        while chunk := await self.reader.read(4096):
            now = time.monotonic()
            buffer += chunk
            for match in VERSION.finditer(buffer):
                self.heard.append((now, int(match.group(1))))
            buffer = buffer[-200:] if VERSION.search(buffer) is None else b""

    def heard_at(self, version: int) -> float | None:
        return next((t for t, v in self.heard if v >= version), None)

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.writer is not None:
            self.writer.close()


def request(path: str, cookie: str, *, accept: str = "*/*", close: bool = False) -> bytes:
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {HOST}",
        f"Accept: {accept}",
        f"Cookie: {cookie}",
        "X-Requested-With: fetch",
    ]
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def fetch_fragment(port: int, path: str, cookie: str) -> tuple[int, int]:
    """(status, X-Live-Version) of one poll of the fragment, on a connection of its own."""
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(request(path, cookie, close=True))
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head = raw.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
    status = int(head.split(" ", 2)[1])
    found = re.search(r"(?im)^x-live-version:\s*(\d+)", head)
    return status, int(found.group(1)) if found else 0


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1]


def bench_push(
    catalog: Any,
    *,
    submit: Callable[..., Any],
    var_dir: Path,
    streams: int,
    orders: int,
    changes: int,
) -> list[str]:
    """The figures of (f), as lines."""
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client

    from orders.roles import Role
    from orders.services import customer_link_user
    from tests.plugins.asgi_server import UvicornServer
    from tests.plugins.celery_worker import database_url

    user = User.objects.create_user("bench-push-customer")
    user.groups.add(Group.objects.get(name=Role.CUSTOMER))
    watched = []
    for n in range(orders):
        order = submit(catalog, n, customer="push")
        customer_link_user(order.customer_id, user)
        watched.append(order)
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "WARNING",
    }
    server = UvicornServer(env=env, log_path=var_dir / "bench-uvicorn.log").start()
    notifier = (
        "Redis pub/sub"
        if settings.LIVE_PUSH_REDIS_URL
        else f"the event table read every {settings.LIVE_PUSH_DB_POLL_MS} ms"
    )
    try:
        figures = asyncio.run(
            _measure(server.port, watched, cookie, streams=streams, changes=changes, pid=server.pid)
        )
        return [*figures, f"notifier: {notifier}; server log {server.log_path}"]
    finally:
        server.stop()


async def _measure(
    port: int, watched: list[Any], cookie: str, *, streams: int, changes: int, pid: int
) -> list[str]:
    from django.urls import reverse

    paths = {o.pk: reverse("portal:order_live", kwargs={"order_id": o.pk}) for o in watched}
    pages = [Stream(watched[i % len(watched)].pk) for i in range(streams)]
    started = time.monotonic()
    gate = asyncio.Semaphore(OPEN_AT_ONCE)

    async def open_one(page: Stream) -> None:
        async with gate:
            await page.open(port, paths[page.order_id], cookie)

    await asyncio.gather(*(open_one(page) for page in pages))
    opened_in = time.monotonic() - started
    footprint = _footprint(pid)
    await asyncio.sleep(0.5)  # the notifier has read where the table stands
    pushed: list[float] = []
    shown: list[float] = []
    missed = 0
    for n in range(changes):
        order = watched[n % len(watched)]
        version, committed = await asyncio.to_thread(_change, order)
        mine = [p for p in pages if p.order_id == order.pk]
        deadline = committed + CHANGE_TIMEOUT_SECONDS
        while time.monotonic() < deadline and any(p.heard_at(version) is None for p in mine):
            await asyncio.sleep(0.002)
        first = min((t for p in mine if (t := p.heard_at(version)) is not None), default=None)
        if first is not None:
            # The page, woken, asks its fragment URL (as live.js does) and shows what it gets.
            status, live_version = await fetch_fragment(port, paths[order.pk] + "?since=0", cookie)
            if status == 200 and live_version >= version:
                shown.append(time.monotonic() - committed)
        for page in mine:
            at = page.heard_at(version)
            if at is None:
                missed += 1
            else:
                pushed.append(at - committed)
    for page in pages:
        await page.close()
    lines = [
        f"{streams} streams open on {len(watched)} orders in {opened_in:.1f} s "
        f"(one uvicorn process: {footprint})"
    ]
    if pushed:
        lines.append(
            f"{changes} status changes: commit -> every stream of the order told "
            f"p50 {percentile(pushed, 50) * 1000:.1f} ms, p99 {percentile(pushed, 99) * 1000:.1f}"
            f" ms, max {max(pushed) * 1000:.1f} ms ({len(pushed)} pages, {missed} not told "
            f"within {CHANGE_TIMEOUT_SECONDS:.0f} s)"
        )
    if shown:
        lines.append(
            f"commit -> page showing it (told, then its fragment fetched) p50 "
            f"{percentile(shown, 50) * 1000:.1f} ms, p99 {percentile(shown, 99) * 1000:.1f} ms"
        )
    return lines


def _change(order: Any) -> tuple[int, float]:
    """One real status change: the version it leaves the order at, and when it committed."""
    from django.db import connections

    from orders.models import OrderEvent
    from orders.services import order_route_to_manual
    from orders.states import EventSource

    try:
        order_route_to_manual(
            order.pk,
            reason_code="MANUAL_AREA",
            reason="Bench: to the manual pool.",
            source=EventSource.PROVISIONING,
        )
        committed = time.monotonic()
        newest = OrderEvent.objects.filter(order_id=order.pk).order_by("-id").first()
        return (newest.pk if newest is not None else 0), committed
    finally:
        connections.close_all()


def _footprint(pid: int) -> str:
    """The server process's resident memory and threads, from /proc (Linux)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return "footprint not readable"
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    rss, threads = fields.get("VmRSS", "?").strip(), fields.get("Threads", "?").strip()
    return f"{rss} resident, {threads} threads"
