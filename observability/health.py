"""Liveness and readiness for orchestrators (docker compose, Kubernetes, a load balancer).

``/health/live``: the process answers (nothing else is checked: a database outage must not get
every web process restarted). ``/health/ready``: it can do its work: the database answers
``SELECT 1`` and the broker accepts a connection; else 503 with a JSON body that says which
failed. Neither says why in its body (it is public): the reason goes to the log."""

from __future__ import annotations

import contextlib
import logging
import os

from django.db import connections

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2.0


def database_ready() -> bool:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means not ready; the reason is logged
        logger.warning("readiness: database unavailable: %s: %s", type(exc).__name__, exc)
        # A broken connection is dropped, so the next probe (or request) connects afresh.
        with contextlib.suppress(Exception):
            connection.close_if_unusable_or_obsolete()
        return False
    return True


def broker_ready() -> bool:
    from django.conf import settings

    from config.celery import app

    if str(settings.CELERY_BROKER_URL).startswith("filesystem://"):
        # The embedded broker is a folder: "reachable" is the folder being there and writable.
        folder = str(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in") or "")
        if not (folder and os.path.isdir(folder) and os.access(folder, os.W_OK)):
            logger.warning("readiness: broker folder %r missing or not writable", folder)
            return False
        return True
    try:
        # The broker the settings name (the app's configuration was read from them at start).
        with app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(
                max_retries=1,
                interval_start=0,
                interval_step=0,
                timeout=BROKER_TIMEOUT_SECONDS,
            )
    except Exception as exc:  # any failure means not ready; the reason is logged
        logger.warning("readiness: broker unavailable: %s: %s", type(exc).__name__, exc)
        return False
    return True


def readiness() -> tuple[bool, dict[str, str]]:
    """Whether this process may take traffic, and each check's answer ("ok"/"unavailable")."""
    checks = {
        "database": "ok" if database_ready() else "unavailable",
        "broker": "ok" if broker_ready() else "unavailable",
    }
    return all(answer == "ok" for answer in checks.values()), checks
