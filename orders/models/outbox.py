"""The outbox: work for workers, on record until it is done."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from orders.models.order import Order


class OutboxMessage(models.Model):
    """Work for a worker, on record from the transaction that caused it until the work is done
    (DESIGN invariant 3).

    Written in the causing transaction; handed to the broker after commit (or when its
    ``not_before`` comes); marked started when a worker takes it and completed in the
    transaction that does the work. Until ``completed_at`` is set, ``orders.outbox.recovery``
    keeps it alive: a message the broker lost, or whose worker died, is handed over again.
    Tasks are idempotent and run under the row's lock, so a message handed over twice does its
    work once.
    """

    task_name = models.CharField(max_length=120)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.CASCADE, related_name="outbox_messages"
    )
    kwargs = models.JSONField(default=dict)
    key = models.CharField(
        max_length=200,
        blank=True,
        default="",
        help_text="One message per key: work that must happen once per business event.",
    )
    queue = models.CharField(max_length=60, default="celery")
    not_before = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="Last handed to the broker; empty while it waits."
    )
    send_attempts = models.PositiveIntegerField(default=0, help_text="Times handed to the broker.")
    started_at = models.DateTimeField(null=True, blank=True, help_text="Last taken by a worker.")
    attempts = models.PositiveIntegerField(default=0, help_text="Times a worker took it.")
    started_by = models.CharField(
        max_length=200, blank=True, help_text="The worker (node name) that took it last."
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(
        null=True, blank=True, help_text="Given up after OUTBOX_MAX_ATTEMPTS failures."
    )
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # Waiting to be handed to the broker (new, rescheduled, or found lost).
            models.Index(
                fields=["not_before"],
                condition=models.Q(
                    dispatched_at__isnull=True, completed_at__isnull=True, failed_at__isnull=True
                ),
                name="outbox_due_idx",
            ),
            # Handed over, not done yet: what recovery watches.
            models.Index(
                fields=["queue", "dispatched_at"],
                condition=models.Q(
                    dispatched_at__isnull=False, completed_at__isnull=True, failed_at__isnull=True
                ),
                name="outbox_in_flight_idx",
            ),
            models.Index(
                fields=["completed_at"],
                condition=models.Q(completed_at__isnull=False),
                name="outbox_completed_idx",
            ),
            # Given up, for a person to look at (few).
            models.Index(
                fields=["failed_at"],
                condition=models.Q(failed_at__isnull=False),
                name="outbox_failed_idx",
            ),
            # The admin's list, newest first; and what is not done yet (few), newest first.
            models.Index(fields=["created_at", "id"], name="outbox_created_idx"),
            models.Index(
                fields=["created_at", "id"],
                condition=models.Q(completed_at__isnull=True, failed_at__isnull=True),
                name="outbox_open_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=~models.Q(key=""), name="outbox_one_message_per_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} {self.kwargs}"

    @property
    def state(self) -> str:
        if self.completed_at is not None:
            return "completed"
        if self.failed_at is not None:
            return "failed"
        if self.dispatched_at is None:
            return "waiting"
        if self.started_at is not None and self.started_at >= self.dispatched_at:
            return "running"
        return "queued"
