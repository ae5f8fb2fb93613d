from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from billing import (
            receivers,  # noqa: F401  (connects the signal receivers)
            tasks,  # noqa: F401  (registers the Celery tasks in every process)
        )
        from billing.models import BillingAccount, BillingWaiver

        auditlog.register(BillingAccount)
        auditlog.register(BillingWaiver)
