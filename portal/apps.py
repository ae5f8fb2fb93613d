from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from portal import (
            receivers,  # noqa: F401  (connects the signal receivers)
            tasks,  # noqa: F401  (registers the Celery tasks in every process)
        )
