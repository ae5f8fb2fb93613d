"""Security by default: sign-in lockout (django-axes), Content-Security-Policy (django-csp), CSRF
and cookie flags, and the headers production settings add."""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k" * 20 + "9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5"
PASSWORD = "password"  # tests.factories.UserFactory


def sign_in(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


# --- sign-in lockout ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_five_failed_sign_ins_lock_the_account_even_for_the_right_password(client):
    # Given a user, and 4 wrong passwords typed for them from one address
    UserFactory(username="victim")
    for _ in range(4):
        assert sign_in(client, "victim", "wrong").status_code == 200
    # When the 5th is wrong too, the account is locked at once
    assert sign_in(client, "victim", "wrong").status_code == 429
    # When the right password is then typed from that address
    refused = sign_in(client, "victim", PASSWORD)
    # Then sign-in is refused with the lockout page, and nobody is signed in
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "Sign-in paused" in page
    assert "15 minutes" in page
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_lockout_is_per_username_and_address_and_ends_after_the_cool_off(client):
    # Given a user locked out from one address
    UserFactory(username="victim")
    for _ in range(5):
        sign_in(client, "victim", "wrong")
    assert sign_in(client, "victim", PASSWORD).status_code == 429
    # Then the same user can still sign in from another address
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    assert sign_in(elsewhere, "victim", PASSWORD).status_code == 302
    # When the 15 minutes have passed
    AccessAttempt.objects.update(
        attempt_time=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=16)
    )
    # Then the first address may sign in again
    assert sign_in(client, "victim", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_a_successful_sign_in_clears_the_failure_count(client):
    # Given 4 failures, then a success
    UserFactory(username="clumsy")
    for _ in range(4):
        sign_in(client, "clumsy", "wrong")
    assert sign_in(client, "clumsy", PASSWORD).status_code == 302
    client.logout()
    # When 4 more failures follow
    for _ in range(4):
        sign_in(client, "clumsy", "wrong")
    # Then the user is not locked out
    assert sign_in(client, "clumsy", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_unknown_usernames_lock_out_like_real_ones(client):
    # Given 5 failures for a username nobody has
    for _ in range(5):
        sign_in(client, "nobody", "wrong")
    # Then the answer is the same lockout page: it does not tell who exists
    assert sign_in(client, "nobody", "wrong").status_code == 429


@pytest.mark.django_db
def test_changing_the_case_of_an_e_mail_address_does_not_buy_more_attempts(client):
    # Given a customer who signs in with their e-mail address
    UserFactory(username="pat@example.com")
    # When 5 wrong passwords come in 5 spellings of the address
    for spelling in ("pat@example.com", "Pat@example.com", "PAT@example.com", "pAt@Example.com"):
        sign_in(client, spelling, "wrong")
    assert sign_in(client, "pat@EXAMPLE.com", "wrong").status_code == 429
    # Then the account is locked for every spelling
    assert sign_in(client, "pat@example.com", PASSWORD).status_code == 429


# --- CSRF and cookies --------------------------------------------------------------------------
@pytest.mark.django_db
def test_sign_in_needs_the_csrf_token():
    UserFactory(username="csrf-user")
    client = Client(enforce_csrf_checks=True)
    assert sign_in(client, "csrf-user", PASSWORD).status_code == 403


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_http_only_and_same_site(client, settings):
    # Given a user who signs in
    UserFactory(username="cookie-user")
    login_page = client.get(reverse("login"))
    response = sign_in(client, "cookie-user", PASSWORD)
    # Then the session cookie is out of reach of scripts and other sites, for 12 hours at most
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"]
    assert session["samesite"] == "Lax"
    assert int(session["max-age"]) == 12 * 3600
    # ... and so is the CSRF cookie
    csrf = login_page.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["httponly"]
    assert csrf["samesite"] == "Lax"


# --- Content-Security-Policy -------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/track/", "/accounts/password-reset/"])
def test_pages_send_a_content_security_policy_without_inline_scripts(client, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = csp_directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["base-uri"] == ["'self'"]


@pytest.mark.django_db
def test_signed_in_pages_send_the_policy_too(client, customer_account):
    client.force_login(customer_account.user)
    response = client.get(reverse("portal:my_orders"))
    assert "script-src 'self'" in response["Content-Security-Policy"]


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def test_our_templates_have_no_inline_script_the_policy_would_block():
    # Given every template of the project
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        # Then none holds an inline <script>, an on*= handler or a javascript: URL
        if INLINE_SCRIPT.search(text) or INLINE_HANDLER.search(text) or "javascript:" in text:
            offenders.append(str(template.relative_to(ROOT)))
    assert offenders == []


# --- production settings -----------------------------------------------------------------------
PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings

# The manifest storage needs collectstatic; plain storage renders the same page.
plain_storage = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
client = Client()
with override_settings(STORAGES=plain_storage):
    plain = client.get("/accounts/login/")
    secure = client.get("/accounts/login/", secure=True)
csrf = secure.cookies[settings.CSRF_COOKIE_NAME]
print(json.dumps({
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location", ""),
    "headers": dict(secure.headers),
    "csrf_cookie": {"secure": bool(csrf["secure"]), "httponly": bool(csrf["httponly"])},
    "cookie_names": [settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME],
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "site_url": settings.SITE_URL,
}))
"""


@pytest.fixture(scope="module")
def production_probe(tmp_path_factory) -> dict:
    """What a request to the sign-in page gets under production settings (fresh process)."""
    tmp = tmp_path_factory.mktemp("production")
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=STRONG_KEY,
        DATABASE_URL=f"sqlite:///{tmp}/db.sqlite3",
        ALLOWED_HOSTS="testserver",
        METRICS_TOKEN="metrics-token-4e1f9a0b7c2d",
        VAR_DIR=str(tmp),
    )
    env.pop("SITE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_redirects_plain_http_to_https(production_probe):
    assert production_probe["plain_status"] == 301
    assert production_probe["plain_location"].startswith("https://")


def test_production_sends_the_security_headers(production_probe):
    headers = production_probe["headers"]
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = csp_directives(headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]


def test_production_cookies_are_https_only(production_probe):
    assert production_probe["csrf_cookie"] == {"secure": True, "httponly": True}
    assert production_probe["session_cookie_secure"] is True
    # ... and host-only: a sibling subdomain cannot plant them
    assert all(name.startswith("__Host-") for name in production_probe["cookie_names"])


def test_production_links_in_e_mails_default_to_the_allowed_host_over_https(production_probe):
    assert production_probe["site_url"] == "https://testserver"
