from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_migrate

        from orders import (
            access,  # noqa: F401  (ownership grants follow every order and customer save)
            events,  # noqa: F401  (status_changed_at follows every status event)
            live_push,  # noqa: F401  (open pages hear of every event after its commit)
            milestones,  # noqa: F401  (milestones are planned and met with the order)
            moves,  # noqa: F401  (a move's orders follow each other's status)
            roles,
            system_actors,  # noqa: F401  (post_migrate: the system users exist)
            tasks,  # noqa: F401  (registers the Celery tasks in every process)
        )
        from orders.models import Customer, Order, Plan, ServiceArea

        # After every app's post_migrate, not only ours: the groups hold permissions of apps
        # listed after orders (provisioning, billing), created by their own post_migrate.
        post_migrate.connect(roles.ensure_role_groups, dispatch_uid="orders.ensure_role_groups")
        auditlog.register(Order)
        auditlog.register(Customer)
        auditlog.register(Plan)
        auditlog.register(ServiceArea)
        auditlog.register(get_user_model(), exclude_fields=["password", "last_login"])
