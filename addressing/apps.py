from django.apps import AppConfig


class AddressingConfig(AppConfig):
    name = "addressing"
    verbose_name = "Static IP addresses"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from addressing.models import AddressPool

        # Who changed a pool's network, gateway or reserved addresses, and when.
        auditlog.register(AddressPool)
