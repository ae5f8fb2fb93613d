"""What the code running now is about (an order, a Celery task, a step of a plan and its
attempt), for every log line written meanwhile (DESIGN invariant 1: every log line about an
order carries its ID). A context variable, so that threads and asyncio tasks each have their
own; the web, the workers and the hub delivery set it, and observability.logs adds it to each
log record. Here, in the shared core, so that any area may say what it is working on."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

FIELDS = ("order_id", "task", "task_id", "step", "attempt")

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "log_context", default=None
)


def log_context() -> dict[str, Any]:
    """The fields set now (a copy; empty outside any)."""
    return dict(_context.get() or {})


def log_context_bind(**fields: Any) -> None:
    """Add ``fields`` (names from FIELDS; None values are left out) to the current context, until
    the enclosing scope (``log_context_scope``: a web request, a Celery task, one order of a
    batch) ends. Outside any scope it does nothing: an order bound there would stay on every
    later line of the thread (a shell, a management command)."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown log context field(s): {', '.join(sorted(unknown))}")
    current = _context.get()
    if current is None:
        return
    _context.set(
        {**current, **{name: value for name, value in fields.items() if value is not None}}
    )


def log_context_push(**fields: Any) -> contextvars.Token[dict[str, Any] | None]:
    """Start a scope with ``fields`` added to what is set now; ``log_context_pop`` ends it."""
    token = _context.set(dict(_context.get() or {}))
    log_context_bind(**fields)
    return token


def log_context_pop(token: contextvars.Token[dict[str, Any] | None]) -> None:
    _context.reset(token)


@contextlib.contextmanager
def log_context_scope(**fields: Any) -> Iterator[None]:
    """Within the block, log lines carry ``fields`` (and whatever the block binds); after it,
    the context is what it was before."""
    token = log_context_push(**fields)
    try:
        yield
    finally:
        log_context_pop(token)
