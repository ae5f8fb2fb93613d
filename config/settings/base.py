"""Settings shared by every environment. Every value comes from the environment, with a
development default; production.py removes the defaults that must not reach production."""

import datetime
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()

SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "guardian",
    "auditlog",
    "axes",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "orders",
    "provisioning",
    "billing",
    "inventory",
    "support",
    "portal",
    "notices",
    "tmf",
    "kpis",
    "imports",
]

MIDDLEWARE = [
    # Outermost, so that it sees a database outage raised anywhere below it (answers 503).
    "config.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    # Last, as django-axes asks: it turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: WAL lets readers run beside the writer, IMMEDIATE
    # transactions take the write lock up front so two writers queue instead of deadlocking.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses any sign-in attempt while its username + IP pair is locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "portal.accounts.EmailSignInBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "login"
# Invitation and password-reset links work once, and for this long.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="orders@isp.example")

# Where people reach the site: the base of the absolute links in e-mails (no request there).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Cache ----------------------------------------------------------------------------------
# Holds the tracking page's failed-lookup counters (portal.accounts). Every web process must
# see the same counters, so production sets CACHE_URL to a shared cache (Redis, a database
# other than the broker's: the cache may be cleared). The default is per process.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# A working day and a bit: staff sign in once per shift.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# Reverse proxies in front of the app that append to X-Forwarded-For (the TLS proxy: 1). The
# client address for lockouts and rate limits is read that many hops from the right; 0 trusts
# no header and uses the socket's peer address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Content-Security-Policy (django-csp): only our own scripts, no inline script or handler.
# Inline <style> blocks stay allowed for the Django admin pages that use them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Sign-in lockout (django-axes): 5 failures for one username from one address lock that pair
# for 15 minutes; a successful sign-in clears the count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal.accounts.sign_in_locked_out"
AXES_CLIENT_IP_CALLABLE = "portal.accounts.client_ip"
AXES_USERNAME_CALLABLE = "portal.accounts.sign_in_username"

# Anonymous order tracking (/track/): failed lookups allowed per window, per client address
# and per order ID, so order IDs and postcodes cannot be guessed by brute force.
TRACKING_WINDOW_SECONDS = env.int("TRACKING_WINDOW_SECONDS", default=15 * 60)
TRACKING_MAX_FAILURES_PER_IP = env.int("TRACKING_MAX_FAILURES_PER_IP", default=10)
TRACKING_MAX_FAILURES_PER_ORDER = env.int("TRACKING_MAX_FAILURES_PER_ORDER", default=5)
# How long a tracking result page keeps following its order by itself (its signed token).
TRACKING_LIVE_SECONDS = env.int("TRACKING_LIVE_SECONDS", default=2 * 3600)
# Password-reset e-mails sent per address per tracking window, at most (the form answers the
# same either way: it never tells whether an address is known).
PASSWORD_RESET_MAX_PER_EMAIL = env.int("PASSWORD_RESET_MAX_PER_EMAIL", default=3)

# --- Celery -------------------------------------------------------------------------------
# The embedded default needs no server: kombu's filesystem transport, in var/broker.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = Path(env.str("CELERY_BROKER_DIR", default=str(VAR_DIR / "broker")))
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # A worker holds only prefetch-many messages, then sleeps this long before looking
        # again: 0.2 s capped throughput near 10 tasks/s; 0.05 s is cheap on a local folder.
        "polling_interval": 0.05,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# No task runs longer than this (its worker process is killed): a message started longer ago
# than OUTBOX_LEASE_SECONDS and not completed has no worker left on it.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=90)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=120)
# Housekeeping (the due dispatcher, recovery, releasing scheduled orders) has its own queue and
# its own worker: it must never wait behind the backlog it is there to clear.
OUTBOX_HOUSEKEEPING_QUEUE = env.str("OUTBOX_HOUSEKEEPING_QUEUE", default="housekeeping")
CELERY_TASK_ROUTES = {
    name: {"queue": OUTBOX_HOUSEKEEPING_QUEUE}
    for name in (
        "orders.outbox_dispatch_due",
        "orders.outbox_recover",
        "orders.outbox_purge_completed",
        "orders.release_due_orders",
        "orders.cancel_due_orders",
    )
}


def _every(task: str, seconds: float) -> dict[str, object]:
    # A beat message not taken within its period is dropped: the next one does the same job.
    return {"task": task, "schedule": seconds, "options": {"expires": max(seconds, 5.0)}}


CELERY_BEAT_SCHEDULE = {
    "outbox-dispatch-due": _every(
        "orders.outbox_dispatch_due", env.float("OUTBOX_DISPATCH_EVERY_SECONDS", default=1.0)
    ),
    "outbox-recover": _every(
        "orders.outbox_recover", env.float("OUTBOX_RECOVER_EVERY_SECONDS", default=10.0)
    ),
    "outbox-purge-completed": _every("orders.outbox_purge_completed", 3600.0),
    "release-scheduled-orders": _every("orders.release_due_orders", 60.0),
    "jeopardy-scan": _every(
        "orders.jeopardy_scan", env.float("JEOPARDY_SCAN_EVERY_SECONDS", default=60.0)
    ),
    # Cancellations asked for a later date (orders.scheduled_cancellations): a missed run
    # only delays them to the next one.
    "cancel-due-orders": _every(
        "orders.cancel_due_orders", env.float("CANCEL_DUE_EVERY_SECONDS", default=60.0)
    ),
    "cycle-times-refresh": _every(
        "orders.cycle_times_refresh", env.float("CYCLE_TIME_REFRESH_EVERY_SECONDS", default=3600.0)
    ),
    # The KPI dashboard's summary rows (kpis.refresh): today's and yesterday's every few
    # minutes, the last weeks' once a day (an order amended after the day it was counted).
    "kpis-refresh-recent": _every(
        "kpis.refresh_recent", env.float("KPI_REFRESH_EVERY_SECONDS", default=300.0)
    ),
    "kpis-refresh-daily": _every("kpis.refresh_daily", 86400.0),
}

KPI_REFRESH_RECENT_DAYS = env.int("KPI_REFRESH_RECENT_DAYS", default=2)
KPI_REFRESH_DAILY_DAYS = env.int("KPI_REFRESH_DAILY_DAYS", default=35)

# Measured cycle times (orders.cycle_times): the expected activation date is the 80th percentile
# of the working days the activations of the last 90 days took, per area and plan, else per
# area, else per technology, a level counting only with at least 20 of them; else the standard
# lead time (MANUAL_PROVISIONING_LEAD_DAYS). Each process re-reads the estimates this often.
CYCLE_TIME_WINDOW_DAYS = env.int("CYCLE_TIME_WINDOW_DAYS", default=90)
CYCLE_TIME_MIN_SAMPLES = env.int("CYCLE_TIME_MIN_SAMPLES", default=20)
CYCLE_TIME_PERCENTILE = env.int("CYCLE_TIME_PERCENTILE", default=80)
CYCLE_TIME_CACHE_SECONDS = env.float("CYCLE_TIME_CACHE_SECONDS", default=300.0)

# The share of a milestone's allowed time (in percent) at which it is at risk, late and
# critical (orders.jeopardy).
JEOPARDY_THRESHOLDS = {
    "at_risk": env.int("JEOPARDY_AT_RISK_PERCENT", default=75),
    "late": env.int("JEOPARDY_LATE_PERCENT", default=100),
    "critical": env.int("JEOPARDY_CRITICAL_PERCENT", default=150),
}

# --- TM Forum Open APIs (tmf) ----------------------------------------------------------------
# Registered client systems with bearer tokens and scopes (tmf.auth); errors in the TM Forum
# body (tmf.errors); JSON only.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tmf.auth.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["tmf.auth.HasScope"],
    "DEFAULT_RENDERER_CLASSES": ["tmf.wire.TmfJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["tmf.wire.TmfJSONParser", "tmf.wire.MergePatchParser"],
    "DEFAULT_THROTTLE_CLASSES": ["tmf.auth.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"client": env.str("TMF_API_RATE", default="600/min")},
    "EXCEPTION_HANDLER": "tmf.errors.tmf_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Order-to-activation: TM Forum Open APIs",
    "DESCRIPTION": (
        "TMF622 Product Ordering v4, TMF679 Product Offering Qualification v4, TMF620 "
        "Product Catalog v4 (read) and TMF637 Product Inventory v4 (read), with their event "
        "hubs. Authenticate with "
        "`Authorization: Bearer <token>` (`python manage.py create_api_client`)."
    ),
    "VERSION": "4.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tmf.openapi.tmf_paths",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ProductOrderStateType": "tmf.productorder.serializers.PRODUCT_ORDER_STATES",
        "ProductOrderItemStateType": "tmf.productorder.serializers.PRODUCT_ORDER_ITEM_STATES",
        "TaskStateType": "tmf.models.TASK_STATES",
        "ProductStatusType": "tmf.inventory.docs.PRODUCT_STATUSES",
        # Item and product relationships: an add-on relies on its line (TMF622, TMF637, TMF679);
        # a specification depends on the one its add-ons are sold with (TMF620).
        "ReliesOnRelationshipType": [("reliesOn", "reliesOn")],
        "SpecificationRelationshipType": [("dependency", "dependency")],
    },
}
# Hub notifications: per try, how long to wait for the listener; how many tries (with
# exponential backoff from TMF_HUB_RETRY_BASE_SECONDS, capped at TMF_HUB_RETRY_MAX_SECONDS)
# before a delivery is marked failed for a person to replay from the admin.
TMF_HUB_TIMEOUT_SECONDS = env.float("TMF_HUB_TIMEOUT_SECONDS", default=5.0)
TMF_HUB_MAX_ATTEMPTS = env.int("TMF_HUB_MAX_ATTEMPTS", default=12)
TMF_HUB_RETRY_BASE_SECONDS = env.int("TMF_HUB_RETRY_BASE_SECONDS", default=10)
TMF_HUB_RETRY_MAX_SECONDS = env.int("TMF_HUB_RETRY_MAX_SECONDS", default=3600)
# Networks no listener's callback may resolve to (tmf.hub.callbacks): link-local (cloud
# metadata services), "this network" and multicast. Production adds loopback.
TMF_HUB_BLOCKED_NETWORKS = env.list(
    "TMF_HUB_BLOCKED_NETWORKS",
    default=["169.254.0.0/16", "fe80::/10", "0.0.0.0/8", "224.0.0.0/4", "ff00::/8"],
)

# --- Domain -------------------------------------------------------------------------------
# The outbox (orders.outbox): work stays on record until it is done.
# A message started this long ago and not completed lost its worker (more than the task
# hard time limit, so no worker can still be on it); recovery hands it over again.
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=CELERY_TASK_TIME_LIMIT + 30)
# A message handed to the broker this long ago, not started, and not among those the broker
# still holds in its queue, was lost by the broker; recovery hands it over again.
OUTBOX_LOST_AFTER_SECONDS = env.int("OUTBOX_LOST_AFTER_SECONDS", default=20)
# A task that fails is tried again after base * 2^(tries-1) seconds, capped; a defect (not a
# database, broker or declared transient error) is given up after OUTBOX_MAX_ATTEMPTS tries.
OUTBOX_RETRY_BASE_SECONDS = env.float("OUTBOX_RETRY_BASE_SECONDS", default=5.0)
OUTBOX_RETRY_MAX_SECONDS = env.float("OUTBOX_RETRY_MAX_SECONDS", default=600.0)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
# Completed messages are kept this long (to look at in the admin), then deleted.
OUTBOX_KEEP_COMPLETED_DAYS = env.int("OUTBOX_KEEP_COMPLETED_DAYS", default=14)
# The adapter that talks to the network. The simulator stands in for the real network.
PROVISIONING_NETWORK_ADAPTER = env.str(
    "PROVISIONING_NETWORK_ADAPTER",
    default="provisioning.adapters.simulator.SimulatedNetworkAdapter",
)
# provisioning.adapters.routed.RoutedNetworkAdapter: the adapter of each task type (JSON,
# task type -> dotted path), and the one of every type not named.
# (Empty, as compose passes an unset variable: no routes.)
PROVISIONING_TASK_ADAPTERS = (
    env.json("PROVISIONING_TASK_ADAPTERS", default={})
    if env.str("PROVISIONING_TASK_ADAPTERS", default="").strip()
    else {}
)
PROVISIONING_FALLBACK_ADAPTER = env.str(
    "PROVISIONING_FALLBACK_ADAPTER",
    default="provisioning.adapters.simulator.SimulatedNetworkAdapter",
)
# The key subscribers' sign-in passwords are derived with (provisioning.adapters.credentials).
SUBSCRIBER_CREDENTIALS_KEY = env.str("SUBSCRIBER_CREDENTIALS_KEY", default="") or SECRET_KEY
# --- CPE pre-registration through GenieACS (issue 13: provisioning.adapters.acs) ---
# The ACS's northbound REST API (NBI, port 7557), its basic-auth credentials if it asks for
# them, how long one call may take, and the router's data model: "tr098"
# (InternetGatewayDevice...) or "tr181" (Device...), which picks the PPPoE parameter paths the
# pre-registration writes unless a path is given here.
GENIEACS_URL = env.str("GENIEACS_URL", default="http://127.0.0.1:7557")
GENIEACS_USERNAME = env.str("GENIEACS_USERNAME", default="")
GENIEACS_PASSWORD = env.str("GENIEACS_PASSWORD", default="")
GENIEACS_TIMEOUT_SECONDS = env.float("GENIEACS_TIMEOUT_SECONDS", default=10.0)
GENIEACS_DATA_MODEL = env.str("GENIEACS_DATA_MODEL", default="tr098")
if GENIEACS_DATA_MODEL not in ("tr098", "tr181"):
    raise ImproperlyConfigured(
        f'GENIEACS_DATA_MODEL is "tr098" or "tr181", not "{GENIEACS_DATA_MODEL}".'
    )
