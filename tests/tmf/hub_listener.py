"""A real HTTP listener for the event hub tests: ``http.server`` in a thread on 127.0.0.1 and an
ephemeral port, recording every notification it gets.

- ``answers``: the status codes to give, one per request (then ``default``);
- ``down()`` closes the socket (connections are refused), ``up()`` serves again on the same
  port, so the registered callback stays valid.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


class Listener:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: list[int] = []
        self.default = 200
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/events"

    @property
    def delivered(self) -> list[Received]:
        """Notifications the listener accepted (answered 2xx)."""
        return [item for item in self.received if 200 <= item.status < 300]

    def event_types(self) -> list[str]:
        return [item.event["eventType"] for item in self.delivered]

    def _next_status(self) -> int:
        with self._lock:
            return self.answers.pop(0) if self.answers else self.default

    def up(self) -> None:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status = listener._next_status()
                with listener._lock:
                    listener.received.append(
                        Received(self.path, {k: v for k, v in self.headers.items()}, body, status)
                    )
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                text = b"ok" if status < 300 else b"listener says no"
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def running_listener() -> Iterator[Listener]:
    """For a test module's ``listener`` fixture: ``yield from running_listener()``."""
    server = Listener()
    try:
        yield server
    finally:
        server.down()
