"""The Celery application shared by the web process, workers and beat."""

import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# filesystem:// (the embedded default) publishes atomically; see config/broker.py.
TRANSPORT_ALIASES["filesystem"] = "config.broker:AtomicFilesystemTransport"

app = Celery("order_to_activation")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
