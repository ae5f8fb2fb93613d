from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "kpis"
    verbose_name = "Operations KPIs"

    def ready(self) -> None:
        from kpis import tasks  # noqa: F401  (registers the Celery tasks in every process)
