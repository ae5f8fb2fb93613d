"""Start the whole system on this machine (`make run`): web, the Celery workers (work and
housekeeping) and Celery beat.

Runs from the repository root with the local settings (SQLite and the filesystem broker in
var/ unless DATABASE_URL / CELERY_BROKER_URL say otherwise). Each child's output is shown with
its name in front. Ctrl-C (or SIGTERM) stops all three and exits 0; if one child dies, the others
are stopped and the exit status is non-zero. Standard library only: it runs before anything
else could be relied on.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
WEB_READY_TIMEOUT_SECONDS = 90.0
# The banner waits this long at most for the worker's "ready." line, so it is not scrolled away
# by the worker's start-up output.
WORKER_READY_GRACE_SECONDS = 20.0
# ... and then for the children's output to pause this long (the worker finishing the demo's
# queued work, the e-mails' one line each), so that the banner is the last thing on screen;
# at most START_OUTPUT_SETTLE_MAX_SECONDS after the web answers.
START_OUTPUT_QUIET_SECONDS = 2.0
START_OUTPUT_SETTLE_MAX_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0

DEMO_SIGN_INS = [
    ("sales", "sales rep: the new-order form"),
    ("provisioning", "provisioning staff: orders in the back office"),
    ("lead", "provisioning lead: the exception queue"),
    ("billing", "billing analyst: billing accounts"),
    ("support", "support agent: order search, open tickets"),
    ("customer", "customer: my orders (one live, one being activated)"),
    ("customer2", "customer: my orders (a failed activation, a future-dated order)"),
    ("admin", "superuser: the Django admin"),
]

COLOURS = {
    "web": "\033[36m",
    "worker": "\033[35m",
    "housekeeping": "\033[34m",
    "beat": "\033[33m",
    "run": "\033[1m",
}
RESET = "\033[0m"


class Output:
    """Whole lines from several threads, each behind its child's name."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.lock = threading.Lock()
        self.colour = stream.isatty() and not os.environ.get("NO_COLOR")
        self.width = max(len(name) for name in COLOURS)
        self.last_line_at = time.monotonic()

    def line(self, name: str, text: str) -> None:
        label = f"{name:<{self.width}} |"
        if self.colour:
            label = f"{COLOURS.get(name, '')}{label}{RESET}"
        with self.lock:
            self.stream.write(f"{label} {text}\n")
            self.stream.flush()
            self.last_line_at = time.monotonic()

    def quiet_for(self) -> float:
        """Seconds since the last line."""
        return time.monotonic() - self.last_line_at


