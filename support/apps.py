from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Support"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from support.models import SupportTicket

        auditlog.register(SupportTicket)
