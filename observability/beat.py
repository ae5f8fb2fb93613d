"""Celery beat's health: the scheduler touches a file at every tick, so a health check can tell
a beat that schedules from one that is stuck or gone (``python -m observability.beat 60``
exits 0 while the file is younger than 60 seconds)."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any

from celery.beat import PersistentScheduler


def heartbeat_file() -> Path:
    from django.conf import settings

    return Path(settings.BEAT_HEARTBEAT_FILE)


def heartbeat_touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


class HeartbeatScheduler(PersistentScheduler):
    """Celery's default scheduler (a schedule file), touching BEAT_HEARTBEAT_FILE per tick."""

    def tick(self, *args: Any, **kwargs: Any) -> float:
        interval = super().tick(*args, **kwargs)
        # A read-only or full disk must not stop the schedule itself.
        with contextlib.suppress(OSError):
            heartbeat_touch(heartbeat_file())
        return interval


def heartbeat_age(path: Path) -> float | None:
    """Seconds since the last tick, or None when beat never ticked here."""
    try:
        return max(0.0, time.time() - path.stat().st_mtime)
    except FileNotFoundError:
        return None


def main(argv: list[str]) -> int:
    """Health check: 0 when the heartbeat file (argv[2], or BEAT_HEARTBEAT_FILE from the
    environment, or var/beat-heartbeat) is younger than argv[1] seconds (default 60)."""
    max_age = float(argv[1]) if len(argv) > 1 else 60.0
    default = Path(os.environ.get("VAR_DIR", "var")) / "beat-heartbeat"
    path = Path(argv[2] if len(argv) > 2 else os.environ.get("BEAT_HEARTBEAT_FILE", default))
    age = heartbeat_age(path)
    if age is None or age > max_age:
        said = "never ticked" if age is None else f"last ticked {age:.0f} s ago"
        print(f"beat unhealthy: {path} {said} (limit {max_age:.0f} s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
