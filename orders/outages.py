"""What an unreachable database looks like, for everyone who must tell an outage from a
defect: the outbox's tasks (retry with backoff), the web (503 with Retry-After)."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

# Connecting failed, the connection dropped, the server is shutting down.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)


def is_database_unavailable(exc: BaseException) -> bool:
    """``exc`` says the database could not be reached or used, not that a request was wrong."""
    return isinstance(exc, DATABASE_ERRORS)
