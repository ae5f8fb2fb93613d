"""The demo and development on a bare machine (`make run`): SQLite, filesystem broker, e-mails
to files under var/mail/, DEBUG off so the demo looks like the product (``DEBUG=1`` for
Django's technical error pages while developing)."""

from config.settings.base import *  # noqa: F403
from config.settings.base import MIDDLEWARE, VAR_DIR, env

DEBUG = env.bool("DEBUG", default=False)

# Static files as production serves them (WhiteNoise, the Dockerfile's way), but straight from
# the source folders: no collectstatic, and edits show on the next request.
MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Links in e-mails point at the port the launcher serves on (scripts/run_local.py sets PORT).
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}")
SITE_URL = SITE_URL.rstrip("/")

# E-mails: one file each under var/mail/ and one line on the console, unless EMAIL_URL names a
# real server (then base.py's EMAIL_URL settings stand).
if not env.str("EMAIL_URL", default=""):
    EMAIL_BACKEND = "config.mail.FileWithSummaryBackend"
    EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
