"""In CI (``CI`` set, as .ci/run and hosted CI services do) a skipped test is a failed one: a
run that proves nothing about a part must not look green. On a developer's machine a skip
stays a skip (the browser tests skip where chromium is not installed)."""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Generator[None, Any, Any]:
    report = yield
    if report.skipped and _in_ci() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"Skipped in CI, which must run every test: {reason}"
    return report
