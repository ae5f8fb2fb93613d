"""Counts the metrics endpoint reads without counting a big table per scrape.

A business event (an order's status change, a task attempt, an e-mail sent) writes one
``TallyDelta`` in its own transaction, so a count is never ahead of or behind what committed;
``observability.tallies.tally_fold`` (a beat task) moves the deltas into ``Tally``, one row per
metric and label. A scrape reads ``Tally`` plus the deltas not folded yet: two small tables."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Tally(models.Model):
    """The running count of one metric for one label value (an order state, a reason code)."""

    metric = models.CharField(max_length=60)
    label = models.CharField(max_length=120, blank=True)
    value = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["metric", "label"]
        constraints = [
            models.UniqueConstraint(fields=["metric", "label"], name="tally_one_per_label"),
        ]

    def __str__(self) -> str:
        return f"{self.metric}{{{self.label}}} = {self.value}"


class TallyDelta(models.Model):
    """A change to a tally, written in the transaction of the event it counts; folded into
    ``Tally`` (and deleted) by ``tally_fold``. Few at any time: the fold runs every few seconds."""

    metric = models.CharField(max_length=60)
    label = models.CharField(max_length=120, blank=True)
    delta = models.IntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.metric}{{{self.label}}} {self.delta:+d}"
