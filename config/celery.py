"""The Celery application shared by the web process, workers and beat."""

import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# filesystem:// (the embedded default) publishes atomically; see config/broker.py.
TRANSPORT_ALIASES["filesystem"] = "config.broker:AtomicFilesystemTransport"

app = Celery("order_to_activation")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Workers and beat log as the web does (the settings' LOGGING: LOG_FORMAT json or plain, each
# line with the order it is about; observability.logs), not in Celery's own format.
@setup_logging.connect
def _logging_from_settings(**kwargs: Any) -> None:
    from observability.logs import configure_from_django_settings

    configure_from_django_settings(**kwargs)
