"""The runtime topology (`make run` and docker-compose.yml): housekeeping has a worker of its
own, so recovery and the due dispatcher never queue behind the backlog they clear."""

from __future__ import annotations

from pathlib import Path

import yaml

from scripts.run_local import child_commands

ROOT = Path(__file__).resolve().parents[2]


def _queues(argv: list[str]) -> str:
    for flag in ("-Q", "--queues"):
        if flag in argv:
            return argv[argv.index(flag) + 1]
    for arg in argv:
        if arg.startswith("--queues="):
            return arg.removeprefix("--queues=")
    return "(default)"


def test_make_run_starts_a_housekeeping_worker_beside_the_work_worker(tmp_path):
    commands = child_commands(8000, tmp_path)
    assert _queues(commands["worker"]) == "celery"
    assert _queues(commands["housekeeping"]) == "housekeeping"
    assert "beat" in commands["beat"]


def test_compose_runs_a_housekeeping_worker_beside_the_work_workers():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert _queues(services["worker"]["command"]) == "celery"
    assert _queues(services["housekeeping"]["command"]) == "housekeeping"


def test_make_run_keeps_beat_quiet_so_the_banner_stays_on_screen(tmp_path):
    # Beat sends the due dispatch every second: at INFO each send is a line on the console.
    beat = child_commands(8000, tmp_path)["beat"]
    assert beat[beat.index("-l") + 1] == "warning"


def test_make_run_the_image_and_compose_serve_the_web_under_asgi_so_pages_are_pushed(tmp_path):
    # Pushed live status needs an ASGI server (orders.live); each lets open streams end on stop.
    web = child_commands(8000, tmp_path)["web"]
    assert web[1:4] == ["-m", "uvicorn", "config.asgi:application"]
    assert "--timeout-graceful-shutdown" in web
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]
    assert compose["command"][:2] == ["uvicorn", "config.asgi:application"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["uvicorn", "config.asgi:application"' in dockerfile
    pinned = (ROOT / "constraints.txt").read_text().splitlines()
    assert any(line.startswith("uvicorn==") for line in pinned)


def test_compose_passes_the_network_routing_and_the_credentials_key_to_the_app():
    # Without them a compose user could not turn FreeRADIUS, the pools or the ACS on.
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert "PROVISIONING_TASK_ADAPTERS" in environment, name
        assert "SUBSCRIBER_CREDENTIALS_KEY" in environment, name
