from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Support"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from support import (
            contact_tasks,  # noqa: F401  (what opens contact-the-customer tasks)
            receivers,  # noqa: F401  (the CSAT question once a new line is live)
            tasks,  # noqa: F401  (registers the Celery tasks in every process)
        )
        from support.models import ContactTask, CsatResponse, SupportTicket, TicketAnswer

        auditlog.register(SupportTicket)
        # Who answered what is audited; the e-mail task's delivery mark is not a person's act.
        auditlog.register(TicketAnswer, exclude_fields=["emailed_at"])
        auditlog.register(ContactTask)
        auditlog.register(CsatResponse)