class Child:
    """One child process, in its own process group, whose output is relayed line by line."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str],
        out: Output,
        ready_text: str = "",
    ) -> None:
        self.name = name
        self.argv = argv
        self.out = out
        self.ready_text = ready_text
        self.ready = threading.Event()
        if not ready_text:
            self.ready.set()
        # Own process group: Ctrl-C reaches only this launcher, which then stops the children
        # in order (a second SIGINT would turn Celery's warm shutdown into a cold one).
        self.process = subprocess.Popen(  # noqa: S603  (fixed argv, no shell)
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.reader = threading.Thread(target=self._relay, name=f"relay-{name}", daemon=True)
        self.reader.start()

    def _relay(self) -> None:
        assert self.process.stdout is not None
        for raw in iter(self.process.stdout.readline, b""):
            text = raw.decode(errors="replace").rstrip("\r\n")
            self.out.line(self.name, text)
            if self.ready_text and self.ready_text in text:
                self.ready.set()

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def terminate(self) -> None:
        if self.running:
            self.process.terminate()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def banner(port: int, var_dir: Path | None = None) -> str:
    url = f"http://{HOST}:{port}"
    rule = "=" * 72
    rows = "\n".join(f"    {user:<13} {what}" for user, what in DEMO_SIGN_INS)
    api = f"  TM Forum APIs: {url}/tmf-api/docs/  (OpenAPI: {url}/tmf-api/openapi.json)\n"
    token_file = (var_dir or ROOT / "var") / "demo-api-token.txt"
    if token_file.is_file():
        token = token_file.read_text(encoding="utf-8").strip()
        api += f"  Demo API client 'demo-crm' (all scopes): Authorization: Bearer {token}\n"
    return (
        f"\n{rule}\n"
        f"  Order to activation is running at  {url}\n\n"
        f"  Demo sign-ins (password 'demo' for all):\n{rows}\n\n"
        f"  Django admin: {url}/admin/  (sign in as admin)\n"
        f"{api}"
        f"  Press Ctrl-C to stop web, workers and beat.\n"
        f"{rule}\n"
    )


def child_env(port: int, environ: dict[str, str]) -> dict[str, str]:
    """The children's environment: local settings, and links in e-mails pointing at ``port``
    unless SITE_URL says where people reach the site (a proxy in front, another host name)."""
    env = {
        **environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "PYTHONUNBUFFERED": "1",
        "PORT": str(port),
    }
    if not env.get("SITE_URL"):
        env["SITE_URL"] = f"http://{HOST}:{port}"
    return env


def child_commands(port: int, var_dir: Path) -> dict[str, list[str]]:
    python = sys.executable
    return {
        # An ASGI server, so that open pages are pushed each change (orders.live_push); open
        # streams are given 3 s to end on Ctrl-C.
        "web": [
            python,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            HOST,
            "--port",
            str(port),
            "--no-proxy-headers",
            "--timeout-graceful-shutdown",
            "3",
        ],
        "worker": [
            python,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-l",
            "info",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "--concurrency",
            "2",
            "-Q",
            "celery",
            "-n",
            "worker@%h",
        ],
        # The due dispatcher and recovery on a worker of their own: they never wait behind
        # the backlog they are there to clear.
        "housekeeping": [
            python,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-l",
            "warning",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "--concurrency",
            "1",
            "-Q",
            "housekeeping",
            "-n",
            "housekeeping@%h",
        ],
        "beat": [
            python,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            # Warnings only: it sends the outbox's due dispatch every second, and a line for
            # each would scroll everything else (the banner first) off the screen.
            "-l",
            "warning",
            "--schedule",
            str(var_dir / "celerybeat-schedule"),
        ],
    }


def stop_all(children: list[Child], *, out: Output, stop_requests: list[int]) -> None:
    """SIGTERM every child, wait for them, then kill what is left (at once on a second Ctrl-C)."""
    for child in children:
        child.terminate()
    requests_at_start = len(stop_requests)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while any(c.running for c in children):
        if time.monotonic() > deadline or len(stop_requests) > requests_at_start:
            for child in children:
                if child.running:
                    out.line("run", f"{child.name} did not stop in time; killing it")
            break
        time.sleep(0.1)
    for child in children:
        child.kill()  # also any process the child left behind in its group
        child.process.wait()
        child.reader.join(timeout=2)


def main() -> int:
    port = int(os.environ.get("PORT") or 8000)
    var_dir = Path(os.environ.get("VAR_DIR") or ROOT / "var")
    out = Output(sys.stdout)
    if not port_is_free(port):
        out.line("run", f"Port {port} on {HOST} is in use. Try: PORT=8080 make run")
        return 2
    env = child_env(port, dict(os.environ))

    stop_requests: list[int] = []

    def request_stop(signum: int, _frame: object) -> None:
        stop_requests.append(signum)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    children: list[Child] = []
    for name, argv in child_commands(port, var_dir).items():
        ready_text = " ready." if name == "worker" else ""  # housekeeping logs warnings only
        children.append(Child(name, argv, env=env, out=out, ready_text=ready_text))
        out.line("run", f"started {name} (pid {children[-1].process.pid})")

    announced = False
    started = time.monotonic()
    web_answered_at: float | None = None
    status = 0
    while True:
        if stop_requests:
            out.line("run", "stopping web, workers and beat...")
            break
        dead = next((c for c in children if not c.running), None)
        if dead is not None:
            code = dead.process.returncode
            out.line("run", f"{dead.name} exited with status {code}; stopping the others")
            status = code if code and code > 0 else 1
            break
        if not announced:
            now = time.monotonic()
            waited = now - started
            workers_ready = all(c.ready.is_set() for c in children)
            if web_answered_at is None and port_answers(port):
                web_answered_at = now
            settled = (
                out.quiet_for() >= START_OUTPUT_QUIET_SECONDS
                or now - (web_answered_at or now) > START_OUTPUT_SETTLE_MAX_SECONDS
            )
            if (
                web_answered_at is not None
                and (workers_ready or waited > WORKER_READY_GRACE_SECONDS)
                and settled
            ):
                announced = True
                out.stream.write(banner(port, var_dir))
                out.stream.flush()
            elif waited > WEB_READY_TIMEOUT_SECONDS:
                out.line("run", f"web did not answer on port {port} in time; stopping")
                status = 1
                break
        time.sleep(0.2)

    stop_all(children, out=out, stop_requests=stop_requests)
    out.line("run", "stopped" if status == 0 else f"stopped (exit status {status})")
    return status


if __name__ == "__main__":
    sys.exit(main())
