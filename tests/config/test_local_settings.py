"""What `make run` serves (config/settings/local.py): the product's own error pages with DEBUG
off by default, static files still served, links in e-mails at the launcher's port."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client

from django.contrib.auth.models import User
from django.core.management import call_command
from orders import order_id

call_command("migrate", verbosity=0)
client = Client(raise_request_exception=False)
# A signed-in customer opening an order that is not there (an old link, a typo that passes
# the check character), from either name of this machine
client.force_login(User.objects.get_or_create(username="casey")[0])
missing_order = f"/my/orders/{order_id.generate()}/"
hosts = {}
for host in ("127.0.0.1", "localhost"):
    response = client.get(missing_order, HTTP_HOST=host)
    hosts[host] = {"status": response.status_code, "body": response.content.decode()}
unknown = client.get("/no/such/page/", HTTP_HOST="127.0.0.1")
hosts["unknown path"] = {"status": unknown.status_code, "body": unknown.content.decode()}
css = client.get("/static/css/app.css", HTTP_HOST="127.0.0.1")
print(json.dumps({
    "debug": settings.DEBUG,
    "site_url": settings.SITE_URL,
    "missing": hosts,
    "css_status": css.status_code,
    "css_type": css.get("Content-Type", ""),
}))
"""


def probe_local(tmp_path: Path, **env: str) -> dict:
    """What a fresh process with the local settings (as `make run` starts them) answers."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SITE_URL", "PORT", "EMAIL_URL", "DATABASE_URL", "ALLOWED_HOSTS"}
    }
    clean.update(DJANGO_SETTINGS_MODULE="config.settings.local", VAR_DIR=str(tmp_path), **env)
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def local(tmp_path_factory) -> dict:
    return probe_local(tmp_path_factory.mktemp("local"))


def test_make_run_shows_the_products_404_page_not_djangos_technical_one(local):
    # Given the settings `make run` uses, with no DEBUG in the environment
    assert local["debug"] is False
    # When a customer opens an order that is not there (from 127.0.0.1 or localhost), or
    # anyone an address that names no page
    for host, answer in local["missing"].items():
        # Then they get the project's own "Not found" page
        assert answer["status"] == 404, host
        assert "Not found" in answer["body"]
        assert "Order to activation" in answer["body"]
        # ... and not Django's debug page (the URL patterns of the site, the view that raised)
        assert "URLconf" not in answer["body"]
        assert "DEBUG = True" not in answer["body"]
        assert "Raised by" not in answer["body"]


def test_make_run_still_serves_the_stylesheet_with_debug_off(local):
    # Given DEBUG off, when a page asks for its stylesheet, then the launcher's server sends it
    assert local["css_status"] == 200
    assert local["css_type"].startswith("text/css")


def test_debug_is_an_opt_in_for_development(tmp_path):
    # Given DEBUG=1 in the environment, then Django's technical pages are back
    debug = probe_local(tmp_path, DEBUG="1")
    assert debug["debug"] is True
    assert "DEBUG = True" in debug["missing"]["127.0.0.1"]["body"]


def test_links_in_e_mails_follow_the_port_make_run_serves_on(tmp_path):
    # Given `PORT=8710 make run` and no SITE_URL, then the links point at port 8710
    assert probe_local(tmp_path, PORT="8710")["site_url"] == "http://127.0.0.1:8710"
    # ... and a SITE_URL set by hand still wins (a proxy in front, another host name)
    named = probe_local(tmp_path, PORT="8710", SITE_URL="https://demo.isp.example/")
    assert named["site_url"] == "https://demo.isp.example"
