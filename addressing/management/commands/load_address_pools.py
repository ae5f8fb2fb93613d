from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from addressing.demo import demo_pools_ensure


class Command(BaseCommand):
    help = "Add the demo's static address pools (for the demo areas) if they are missing."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.SETTINGS_MODULE.endswith(".production"):
            raise CommandError("Demo pools are never loaded with production settings.")
        pools = demo_pools_ensure()
        self.stdout.write(self.style.SUCCESS(f"{len(pools)} demo address pools in place."))
