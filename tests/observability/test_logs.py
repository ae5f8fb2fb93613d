"""Log lines (observability.logs, orders.log_context): plain or JSON, each with the order, task,
step and attempt it is about; workers and beat log as the settings say."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from observability.logs import (
    JsonFormatter,
    OrderContextFilter,
    PlainFormatter,
    configure_from_django_settings,
)
from orders.log_context import log_context, log_context_bind, log_context_scope

ROOT = Path(__file__).resolve().parents[2]


def emit(formatter: logging.Formatter, message: str, *args: object, **extra: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(OrderContextFilter())
    logger = logging.getLogger("tests.observability.emit")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(message, *args, extra=extra or None)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return stream.getvalue()


def test_a_json_line_carries_the_order_task_step_and_attempt_it_is_about():
    with log_context_scope(order_id="CMX31F3HJ9", task="provisioning.run_task", task_id="o-3"):
        log_context_bind(step="1.reserve_port", attempt=2)
        line = json.loads(emit(JsonFormatter(), "port reserved on %s", "LDN-01"))
    assert line["message"] == "port reserved on LDN-01"
    assert line["level"] == "WARNING"
    assert line["name"] == "tests.observability.emit"
    assert "time" in line
    assert (line["order_id"], line["task"], line["task_id"]) == (
        "CMX31F3HJ9",
        "provisioning.run_task",
        "o-3",
    )
    assert (line["step"], line["attempt"]) == ("1.reserve_port", 2)


def test_a_line_outside_any_order_has_no_order_fields():
    line = json.loads(emit(JsonFormatter(), "outbox: 3 due message(s) handed to the broker"))
    assert "order_id" not in line and "task" not in line


def test_an_order_named_by_the_call_itself_is_kept():
    # A batch names each order it logs about; the context does not overwrite it
    with log_context_scope(order_id="AAAAAAAAAA"):
        line = json.loads(emit(JsonFormatter(), "skipped", order_id="BBBBBBBBBB"))
    assert line["order_id"] == "BBBBBBBBBB"


def test_the_plain_line_shows_the_context_after_the_message():
    formatter = PlainFormatter("%(levelname)s %(name)s %(message)s")
    with log_context_scope(order_id="CMX31F3HJ9", task="billing.start_billing"):
        text = emit(formatter, "billing started")
    assert text.strip() == (
        "WARNING tests.observability.emit billing started "
        "[order_id=CMX31F3HJ9 task=billing.start_billing]"
    )
    assert emit(formatter, "idle").strip() == "WARNING tests.observability.emit idle"


def test_a_scope_ends_with_its_block_and_nothing_binds_outside_one():
    # Outside any scope (a shell, a management command) binding does nothing: an order bound
    # there would stay on every later line of the thread
    log_context_bind(order_id="CMX31F3HJ9")
    assert log_context() == {}
    with log_context_scope(task="orders.release_due_orders"):
        with log_context_scope(order_id="AAAAAAAAAA"):
            assert log_context() == {"task": "orders.release_due_orders", "order_id": "AAAAAAAAAA"}
        assert log_context() == {"task": "orders.release_due_orders"}
    assert log_context() == {}


def test_an_unknown_field_is_refused():
    with pytest.raises(ValueError, match="unknown log context field"), log_context_scope():
        log_context_bind(customer="Jane")


def test_workers_and_beat_use_the_settings_logging_at_their_command_level(settings):
    # Given JSON logs, as docker-compose sets them, and a beat started with -l warning
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    settings.LOGGING = {
        **settings.LOGGING,
        "handlers": {**settings.LOGGING["handlers"]},
    }
    settings.LOGGING["handlers"]["console"] = {
        **settings.LOGGING["handlers"]["console"],
        "formatter": "json",
    }
    try:
        # When Celery sets up logging (its setup_logging signal)
        configure_from_django_settings(loglevel=logging.WARNING, logfile=None, format="")
        console = [h for h in root.handlers if isinstance(h, logging.StreamHandler)]
        # Then the console writes JSON with the order context, at the command's level
        assert root.level == logging.WARNING
        assert any(isinstance(h.formatter, JsonFormatter) for h in console)
        assert any(isinstance(f, OrderContextFilter) for h in console for f in h.filters)
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


def test_an_unknown_log_format_is_refused_at_start(tmp_path):
    env = {**os.environ, "LOG_FORMAT": "xml", "VAR_DIR": str(tmp_path)}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert 'LOG_FORMAT is "plain" or "json", not "xml"' in result.stderr


def test_json_format_from_the_environment_writes_json_lines(tmp_path):
    # As docker-compose runs it: LOG_FORMAT=json, a line about an order
    script = (
        "import django, logging; django.setup();"
        "from orders.log_context import log_context_scope;"
        "log = logging.getLogger('orders.services');"
        'exec(\'with log_context_scope(order_id="CMX31F3HJ9"):\\n'
        '    log.info("order CMX31F3HJ9 submitted via sales_portal")\')'
    )
    env = {**os.environ, "LOG_FORMAT": "json", "VAR_DIR": str(tmp_path)}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (line,) = [json.loads(text) for text in result.stderr.splitlines() if text.startswith("{")]
    assert line["order_id"] == "CMX31F3HJ9"
    assert line["message"] == "order CMX31F3HJ9 submitted via sales_portal"
