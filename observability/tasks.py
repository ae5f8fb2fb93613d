"""Celery entry points of observability (beat sends them; see CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from observability.tallies import tally_fold


@shared_task(name="observability.tally_fold")
def fold_tallies() -> int:
    """Fold the pending tally deltas into the tallies, in batches until none is left (idempotent:
    a delta is folded once, by whichever run takes it)."""
    folded = total = tally_fold()
    while folded:
        folded = tally_fold()
        total += folded
    return total
