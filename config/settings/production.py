"""Production: secrets must come from the environment; HTTPS everywhere."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import MIDDLEWARE, PROVISIONING_TASK_ADAPTERS, SECRET_KEY, env

DEBUG = False
# Static files straight from the app server, compressed and cache-busted (no extra proxy rule).
MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]

if not SECRET_KEY or SECRET_KEY.startswith("dev-only") or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set in the environment to a random value of at least 50 characters."
    )
if not env.str("DATABASE_URL", default=""):
    raise ImproperlyConfigured("DATABASE_URL must be set in production.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
# Links in e-mails: the first allowed host over HTTPS unless SITE_URL says otherwise.
SITE_URL = env.str("SITE_URL", default=f"https://{ALLOWED_HOSTS[0].lstrip('.')}").rstrip("/")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# The __Host- prefix makes browsers refuse these cookies unless Secure, host-only and path /:
# a sibling subdomain cannot plant a session or CSRF cookie for us.
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Hub listeners: besides link-local, "this network" and multicast, never the app's own host.
TMF_HUB_BLOCKED_NETWORKS = env.list(
    "TMF_HUB_BLOCKED_NETWORKS",
    default=[
        "169.254.0.0/16",
        "fe80::/10",
        "0.0.0.0/8",
        "224.0.0.0/4",
        "ff00::/8",
        "127.0.0.0/8",
        "::1/128",
    ],
)

# The metrics endpoint is never open: a scraper must hold this token (observability.views).
if len(env.str("METRICS_TOKEN", default="")) < 20:
    raise ImproperlyConfigured(
        "METRICS_TOKEN must be set in production to a random value of at least 20 characters "
        "(the bearer token Prometheus sends to /metrics)."
    )

# A network adapter in use signs with a secret of this operator's, never the development one
# (FreeRADIUS's stock clients.conf secret), and derives passwords with a key of its own.
_routes = {*PROVISIONING_TASK_ADAPTERS.values()}
if any(".radius." in route for route in _routes) and env.str(
    "RADIUS_COA_SECRET", default="testing123"
) in ("", "testing123"):
    raise ImproperlyConfigured(
        "RADIUS_COA_SECRET must be set in production when FreeRADIUS does the subscribers' tasks "
        "(the shared secret of the NASes' CoA/Disconnect port; not the stock 'testing123')."
    )
# Subscribers' passwords are derived with this key (provisioning.adapters.credentials): left to
# default to SECRET_KEY, rotating that key would lock every customer out.
if (
    any(".radius." in route or ".acs." in route for route in _routes)
    and len(env.str("SUBSCRIBER_CREDENTIALS_KEY", default="")) < 32
):
    raise ImproperlyConfigured(
        "SUBSCRIBER_CREDENTIALS_KEY must be set in production (32+ random characters) when "
        "FreeRADIUS or the ACS is in use: subscribers' passwords are derived with it, and "
        "changing it changes every password."
    )
