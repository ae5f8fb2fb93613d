from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = "Customer notices"

    def ready(self) -> None:
        from notices import receivers, tasks  # noqa: F401  (the triggers and the Celery task)
