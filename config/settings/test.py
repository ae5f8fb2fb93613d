"""Test settings. The database and broker still come from the environment, so the same suite
runs on the embedded default (make test) and on PostgreSQL + Redis (.ci/run)."""

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, VAR_DIR, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A real worker in a test writes its e-mails where the test can read them (tests/plugins/mail.py).
EMAIL_BACKEND = env.str(
    "TEST_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend"
)

# Tasks run in-process at commit unless a test starts a real worker (see tests/conftest.py).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True

# The customer's e-mails about their order's events: off unless a test is about them (the
# tests of notices set it, and pass it to a real worker), so other tests count only their own.
CUSTOMER_NOTICES_ON_EVENTS = env.bool("CUSTOMER_NOTICES_ON_EVENTS", default=False)

NETWORK_SIMULATOR_LATENCY_MS = env.int("NETWORK_SIMULATOR_LATENCY_MS", default=0)
PROVISIONING_RETRY_BACKOFF_SECONDS = env.int("PROVISIONING_RETRY_BACKOFF_SECONDS", default=0)
# Fast polling keeps the polling tests short; the push's browser test sets it long, so that only
# the push can explain a page that changes within a second.
LIVE_STATUS_POLL_MS = env.int("LIVE_STATUS_POLL_MS", default=500)

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so a real worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
