"""A listener for the TM Forum event hub, for trying the APIs by hand.

    python scripts/hub_listener.py --port 9000 --secret <the secret /hub returned>

Prints each event it receives (type, order ID, state) and whether its X-Signature-256 header
matches HMAC-SHA256 of the body with the secret. Binds to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret", default="", help="The listener's signing secret.")
    args = parser.parse_args()
    secret = args.secret.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            given = self.headers.get("X-Signature-256", "")
            expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
            verdict = (
                "signed OK" if secret and hmac.compare_digest(given, expected) else "BAD SIGNATURE"
            )
            try:
                event = json.loads(body)
                resource: dict[str, Any] = next(iter(event.get("event", {}).values()), {})
                print(
                    f"{event.get('eventType')}: {resource.get('id')} "
                    f"state={resource.get('state')} ({verdict})",
                    flush=True,
                )
            except (ValueError, AttributeError):
                print(f"not JSON ({len(body)} bytes, {verdict})", flush=True)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening on http://127.0.0.1:{args.port}/listener", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
