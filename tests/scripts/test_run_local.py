"""The launcher of `make run` (scripts/run_local.py)."""

from __future__ import annotations

from scripts.run_local import child_env


def test_children_link_e_mails_to_the_port_the_launcher_serves_on():
    # Given `PORT=8710 make run` with no SITE_URL in the environment
    env = child_env(8710, {"PATH": "/usr/bin"})
    # Then web, worker and beat all build the links in e-mails on port 8710
    assert env["SITE_URL"] == "http://127.0.0.1:8710"
    assert env["PORT"] == "8710"
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.local"


def test_a_site_url_set_by_hand_is_kept():
    # Given SITE_URL set (a proxy in front), then the launcher leaves it alone
    env = child_env(8710, {"SITE_URL": "https://demo.isp.example"})
    assert env["SITE_URL"] == "https://demo.isp.example"
