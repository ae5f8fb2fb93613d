from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Installed base"

    def ready(self) -> None:
        from inventory import receivers  # noqa: F401
        from inventory.selectors import live_line, product_origin
        from orders.installed_base import (
            live_line_lookup_register,
            product_origin_lookup_register,
        )

        live_line_lookup_register(live_line)
        product_origin_lookup_register(product_origin)
