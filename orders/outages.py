"""What an unreachable database looks like, for everyone who must tell an outage from a
defect: the outbox's tasks (retry with backoff), the web (503 with Retry-After); and what a
transaction the database rolled back over a conflict looks like, for work worth running again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from django.db import InterfaceError, OperationalError, transaction

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Connecting failed, the connection dropped, the server is shutting down.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)


def is_database_unavailable(exc: BaseException) -> bool:
    """``exc`` says the database could not be reached or used, not that a request was wrong."""
    return isinstance(exc, DATABASE_ERRORS)


def is_conflict_rolled_back(exc: BaseException) -> bool:
    """``exc`` says the database rolled the transaction back to settle a conflict with another
    one (PostgreSQL's deadlock or serialization failure, SQLite's lock that did not come free
    in time): the same work, run again, will most likely go through."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or ""
    return sqlstate.startswith("40") or "database is locked" in str(exc)


def atomic_retrying_conflicts(work: Callable[[], T], *, tries: int = 3) -> T:
    """Run ``work`` in a transaction of its own, again (up to ``tries`` times in all) when the
    database rolls it back over a conflict. For work whose input cannot be had again, such as
    the outcome of a call the network has already acted on. Inside another transaction it runs
    once, in a savepoint: a rolled-back statement has spoiled the whole of the outer one."""
    if transaction.get_connection().in_atomic_block:
        with transaction.atomic():
            return work()
    for attempt in range(1, tries + 1):
        try:
            with transaction.atomic():
                return work()
        except OperationalError as exc:
            if attempt == tries or not is_conflict_rolled_back(exc):
                raise
            logger.warning("transaction rolled back (%s); running it again (%d)", exc, attempt)
    raise AssertionError("unreachable")
