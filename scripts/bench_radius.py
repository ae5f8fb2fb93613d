"""(g) FreeRADIUS (`make bench`): the RADIUS adapter's activation time per order (create the
subscriber, put it in its plan's group: two tasks, each its own connection and transaction),
then, with a real FreeRADIUS and the tests' NAS simulator, Access-Request round trips (each
subscriber dials: PAP against radcheck, its group's replies) and a plan change's CoA per open
session. Printed, never asserted; "skipped: ..." where FreeRADIUS is not installed."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scripts.bench import ms, percentile


def _figure(label: str, seconds: Sequence[float]) -> str:
    return (
        f"{label}: p50 {ms(percentile(seconds, 50))}, p95 {ms(percentile(seconds, 95))}, "
        f"max {ms(max(seconds))} (n={len(seconds)})"
    )


def bench_radius(*, count: int) -> list[str]:
    from django.db import connection
    from django.test import override_settings

    from provisioning.adapters.base import TaskRequest
    from provisioning.adapters.credentials import subscriber_password
    from provisioning.adapters.radius import RadiusAdapter
    from tests.radius.harness import FREERADIUS, SECRET, harness_start, server_of
    from tests.radius.nas import NasSimulator

    if not FREERADIUS.exists():
        return [f"skipped: FreeRADIUS is not installed ({FREERADIUS})"]
    started = time.perf_counter()
    harness, own = harness_start(server_of(connection.settings_dict))
    ready = time.perf_counter() - started
    nas = NasSimulator(auth_port=harness.auth_port, acct_port=harness.acct_port, secret=SECRET)
    try:
        with override_settings(
            RADIUS_DATABASE_URL=harness.adapter_url(),
            RADIUS_COA_PORT=nas.coa_port,
            RADIUS_COA_SECRET=SECRET,
        ):
            adapter = RadiusAdapter()

            def request(n: int, task_type: str, plan: str, speed: int) -> TaskRequest:
                return TaskRequest(
                    order_id=f"BENCH{n:05d}",
                    item_id="1",
                    task_type=task_type,
                    attempt=1,
                    postcode="SW1A1AA",
                    address="1 Bench Row",
                    exchange="Westminster",
                    technology="fttp",
                    offering_code=plan,
                    plan_code=plan,
                    download_mbps=speed,
                    upload_mbps=speed // 5,
                )

            activation: list[float] = []
            dials: list[float] = []
            upgrades: list[float] = []
            for n in range(count):
                t0 = time.perf_counter()
                for task in ("create_subscriber", "apply_speed_profile"):
                    adapter.execute(request(n, task, "fibre-500", 500))
                activation.append(time.perf_counter() - t0)
            names = [f"sub-bench{n:05d}" for n in range(count)]
            for name in names:
                t0 = time.perf_counter()
                nas.dial(name, subscriber_password(name))
                dials.append(time.perf_counter() - t0)
            accepted = sum(len(nas.online(name)) for name in names)
            # Access-Requests alone (no accounting): one more subscriber, never left online.
            adapter.execute(request(count, "create_subscriber", "fibre-500", 500))
            rtt_name = f"sub-bench{count:05d}"
            rtts = []
            for _ in range(count):
                auth = nas.radius.CreateAuthPacket(code=1, User_Name=rtt_name)
                auth["User-Password"] = auth.PwCrypt(subscriber_password(rtt_name))
                t0 = time.perf_counter()
                reply = nas.radius.SendPacket(auth)
                rtts.append(time.perf_counter() - t0)
                assert reply.code == 2  # Access-Accept
            for n in range(count):
                t0 = time.perf_counter()
                adapter.execute(request(n, "apply_speed_profile", "fibre-900", 900))
                upgrades.append(time.perf_counter() - t0)
    finally:
        nas.stop()
        harness.stop(own_cluster=own)
    return [
        f"FreeRADIUS {'with a scratch PostgreSQL ' if own else ''}ready in {ms(ready)}",
        _figure("activation per order (adapter: subscriber + speed profile)", activation),
        _figure("Access-Request round trip (Access-Accept with the plan's replies)", rtts),
        _figure(f"dial: Access-Request + accounting Start ({accepted} online)", dials),
        _figure("plan change with one open session (SQL + CoA round trip)", upgrades),
    ]


def print_radius_only(args: Any, *, var_dir: Path) -> int:
    """`python -m scripts.bench --only-radius`: (g) alone (it needs no app database)."""
    import shutil

    from scripts.bench import Result, print_table

    try:
        figures = bench_radius(count=args.radius_orders)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    print_table(
        [Result(f"(g) FreeRADIUS: {args.radius_orders} orders", figures)],
        header=["order-to-activation benchmarks: FreeRADIUS only"],
    )
    return 0
