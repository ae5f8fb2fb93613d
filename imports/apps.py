from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """Bringing customers and orders in from the legacy system (manage.py import_orders)."""

    name = "imports"
    verbose_name = "Legacy migration import"