GENIEACS_PPPOE_USERNAME_PATH = env.str("GENIEACS_PPPOE_USERNAME_PATH", default="")
GENIEACS_PPPOE_PASSWORD_PATH = env.str("GENIEACS_PPPOE_PASSWORD_PATH", default="")
# Ask a router that is already known to the ACS to call in now (a connection request), so it
# takes its new configuration at once rather than at its next periodic inform.
GENIEACS_CONNECTION_REQUEST = env.bool("GENIEACS_CONNECTION_REQUEST", default=True)
# --- FreeRADIUS adapter (provisioning.adapters.radius; docs/network-radius.md) -------------
# The RADIUS database, as the adapter's restricted role (manage.py radius_setup creates it).
RADIUS_DATABASE_URL = env.str(
    "RADIUS_DATABASE_URL", default="postgres://oa_radius:oa_radius@127.0.0.1:5432/radius"
)
RADIUS_DATABASE_TIMEOUT_SECONDS = env.int("RADIUS_DATABASE_TIMEOUT_SECONDS", default=5)
# CoA and Disconnect (RFC 5176) to the NAS of each open session: its port, the shared secret
# when the ``nas`` table names none for it, how long to wait per try and how many tries.
RADIUS_COA_PORT = env.int("RADIUS_COA_PORT", default=3799)
RADIUS_COA_SECRET = env.str("RADIUS_COA_SECRET", default="testing123")
RADIUS_COA_TIMEOUT_SECONDS = env.float("RADIUS_COA_TIMEOUT_SECONDS", default=2.0)
RADIUS_COA_RETRIES = env.int("RADIUS_COA_RETRIES", default=2)
# A suspended subscriber: "reject" (Auth-Type := Reject, sessions disconnected) or
# "walled-garden" (in RADIUS_WALLED_GARDEN_GROUP with these replies, sessions moved by CoA).
RADIUS_SUSPEND_MODE = env.str("RADIUS_SUSPEND_MODE", default="reject")
RADIUS_WALLED_GARDEN_GROUP = env.str("RADIUS_WALLED_GARDEN_GROUP", default="walled-garden")
RADIUS_WALLED_GARDEN_REPLY = env.json(
    "RADIUS_WALLED_GARDEN_REPLY",
    default={"Filter-Id": "walled-garden", "Mikrotik-Address-List": "walled-garden"},
)
# Seconds between a NAS's interim accounting updates (a reply attribute of every plan group).
RADIUS_ACCT_INTERIM_INTERVAL = env.int("RADIUS_ACCT_INTERIM_INTERVAL", default=300)
# Simulator: latency per provisioning step, and failure rules as JSON (see provisioning/adapters).
NETWORK_SIMULATOR_LATENCY_MS = env.int("NETWORK_SIMULATOR_LATENCY_MS", default=400)
NETWORK_SIMULATOR_RULES = env.json("NETWORK_SIMULATOR_RULES", default=None)
# Automatic attempts (with exponential backoff) before a transient failure becomes an exception.
PROVISIONING_MAX_AUTO_ATTEMPTS = env.int("PROVISIONING_MAX_AUTO_ATTEMPTS", default=3)
PROVISIONING_RETRY_BACKOFF_SECONDS = env.int("PROVISIONING_RETRY_BACKOFF_SECONDS", default=30)
# A suspended line's bill (billing.changes): "charge" keeps charging while it is suspended;
# "pause" ends its recurring charges (and its add-ons') at the suspension and starts them again
# at the resumption, both periods prorated by day.
BILLING_SUSPENDED_LINES = env.str("BILLING_SUSPENDED_LINES", default="charge")
if BILLING_SUSPENDED_LINES not in ("charge", "pause"):
    raise ImproperlyConfigured(
        f'BILLING_SUSPENDED_LINES is "charge" or "pause", not "{BILLING_SUSPENDED_LINES}".'
    )
