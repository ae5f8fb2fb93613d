"""The production topology's health checks and observability settings (docker-compose.yml, the
Dockerfile): each process is checked by what shows it works, and the checks run as written."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def check_of(service: str) -> str:
    return " ".join(services()[service]["healthcheck"]["test"])


def test_compose_checks_web_on_its_liveness_endpoint():
    assert "http://127.0.0.1:8000/health/live" in check_of("web")


def test_compose_checks_each_worker_by_a_ping_through_the_broker():
    for worker in ("worker", "housekeeping"):
        check = check_of(worker)
        assert "celery -A config inspect ping" in check
        assert "--destination celery@$$HOSTNAME" in check


def test_compose_checks_beat_by_the_age_of_its_heartbeat_file():
    assert check_of("beat").endswith("python -m observability.beat 60 /app/var/beat-heartbeat")


def test_compose_logs_json_and_needs_a_metrics_token_everywhere():
    for name in ("web", "worker", "housekeeping", "beat"):
        env = services()[name]["environment"]
        assert env["LOG_FORMAT"] == "${LOG_FORMAT:-json}"
        assert env["METRICS_TOKEN"].startswith("${METRICS_TOKEN:?")
    # The web's processes share their request metrics
    assert services()["web"]["environment"]["PROMETHEUS_MULTIPROC_DIR"] == "/app/var/prometheus"


def test_the_image_build_gives_the_production_settings_a_metrics_token():
    assert 'METRICS_TOKEN="collectstatic-only' in (ROOT / "Dockerfile").read_text()


def run_beat_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "observability.beat", "60", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_beat_check_command_passes_on_a_fresh_heartbeat_and_fails_on_a_stale_one(tmp_path):
    heartbeat = tmp_path / "beat-heartbeat"
    heartbeat.touch()
    assert run_beat_check(heartbeat).returncode == 0
    stale = time.time() - 120
    os.utime(heartbeat, (stale, stale))
    result = run_beat_check(heartbeat)
    assert result.returncode == 1
    assert "beat unhealthy" in result.stderr
