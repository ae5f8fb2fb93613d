"""``manage.py import_orders FILE.csv [--dry-run] [--batch-size N] [--no-progress]``: customers,
live services and historical orders from the legacy system (docs/migration-import.md).

Every bad row is reported as ``line N, field: message``; the summary counts the rows imported,
imported before (left as they are) and refused. The exit status is 1 when any row was refused.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from imports.rows import FileUnreadable
from imports.services import DEFAULT_BATCH_SIZE, ImportInterrupted, legacy_file_import


class ProgressBar:
    """A one-line bar on ``stream`` (stderr), redrawn in place."""

    WIDTH = 30

    def __init__(self, stream: OutputWrapper, label: str) -> None:
        self.stream = stream
        self.label = label
        self.ended = True  # nothing drawn yet

    def __call__(self, done: int, total: int) -> None:
        share = done / total if total else 1.0
        filled = round(self.WIDTH * share)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        line = f"\r{self.label} [{bar}] {done}/{total} rows ({share:.0%})"
        self.ended = done >= total
        self.stream.write(line, ending="\n" if self.ended else "")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line, if a run stopped before its end."""
        if not self.ended:
            self.stream.write("", ending="\n")
            self.stream.flush()


def _batch_size(value: str) -> int:
    try:
        size = int(value)
    except ValueError:
        size = 0
    if size < 1:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1, not '{value}'")
    return size


class Command(BaseCommand):
    help = (
        "Import customers, live services and historical orders from a legacy CSV export, with no "
        "side effects (no provisioning, billing start, e-mail or hub event). Importing the same "
        "file again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The legacy export (CSV, UTF-8).")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check every row and report; write nothing.",
        )
        parser.add_argument(
            "--batch-size",
            type=_batch_size,
            default=DEFAULT_BATCH_SIZE,
            help=f"Rows per transaction (default {DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar on stderr.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        dry_run: bool = options["dry_run"]
        bar = None if options["no_progress"] else ProgressBar(self.stderr, "Importing")
        try:
            report = legacy_file_import(
                path, dry_run=dry_run, batch_size=options["batch_size"], progress=bar
            )
        except (FileUnreadable, ImportInterrupted) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if bar is not None:
                bar.close()
        for error in report.errors:
            self.stdout.write(str(error))
        if options["verbosity"] >= 2:
            for line, order_id in sorted(report.already_imported.items()):
                self.stdout.write(f"line {line}: already imported (order {order_id}), unchanged.")
        prefix = "Dry run, nothing written. " if dry_run else ""
        self.stdout.write(prefix + report.summary)
        if report.errors:
            raise CommandError(
                f"{len(report.refused_lines)} row(s) refused"
                + ("." if dry_run else "; the other rows were imported.")
            )
