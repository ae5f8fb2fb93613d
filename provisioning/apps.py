from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    name = "provisioning"
    verbose_name = "Provisioning"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from orders.cancellation import plan_standing_register
        from provisioning import (
            receivers,  # noqa: F401  (connects the signal receivers)
            tasks,  # noqa: F401  (registers the Celery tasks in every process)
        )
        from provisioning.adapters.radius import (
            receivers as radius_receivers,  # noqa: F401  (the catalogue kept in step)
        )
        from provisioning.compensation import plan_standing
        from provisioning.models import ExceptionCase

        auditlog.register(ExceptionCase)
        plan_standing_register(plan_standing)
