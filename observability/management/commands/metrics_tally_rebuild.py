"""Recount the metrics' tallies from the tables (after a bulk load: bench data, an import)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from observability.tallies import tally_rebuild


class Command(BaseCommand):
    help = (
        "Recount the tallies behind /metrics (orders by state, task attempts and failures, "
        "e-mails, hub deliveries) from scratch. Counts whole tables: for after a bulk load."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = tally_rebuild()
        for metric, labels in sorted(counts.items()):
            total = sum(labels.values())
            self.stdout.write(f"{metric}: {total}")
            for label, n in sorted(labels.items()):
                self.stdout.write(f"  {label or '-'}: {n}")