# Phone numbers of this country are stored in national form (see orders.services.normalize_phone).
PHONE_COUNTRY_CODE = env.str("PHONE_COUNTRY_CODE", default="44")
# Working days quoted to the customer when an order needs the provisioning team by hand.
MANUAL_PROVISIONING_LEAD_DAYS = env.int("MANUAL_PROVISIONING_LEAD_DAYS", default=3)
# How often the tracking pages ask for news (US-02: visible within 60 s; we aim for 2 s).
LIVE_STATUS_POLL_MS = env.int("LIVE_STATUS_POLL_MS", default=2000)
# Open pages are told of a change the moment it commits (orders.live_push): a server-sent event
# stream per page, from an ASGI server (uvicorn), through Redis pub/sub when there is a Redis
# (LIVE_PUSH_REDIS_URL; by default the broker's, when that is Redis), or else one indexed query
# of the event table every LIVE_PUSH_DB_POLL_MS per web process. Pages poll as above when the
# push is off (LIVE_PUSH_ENABLED) or unavailable (a WSGI server: runserver, gunicorn).
LIVE_PUSH_ENABLED = env.bool("LIVE_PUSH_ENABLED", default=True)
LIVE_PUSH_REDIS_URL = env.str(
    "LIVE_PUSH_REDIS_URL",
    default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "",
)
LIVE_PUSH_DB_POLL_MS = env.int("LIVE_PUSH_DB_POLL_MS", default=250)
# A stream ends after this long and the page opens another, so that who may see the order is
# checked again (a tracking token that ran out, a grant taken away).
LIVE_PUSH_STREAM_SECONDS = env.int("LIVE_PUSH_STREAM_SECONDS", default=300)
# A comment line this often keeps proxies from closing an idle stream.
LIVE_PUSH_KEEPALIVE_SECONDS = env.int("LIVE_PUSH_KEEPALIVE_SECONDS", default=15)
# A worklist hears at once of a change that may bring an order into it (one it does not list
# yet), then at most once in this many seconds: each such change costs the page a read of itself.
LIVE_PUSH_LIST_MIN_SECONDS = env.float("LIVE_PUSH_LIST_MIN_SECONDS", default=2.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Lockouts are warnings; every sign-in and failure at INFO would drown the log.
        "axes": {"level": "WARNING"},
    },
}

