"""A small stand-in for GenieACS (which, with its MongoDB, cannot be installed on these
machines): a real HTTP server on 127.0.0.1 speaking the parts of the NBI REST API the ACS
adapter uses, answering as GenieACS 1.2's lib/nbi.ts does, and routers calling in.

What it does, after GenieACS:
- ``GET /devices/``, ``GET /presets/`` with ``query`` (a MongoDB query: equality, ``$regex``,
  ``$gt``/``$gte``, ``$in``, ``$or``; an array field matches if an element does), ``projection``,
  ``sort`` by ``_id``, ``skip`` and ``limit``;
- ``PUT /presets/<name>`` (the JSON body stored whole under ``_id``; 400 if it is not JSON),
  ``DELETE /presets/<name>`` (200 whether or not there was one);
- ``POST``/``DELETE /devices/<id>/tags/<tag>`` (404 "No such device");
- ``POST /devices/<id>/tasks?connection_request`` without a body: a router that is online calls
  in at once (200), one that is not gives 504;
- names outside ``[a-zA-Z0-9_%-]`` match no route (404), as GenieACS's regexes;
- basic auth when ``username`` is given (401 without it, as GenieACS with auth configured).

A router's contact (``inform``): the first one creates the device
(``<OUI>-<ProductClass>-<serial>``); each one applies the presets whose precondition matches it
(the old JSON form on ``_deviceId._SerialNumber`` and ``_tags``), by weight: ``value`` sets a
parameter, ``add_tag`` tags it. That is all of GenieACS's provisioning the adapter relies on.

``fail_next(status, times)`` makes the next calls answer an error; ``calls`` logs each request.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

_SEGMENT = r"([a-zA-Z0-9\-_%]+)"
PRESETS = re.compile(rf"^/presets/{_SEGMENT}/?$")
TAGS = re.compile(rf"^/devices/{_SEGMENT}/tags/{_SEGMENT}/?$")
TASKS = re.compile(rf"^/devices/{_SEGMENT}/tasks/?$")
QUERY = re.compile(r"^/([a-zA-Z0-9_]+)/?$")


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes


@dataclass
class FakeGenieAcs:
    username: str = ""
    password: str = ""
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    online: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    # --- what a test does ---------------------------------------------------------------------
    def fail_next(self, status: int, times: int = 1) -> None:
        with self.lock:
            self.failures.extend([status] * times)

    def inform(
        self,
        serial: str,
        *,
        oui: str = "00A0C5",
        product_class: str = "HG8245",
        online: bool = True,
    ) -> dict[str, Any]:
        """The router with ``serial`` calls in (its first contact creates it); it is then
        configured by the presets that match it. Returns the device."""
        with self.lock:
            device_id = f"{oui}-{product_class}-{serial}"
            device = self.devices.setdefault(
                device_id,
                {
                    "_id": device_id,
                    "_deviceId": {
                        "_OUI": oui,
                        "_ProductClass": product_class,
                        "_SerialNumber": serial,
                    },
                    "_tags": [],
                    "parameters": {},
                },
            )
            if online:
                self.online.add(device_id)
            self._apply_presets(device)
            return device

    def parameter(self, serial: str, path: str) -> Any:
        with self.lock:
            for device in self.devices.values():
                if device["_deviceId"]["_SerialNumber"] == serial:
                    return device["parameters"].get(path)
        return None

    # --- GenieACS's behaviour -----------------------------------------------------------------
    def _apply_presets(self, device: dict[str, Any]) -> None:
        flat = _flat(device)
        for preset in sorted(self.presets.values(), key=lambda p: (p.get("weight", 0), p["_id"])):
            precondition = preset.get("precondition") or "{}"
            if not _matches(flat, json.loads(precondition)):
                continue
            for configuration in preset.get("configurations", []):
                if configuration["type"] == "value":
                    device["parameters"][configuration["name"]] = configuration["value"]
                elif (
                    configuration["type"] == "add_tag"
                    and configuration["tag"] not in device["_tags"]
                ):
                    device["_tags"].append(configuration["tag"])
            flat = _flat(device)

    def handle(self, method: str, target: str, body: bytes, auth: str | None) -> tuple[int, bytes]:
        url = urlsplit(target)
        query = parse_qs(url.query, keep_blank_values=True)
        with self.lock:
            self.calls.append(Call(method, url.path, query, body))
            if self.username and auth != _basic(self.username, self.password):
                return 401, b"Unauthorized"
            if self.failures:
                return self.failures.pop(0), b"Internal Server Error"
            if match := PRESETS.match(url.path):
                return self._preset(method, unquote(match.group(1)), body)
            if match := TAGS.match(url.path):
                return self._tag(method, unquote(match.group(1)), unquote(match.group(2)))
            if match := TASKS.match(url.path):
                return self._task(method, unquote(match.group(1)), body, query)
            if match := QUERY.match(url.path):
                return self._find(method, match.group(1), query)
            return 404, b"404 Not Found"

    def _preset(self, method: str, name: str, body: bytes) -> tuple[int, bytes]:
        if method == "PUT":
            try:
                preset = json.loads(body)
            except ValueError as exc:
                return 400, f"SyntaxError: {exc}".encode()
            preset["_id"] = name
            self.presets[name] = preset
            return 200, b""
        if method == "DELETE":
            self.presets.pop(name, None)
            return 200, b""
        return 405, b"405 Method Not Allowed"

    def _tag(self, method: str, device_id: str, tag: str) -> tuple[int, bytes]:
        device = self.devices.get(device_id)
        if method not in ("POST", "DELETE"):
            return 405, b"405 Method Not Allowed"
        if device is None:
            return 404, b"No such device"
        if method == "POST" and tag not in device["_tags"]:
            device["_tags"].append(tag)
        if method == "DELETE" and tag in device["_tags"]:
            device["_tags"].remove(tag)
        return 200, b""

    def _task(
        self, method: str, device_id: str, body: bytes, query: dict[str, list[str]]
    ) -> tuple[int, bytes]:
        if method != "POST":
            return 405, b"405 Method Not Allowed"
        if body or "connection_request" not in query:
            return 400, b"the fake does only connection requests"
        device = self.devices.get(device_id)
        if device is None:
            return 404, b"No such device"
        if device_id not in self.online:
            return 504, b"Connection request timeout"
        self._apply_presets(device)
        return 200, b""

    def _find(self, method: str, collection: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
        if method not in ("GET", "HEAD"):
            return 405, b"405 Method Not Allowed"
        records = {"presets": self.presets, "devices": self.devices}.get(collection)
        if records is None:
            return 404, b"404 Not Found"
        try:
            condition = json.loads(query.get("query", ["{}"])[0])
        except ValueError as exc:
            return 400, f"SyntaxError: {exc}".encode()
        found = [r for r in records.values() if _matches(_flat(r), condition)]
        if "sort" in query:
            order = json.loads(query["sort"][0])
            found.sort(key=lambda r: r["_id"], reverse=order.get("_id", 1) < 0)
        skip = int(query.get("skip", ["0"])[0])
        found = found[skip:]
        if "limit" in query:
            found = found[: int(query["limit"][0])]
        if "projection" in query:
            keep = {p.strip() for p in query["projection"][0].split(",")} | {"_id"}
            found = [{k: v for k, v in r.items() if k in keep} for r in found]
        return 200, json.dumps(found).encode()


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _flat(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted paths to values, as MongoDB addresses nested fields."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def _matches(flat: dict[str, Any], condition: dict[str, Any]) -> bool:
    for key, expected in condition.items():
        if key == "$or":
            if not any(_matches(flat, each) for each in expected):
                return False
            continue
        if key == "$and":
            if not all(_matches(flat, each) for each in expected):
                return False
            continue
        value = flat.get(key)
        values = value if isinstance(value, list) else [value]
        if not any(_value_matches(each, expected) for each in values):
            return False
    return True


def _value_matches(value: Any, expected: Any) -> bool:
    if not isinstance(expected, dict):
        return bool(value == expected)
    for operator, operand in expected.items():
        if operator == "$regex":
            if not isinstance(value, str) or re.search(operand, value) is None:
                return False
        elif operator == "$gt":
            if value is None or not value > operand:
                return False
        elif operator == "$gte":
            if value is None or not value >= operand:
                return False
        elif operator == "$in":
            if value not in operand:
                return False
        else:
            raise NotImplementedError(f"the fake does not know {operator}")
    return True


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGenieAcs

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, answer = self.server.fake.handle(  # type: ignore[attr-defined]
            self.command, self.path, body, self.headers.get("Authorization")
        )
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_PUT = do_POST = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # the test's output stays its own
        pass


class FakeGenieAcsServer:
    """The fake, served on 127.0.0.1 on a free port in a thread, until ``stop()``."""

    def __init__(self, fake: FakeGenieAcs | None = None) -> None:
        self.fake = fake or FakeGenieAcs()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.fake = self.fake  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeGenieAcsServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
