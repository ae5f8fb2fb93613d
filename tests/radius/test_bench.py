"""`make bench`'s FreeRADIUS section (scripts/bench_radius.py): figures from the real server, and
a plain "skipped" line where FreeRADIUS is not installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.bench_radius import bench_radius


def test_the_bench_prints_activation_time_and_access_request_round_trips(radius_lab):
    figures = bench_radius(count=3)

    assert any(f.startswith("activation per order") and "(n=3)" in f for f in figures)
    assert any(f.startswith("Access-Request round trip") for f in figures)


def test_without_freeradius_the_bench_says_skipped(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("tests.radius.harness.FREERADIUS", Path("/nonexistent/freeradius"))

    assert bench_radius(count=3) == [
        "skipped: FreeRADIUS is not installed (/nonexistent/freeradius)"
    ]
