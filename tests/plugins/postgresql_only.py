"""Tests marked ``postgresql`` are about PostgreSQL itself (its planner, its locks): on another
database they are deselected, not skipped, and the run says how many and where they run. CI
runs the suite on PostgreSQL as well, so they run there (and a skip in CI is a failure, see
no_skips_in_ci)."""

from __future__ import annotations

from typing import Any

import pytest

_deselected = pytest.StashKey[int]()


def _on_postgresql() -> bool:
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _on_postgresql():
        return
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("postgresql") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    config.stash[_deselected] = len(drop)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    count = config.stash.get(_deselected, 0)
    if count:
        terminalreporter.write_line(
            f"{count} PostgreSQL-only test(s) deselected on this database; they run with "
            "DATABASE_URL=postgres://... (CI's second pass)."
        )
