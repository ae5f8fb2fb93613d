from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Installed base"

    def ready(self) -> None:
        from inventory import receivers  # noqa: F401
        from inventory.selectors import live_line
        from orders.installed_base import live_line_lookup_register

        live_line_lookup_register(live_line)