# The customer is e-mailed about their order's events (notices.receivers). On everywhere but in
# tests, which turn it on where they are about it (tests of other areas count their own e-mails).
CUSTOMER_NOTICES_ON_EVENTS = env.bool("CUSTOMER_NOTICES_ON_EVENTS", default=True)

# Customer satisfaction (support.csat_links): the feedback link in the CSAT e-mail works for
# this many days after it was sent; the order page asks the same question with no limit.
CSAT_LINK_MAX_AGE_DAYS = env.int("CSAT_LINK_MAX_AGE_DAYS", default=30)
# --- Cross-system reconciliation (reconciliation) ----------------------------------------------
# Hourly by default, orders are compared with billing, provisioning tasks with the network and
# the installed base with billing; what changed within the grace period is not a mismatch yet
# (the systems may still be catching up). One run at a million orders takes minutes: its own
# time limit, above the default task limits.
INSTALLED_APPS += ["reconciliation"]
RECONCILIATION_GRACE_MINUTES = env.int("RECONCILIATION_GRACE_MINUTES", default=30)
RECONCILIATION_INTERVAL_MINUTES = env.int("RECONCILIATION_INTERVAL_MINUTES", default=60)
RECONCILIATION_TIME_LIMIT_SECONDS = env.int("RECONCILIATION_TIME_LIMIT_SECONDS", default=1800)
if RECONCILIATION_GRACE_MINUTES < 0 or RECONCILIATION_INTERVAL_MINUTES < 1:
    raise ImproperlyConfigured(
        "RECONCILIATION_GRACE_MINUTES must be 0 or more and RECONCILIATION_INTERVAL_MINUTES "
        "1 or more."
    )
