"""Real-browser fixtures: Debian's chromium driven by Playwright (sync API) against
pytest-django's live server.

One browser for the whole package (see ``chromium``); every test gets a fresh context (no
cookies, no storage) and page. Data fixtures (plans, areas, role users, scenario orders) come
from tests/conftest.py and tests/plugins/scenarios.py; every user there signs in with
``USER_PASSWORD``.

Celery runs eagerly in test settings, so an order submitted through a page is activated (or
routed) inside the live server's request thread, and service calls made from the test thread
run their after-commit work in the test thread.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
USER_PASSWORD = "password"  # tests.factories.UserFactory
# Fail fast: every page here answers in well under a second on the live server.
ACTION_TIMEOUT_MS = 10_000


def chromium_executable() -> str | None:
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium")


@contextlib.contextmanager
def async_unsafe_orm_allowed() -> Iterator[None]:
    """Playwright's sync API keeps an event loop running in the test thread, and Django's ORM
    refuses to run where a loop runs unless told that this is deliberate (the loop itself never
    touches the ORM). Set only while the browser is open: a process started later (manage.py
    check --deploy in tests/config) must not inherit it."""
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


# Package scope: one browser for all the browser tests (they are this package), closed before
# the rest of the suite runs, since its running event loop would trip the ORM everywhere.
@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    """The browser tests' chromium. Skips them where chromium is not installed (a bare
    machine running `make test`); CI installs it, so there they always run."""
    executable = chromium_executable()
    if executable is None:
        pytest.skip(
            f"browser tests need Debian's chromium ({CHROMIUM}; apt-get install chromium), "
            "which is not installed on this machine, so they are skipped here. CI installs "
            "it and runs them."
        )
    with async_unsafe_orm_allowed(), sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def open_page(chromium: Browser, live_server: Any) -> Iterator[Callable[..., Page]]:
    """``open_page(viewport=None)``: a page in a fresh browser context whose relative URLs go
    to the live server. Contexts are closed after the test."""
    contexts: list[BrowserContext] = []

    def open_(*, viewport: dict[str, int] | None = None) -> Page:
        options: dict[str, Any] = {"base_url": live_server.url}
        if viewport is not None:
            options["viewport"] = viewport
        context = chromium.new_context(**options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page: Callable[..., Page]) -> Page:
    """A desktop-sized page in a fresh context."""
    return open_page()


def sign_in(page: Page, username: str, *, password: str = USER_PASSWORD) -> None:
    """Sign in through the real login form; the browser then lands on the role's page."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if "/accounts/login/" in page.url:
        raise AssertionError(f"sign-in as {username!r} failed: still on {page.url}")
