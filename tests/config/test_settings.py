"""Production settings fail fast on missing secrets and pass Django's deployment checklist."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k" * 20 + "9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5"
METRICS_TOKEN = "metrics-token-4e1f9a0b7c2d"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL"}}
    clean.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "METRICS_TOKEN": METRICS_TOKEN,
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_refuses_to_start_without_a_real_secret_key(tmp_path):
    result = manage(
        "check",
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        ALLOWED_HOSTS="isp.example",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_the_development_key(tmp_path):
    result = manage(
        "check",
        SECRET_KEY="dev-only-insecure-key-do-not-use-in-production",
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        ALLOWED_HOSTS="isp.example",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_a_database_url(tmp_path):
    result = manage(
        "check", SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS="isp.example", VAR_DIR=str(tmp_path)
    )
    assert result.returncode != 0
    assert "DATABASE_URL must be set" in result.stderr


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=STRONG_KEY,
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        ALLOWED_HOSTS="isp.example",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_demo_loader_refuses_production_settings(tmp_path):
    result = manage(
        "load_demo_data",
        SECRET_KEY=STRONG_KEY,
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        ALLOWED_HOSTS="isp.example",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "never loaded with production settings" in result.stderr


def test_production_refuses_to_start_without_a_metrics_token(tmp_path):
    # The metrics endpoint is never open in production (observability.views).
    result = manage(
        "check",
        SECRET_KEY=STRONG_KEY,
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        ALLOWED_HOSTS="isp.example",
        VAR_DIR=str(tmp_path),
        METRICS_TOKEN="",
    )
    assert result.returncode != 0
    assert "METRICS_TOKEN must be set" in result.stderr


@pytest.mark.parametrize("secret", ["", "testing123"])
def test_production_refuses_freeradius_with_the_stock_coa_secret(tmp_path, secret):
    # A NAS taking CoA signed with FreeRADIUS's stock secret would take it from anyone.
    base = {
        "SECRET_KEY": STRONG_KEY,
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "ALLOWED_HOSTS": "isp.example",
        "VAR_DIR": str(tmp_path),
        "PROVISIONING_TASK_ADAPTERS": (
            '{"create_subscriber": "provisioning.adapters.radius.RadiusAdapter"}'
        ),
        "SUBSCRIBER_CREDENTIALS_KEY": "c" * 40,
    }

    refused = manage("check", RADIUS_COA_SECRET=secret, **base)
    accepted = manage("check", RADIUS_COA_SECRET="a-secret-of-our-own-7f3e", **base)

    assert refused.returncode != 0
    assert "RADIUS_COA_SECRET must be set" in refused.stderr
    assert accepted.returncode == 0, accepted.stderr


def test_production_refuses_a_network_adapter_without_its_own_credentials_key(tmp_path):
    # Derived from SECRET_KEY by default: rotating that key would change every PPPoE password.
    base = {
        "SECRET_KEY": STRONG_KEY,
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "ALLOWED_HOSTS": "isp.example",
        "VAR_DIR": str(tmp_path),
        "PROVISIONING_TASK_ADAPTERS": (
            '{"register_cpe": "provisioning.adapters.acs.GenieAcsAdapter"}'
        ),
    }

    refused = manage("check", **base)
    accepted = manage("check", SUBSCRIBER_CREDENTIALS_KEY="c" * 40, **base)

    assert refused.returncode != 0
    assert "SUBSCRIBER_CREDENTIALS_KEY must be set" in refused.stderr
    assert accepted.returncode == 0, accepted.stderr


def test_an_empty_routing_as_compose_passes_an_unset_variable_is_the_simulator(tmp_path):
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.PROVISIONING_TASK_ADAPTERS)",
        SECRET_KEY=STRONG_KEY,
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        ALLOWED_HOSTS="isp.example",
        VAR_DIR=str(tmp_path),
        PROVISIONING_TASK_ADAPTERS="",
        SUBSCRIBER_CREDENTIALS_KEY="",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "{}"
