"""Log lines that say which order they are about, in plain text or JSON (LOG_FORMAT).

``OrderContextFilter`` copies what the running code is about (orders.log_context: the order's
ID, the Celery task and its ID, the plan's step and its attempt) onto each record, unless the
call gave it itself (``extra={"order_id": ...}``). ``JsonFormatter`` writes one JSON object per
line (python-json-logger) with those fields at the top level, so one search for an order ID
finds its path through web, workers and the hub. The Celery receivers below open a context for
each task, from its ``order_id`` argument; the web's is opened by
``observability.middleware.OrderLogContextMiddleware``.

No model imports here: the settings' LOGGING names these classes, and Celery configures
logging before Django's apps are ready."""

from __future__ import annotations

import contextlib
import contextvars
import logging
from typing import Any

from celery.signals import task_postrun, task_prerun
from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from orders.log_context import FIELDS, log_context, log_context_pop, log_context_push

JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"


class OrderContextFilter(logging.Filter):
    """Adds the fields of the current log context to each record (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in log_context().items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


def _context_text(record: logging.LogRecord) -> str:
    pairs = [
        f"{name}={getattr(record, name)}"
        for name in FIELDS
        if getattr(record, name, None) not in (None, "")
    ]
    return f" [{' '.join(pairs)}]" if pairs else ""


class PlainFormatter(logging.Formatter):
    """The console's line, with the context after the message: ``... [order_id=ABC task=...]``."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = _context_text(record)
        if not context:
            return text
        first, newline, rest = text.partition("\n")  # a traceback stays below the line
        return first + context + newline + rest


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per line: time, level, logger, message, the context fields, any extra."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level"})
        super().__init__(JSON_FIELDS, *args, **kwargs)


# --- Celery: one context per task run --------------------------------------------------------
_task_scopes: dict[str, contextvars.Token[dict[str, Any] | None]] = {}


@task_prerun.connect(dispatch_uid="observability.logs.task_prerun")
def _task_started(
    task_id: str | None = None,
    task: Any = None,
    kwargs: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    order_id = (kwargs or {}).get("order_id")
    _task_scopes[str(task_id)] = log_context_push(
        order_id=order_id if isinstance(order_id, str) else None,
        task=getattr(task, "name", None),
        task_id=task_id,
    )


@task_postrun.connect(dispatch_uid="observability.logs.task_postrun")
def _task_finished(task_id: str | None = None, **_: Any) -> None:
    token = _task_scopes.pop(str(task_id), None)
    if token is not None:
        # ValueError: set in another context (not in one worker thread; never raise here).
        with contextlib.suppress(ValueError):
            log_context_pop(token)


def configure_from_django_settings(*, loglevel: int | str | None = None, **_: Any) -> None:
    """Celery's ``setup_logging``: use the Django settings' LOGGING (JSON or plain, the context
    filter) in workers and beat instead of Celery's own format, at the level the command asked
    for (``-l``, as Celery would: beat stays at WARNING where its command says so)."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)
