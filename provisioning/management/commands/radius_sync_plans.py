"""Write every internet plan's RADIUS group (plan-<code>: its speed as reply attributes) and the
walled garden, as the catalogue has them now. Run it after changing a plan's speed; the adapter
also writes a plan's group each time it puts a subscriber in it. Idempotent."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from provisioning.adapters.radius.adapter import plans_sync


class Command(BaseCommand):
    help = "Write each plan's RADIUS group and reply attributes from the catalogue."

    def handle(self, *args: Any, **options: Any) -> None:
        written = plans_sync()
        self.stdout.write(f"{written} RADIUS group(s) written.")
