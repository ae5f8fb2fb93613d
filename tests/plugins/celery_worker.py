"""A real Celery worker process for tests (pytest plugin).

Tests marked ``@pytest.mark.worker`` and ``@pytest.mark.django_db(transaction=True)`` ask for
``celery_worker_process``: a ``celery -A config worker`` subprocess (prefork, concurrency 2)
working on the test database pytest-django created, with the same broker as the test process.
While it runs, the test process publishes tasks instead of running them eagerly.

Works on the embedded default (SQLite file + kombu filesystem broker) and on PostgreSQL + Redis.
With the filesystem broker each fixture gets a fresh broker folder, so a `make run` worker
sharing ``var/`` never takes the test's messages (nor the test worker the developer's).

``CeleryWorker`` is also used by ``scripts/bench.py``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from kombu import pools as kombu_pools

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 30.0


class WorkerError(RuntimeError):
    """The worker did not start or stop as expected; the message carries its log."""


class CeleryWorker:
    """One ``celery -A config worker`` process (in its own process group) logging to a file.

    ``start`` returns once the worker logged that it is ready to consume; ``stop`` asks for a
    warm shutdown (running tasks finish) and kills the process group if that takes too long.
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        log_path: Path,
        concurrency: int = 2,
        cwd: Path = ROOT,
        extra_args: tuple[str, ...] = (),
        queues: tuple[str, ...] = ("celery", "housekeeping"),
        beat_schedule: Path | None = None,
        hostname: str | None = None,
    ) -> None:
        self.env = dict(env)
        self.log_path = log_path
        self.concurrency = concurrency
        self.cwd = cwd
        self.extra_args = extra_args
        self.queues = queues
        # With a schedule file the worker also runs beat (-B): the housekeeping ticks.
        self.beat_schedule = beat_schedule
        self.hostname = hostname or f"test-{uuid.uuid4().hex[:8]}@%h"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-l",
            "info",
            "-P",
            "prefork",
            "--concurrency",
            str(self.concurrency),
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "-n",
            self.hostname,
            "-Q",
            ",".join(self.queues),
            *(("-B", "-s", str(self.beat_schedule)) if self.beat_schedule else ()),
            *self.extra_args,
        ]

    def start(self, *, timeout: float = READY_TIMEOUT_SECONDS) -> CeleryWorker:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            # Own session: on a forced stop the whole group (main process and pool children)
            # goes, and nothing else.
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        # `celery inspect ping` needs a broadcast-capable transport (the filesystem one is
        # not), so readiness is read from the worker's own "<hostname> ready." log line.
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log():
                return
            if self.process.poll() is not None:
                raise WorkerError(
                    f"Celery worker exited with code {self.process.returncode} before it was "
                    f"ready.\n--- worker log ---\n{self.log_tail()}"
                )
            time.sleep(0.1)
        self.stop()
        raise WorkerError(
            f"Celery worker not ready after {timeout:.0f} s.\n--- worker log ---\n{self.log_tail()}"
        )

    def kill(self) -> None:
        """SIGKILL the worker's whole process group: no shutdown, nothing acknowledged."""
        process = self.process
        if process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop(self, *, timeout: float = STOP_TIMEOUT_SECONDS) -> int | None:
        """Stop the worker and its pool children; returns the main process's exit code."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=timeout)
        # Whatever is left of the group we created (a hung main process, orphaned children).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return process.returncode

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 200) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def __enter__(self) -> CeleryWorker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def database_url(settings_dict: Mapping[str, Any]) -> str:
    """A DATABASE_URL (as django-environ reads it) for the database in ``settings_dict``."""
    engine = settings_dict["ENGINE"]
    name = str(settings_dict["NAME"])
    if engine == "django.db.backends.sqlite3":
        if name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
            raise WorkerError("An in-memory SQLite database cannot be shared with a worker.")
        return f"sqlite:///{Path(name).resolve()}"
    if engine == "django.db.backends.postgresql":
        user = quote(str(settings_dict.get("USER") or ""), safe="")
        password = quote(str(settings_dict.get("PASSWORD") or ""), safe="")
        credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        # An empty host means the default unix socket; a path is a socket directory.
        host = quote(str(settings_dict.get("HOST") or ""), safe="")
        port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
        options = {
            key: value
            for key, value in (settings_dict.get("OPTIONS") or {}).items()
            if isinstance(value, str | int) and not isinstance(value, bool)
        }
        query = f"?{urlencode(options)}" if options else ""
        return f"postgres://{credentials}{host}{port}/{quote(name, safe='')}{query}"
    raise WorkerError(f"No DATABASE_URL form known for {engine}.")


def _reset_broker_pools(app: Any) -> None:
    # Connections and producers are pooled per transport options: drop them so the next
    # publish connects with the options now in app.conf (the same thing Celery does after fork).
    # kombu's global pool registry finds pools by connection equality, so a closed pool left in
    # it would be handed out again ("Acquire on closed pool"): empty the registry too.
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    kombu_pools.reset()


@contextlib.contextmanager
def filesystem_broker_folder(app: Any, folder: Path) -> Iterator[None]:
    """Publish to the kombu filesystem broker in ``folder`` (queue/, processed/, control/)."""
    original = dict(app.conf.broker_transport_options or {})
    options = dict(original)
    for key, sub in (
        ("data_folder_in", "queue"),
        ("data_folder_out", "queue"),
        ("processed_folder", "processed"),
        ("control_folder", "control"),
    ):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        options[key] = str(folder / sub)
    app.conf.broker_transport_options = options
    _reset_broker_pools(app)
    try:
        yield
    finally:
        app.conf.broker_transport_options = original
        _reset_broker_pools(app)


@contextlib.contextmanager
def tasks_not_eager(app: Any) -> Iterator[None]:
    """Tasks published to the broker (for a worker), not run in this process."""
    original = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.conf.task_always_eager = original


def worker_environment(stack: contextlib.ExitStack, **extra: str) -> dict[str, str]:
    """The environment of a worker on the test database and the test's broker. Entered on
    ``stack``: tasks published instead of run eagerly, and on the filesystem broker a fresh
    broker folder (so a `make run` worker sharing ``var/`` never takes the test's messages)."""
    from django.conf import settings
    from django.db import connection

    from config.celery import app

    broker_url = str(settings.CELERY_BROKER_URL)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DATABASE_URL": database_url(connection.settings_dict),
        "CELERY_BROKER_URL": broker_url,
        "VAR_DIR": str(settings.VAR_DIR),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    if broker_url.startswith("filesystem://"):
        folder = Path(tempfile.mkdtemp(prefix="test-broker-", dir=Path(settings.VAR_DIR).resolve()))
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        stack.enter_context(filesystem_broker_folder(app, folder))
        env["CELERY_BROKER_DIR"] = str(folder)
    stack.enter_context(tasks_not_eager(app))
    return env


def start_or_fail(worker: CeleryWorker) -> CeleryWorker:
    failure = ""
    try:
        worker.start()
    except WorkerError as exc:
        failure = str(exc)
    if failure:  # outside the except block: the log is the message, not a chained trace
        pytest.fail(failure, pytrace=False)
    return worker


_worker_key = pytest.StashKey[CeleryWorker]()


@pytest.fixture
def celery_worker_process(
    request: pytest.FixtureRequest, transactional_db: None, tmp_path: Path
) -> Iterator[CeleryWorker]:
    """A running Celery worker on the test database; stopped (by PID) after the test.

    Depends on ``transactional_db`` so that the worker sees committed data and is stopped
    before pytest-django empties the tables.
    """
    if request.node.get_closest_marker("worker") is None:
        pytest.fail("Tests using celery_worker_process must be marked @pytest.mark.worker.")
    with contextlib.ExitStack() as stack:
        worker = CeleryWorker(
            env=worker_environment(stack), log_path=tmp_path / "celery-worker.log"
        )
        request.node.stash[_worker_key] = worker
        start_or_fail(worker)
        stack.callback(worker.stop)
        yield worker


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed test that ran a worker shows the worker's log under its report."""
    report = yield
    worker = item.stash.get(_worker_key, None)
    if worker is not None and report.failed:
        report.sections.append(("celery worker log (tail)", worker.log_tail()))
    return report