CELERY_BEAT_SCHEDULE["reconciliation-run"] = _every(
    "reconciliation.run", RECONCILIATION_INTERVAL_MINUTES * 60.0
)
# --- Reconciliation with RADIUS (reconciliation.checks_radius, .repairs) -----------------------
# When the subscribers are in FreeRADIUS, each run also compares the installed base with it;
# what has a clear fix (a missing subscriber, a wrong plan group, a bar, an open session of a
# ceased line) is handed to a repair task. False: only listed, a person repairs.
RECONCILIATION_RADIUS_REPAIR = env.bool("RECONCILIATION_RADIUS_REPAIR", default=True)
# --- Observability (observability) ------------------------------------------------------------
# /metrics (Prometheus) for a scraper with `Authorization: Bearer $METRICS_TOKEN` (production
# refuses to start without one); /health/live and /health/ready for orchestrators, answered
# before everything else (any Host header, no HTTPS redirect). See docs/observability.md.
INSTALLED_APPS += ["observability"]
MIDDLEWARE = [
    "observability.middleware.HealthMiddleware",
    "observability.middleware.RequestObservabilityMiddleware",
    *MIDDLEWARE,
]
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Several web processes (uvicorn --workers) share their request metrics through files here;
# prometheus_client reads the variable itself, so it is set in the processes' environment.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
if PROMETHEUS_MULTIPROC_DIR:
    Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)
