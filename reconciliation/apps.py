from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    name = "reconciliation"
    verbose_name = "Reconciliation"

    def ready(self) -> None:
        from reconciliation import tasks  # noqa: F401  (registers the Celery task everywhere)
