from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Installed base"

    def ready(self) -> None:
        from inventory import receivers  # noqa: F401