# Tallies behind /metrics (orders by state, attempts, e-mails, hub) are folded this often.
CELERY_BEAT_SCHEDULE["metrics-tally-fold"] = _every(
    "observability.tally_fold", env.float("METRICS_TALLY_FOLD_EVERY_SECONDS", default=5.0)
)
CELERY_TASK_ROUTES["observability.tally_fold"] = {"queue": OUTBOX_HOUSEKEEPING_QUEUE}
# Beat touches this file at every tick: its health check is the file's age.
CELERY_BEAT_SCHEDULER = "observability.beat:HeartbeatScheduler"
BEAT_HEARTBEAT_FILE = env.str("BEAT_HEARTBEAT_FILE", default=str(VAR_DIR / "beat-heartbeat"))
# Log lines: "plain" text (the default, for `make run`) or "json", one object per line
# (docker-compose and production); each line carries the order it is about (order_id, and the
# Celery task, plan step and attempt where there is one).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f'LOG_FORMAT is "plain" or "json", not "{LOG_FORMAT}".')
LOGGING["filters"] = {"order_context": {"()": "observability.logs.OrderContextFilter"}}
LOGGING["formatters"] = {
    "plain": {
        "()": "observability.logs.PlainFormatter",
        "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
    },
    "json": {"()": "observability.logs.JsonFormatter"},
}
LOGGING["handlers"] = {
    "console": {
        "class": "logging.StreamHandler",
        "formatter": LOG_FORMAT,
        "filters": ["order_context"],
    }
}
# --- Static IP address pools (addressing) ------------------------------------------------------
# Pools per service area, allocated by provisioning.adapters.addresses.StaticAddressAdapter
# when allocate_address is routed to it (PROVISIONING_TASK_ADAPTERS). A released address is
# handed out again only after this many days (0: at once), so that a new customer does not
# inherit the last one's allow-lists, DNS and abuse reports. See docs/network-addresses.md.
INSTALLED_APPS += ["addressing"]
ADDRESSING_QUARANTINE_DAYS = env.int("ADDRESSING_QUARANTINE_DAYS", default=7)
if ADDRESSING_QUARANTINE_DAYS < 0:
    raise ImproperlyConfigured("ADDRESSING_QUARANTINE_DAYS must be 0 or more.")
