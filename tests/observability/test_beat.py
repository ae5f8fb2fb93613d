"""Beat's health check (observability.beat): the scheduler touches a file at every tick."""

from __future__ import annotations

import os
import time

from config.celery import app
from observability.beat import HeartbeatScheduler, main


def test_each_tick_of_the_scheduler_touches_the_heartbeat_file(settings, tmp_path):
    # Given beat's scheduler with its heartbeat file
    settings.BEAT_HEARTBEAT_FILE = str(tmp_path / "beat" / "heartbeat")
    scheduler = HeartbeatScheduler(app=app, schedule_filename=str(tmp_path / "schedule"))
    try:
        # When it ticks
        interval = scheduler.tick()
    finally:
        scheduler.close()
    # Then the file is there, just touched, and the check passes
    heartbeat = tmp_path / "beat" / "heartbeat"
    assert heartbeat.exists()
    assert time.time() - heartbeat.stat().st_mtime < 5
    assert interval >= 0
    assert main(["beat", "60", str(heartbeat)]) == 0


def test_the_check_fails_for_a_beat_that_stopped_ticking(tmp_path, capsys):
    heartbeat = tmp_path / "heartbeat"
    heartbeat.touch()
    old = time.time() - 300
    os.utime(heartbeat, (old, old))
    assert main(["beat", "60", str(heartbeat)]) == 1
    assert "last ticked 300 s ago" in capsys.readouterr().err


def test_the_check_fails_for_a_beat_that_never_ticked(tmp_path, capsys):
    assert main(["beat", "60", str(tmp_path / "missing")]) == 1
    assert "never ticked" in capsys.readouterr().err


def test_beat_runs_the_heartbeat_scheduler_and_folds_the_tallies(settings):
    assert settings.CELERY_BEAT_SCHEDULER == "observability.beat:HeartbeatScheduler"
    assert app.conf.beat_scheduler == "observability.beat:HeartbeatScheduler"
    assert "metrics-tally-fold" in app.conf.beat_schedule
