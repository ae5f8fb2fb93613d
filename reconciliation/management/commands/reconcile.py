"""``manage.py reconcile``: run the cross-system reconciliation now and print what it found."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from reconciliation.services import reconciliation_run


class Command(BaseCommand):
    help = (
        "Compare orders with billing, provisioning tasks with the network and the installed "
        "base with billing; record each mismatch and print a summary per kind."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        summary = reconciliation_run()
        for line in summary.lines():
            self.stdout.write(line)
        if summary.failed:
            raise CommandError(
                "check(s) failed: " + ", ".join(kind.value for kind in summary.failed)
            )
