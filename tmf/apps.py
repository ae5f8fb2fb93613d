from django.apps import AppConfig


class TmfConfig(AppConfig):
    name = "tmf"
    verbose_name = "TM Forum Open APIs and event hub"

    def ready(self) -> None:
        from tmf import (
            receivers,  # noqa: F401  (order events become hub notifications)
            tasks,  # noqa: F401  (registers the Celery tasks in every process)
        )
        from tmf.inventory import receivers as inventory_receivers  # noqa: F401
        from tmf.productorder import events_v5  # noqa: F401  (milestone and jeopardy events)
