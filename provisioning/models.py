"""Provisioning jobs (one row per activation attempt, with its steps) and the exception queue."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from orders.models import Order


class StepName(models.TextChoices):
    """The activation plan, in order; each step depends on the one before."""

    RESERVE_PORT = "reserve_port", "Reserve access port"
    SUBSCRIBER_PROFILE = "subscriber_profile", "Create subscriber profile"
    SPEED_PROFILE = "speed_profile", "Apply speed profile"
    ACTIVATE_LINE = "activate_line", "Activate line"


ACTIVATION_PLAN: tuple[StepName, ...] = (
    StepName.RESERVE_PORT,
    StepName.SUBSCRIBER_PROFILE,
    StepName.SPEED_PROFILE,
    StepName.ACTIVATE_LINE,
)


class ReasonCode(models.TextChoices):
    """Why activation failed. Internal: never shown to customers."""

    PORT_UNAVAILABLE = "PORT_UNAVAILABLE", "No free port at the exchange"
    PROFILE_REJECTED = "PROFILE_REJECTED", "Network rejected the subscriber profile"
    SPEED_PROFILE_FAILED = "SPEED_PROFILE_FAILED", "Speed profile could not be applied"
    LINE_TEST_FAILED = "LINE_TEST_FAILED", "Line test failed"
    NETWORK_TIMEOUT = "NETWORK_TIMEOUT", "Network did not answer in time"
    WORKER_LOST = "WORKER_LOST", "Activation worker stopped mid-attempt"
    ADAPTER_ERROR = "ADAPTER_ERROR", "Unexpected error in the network adapter"


class ProvisioningJob(models.Model):
    """One attempt to activate an order: it runs the plan's steps not yet done."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        INITIAL = "initial", "First attempt"
        AUTO_RETRY = "auto_retry", "Automatic retry"
        MANUAL_RETRY = "manual_retry", "Retry by a person"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="provisioning_jobs")
    attempt = models.PositiveIntegerField(help_text="1, 2, 3... per order.")
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    error_code = models.CharField(max_length=40, choices=ReasonCode.choices, blank=True)
    error_message = models.TextField(blank=True)
    transient = models.BooleanField(default=False, help_text="A retry may succeed.")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["order", "attempt"], name="one_job_per_attempt"),
        ]
        indexes = [
            models.Index(fields=["status", "started_at"]),
            # The admin's list, newest first.
            models.Index(fields=["created_at", "id"], name="job_created_idx"),
            # The provisioning worklist's retry log, newest first.
            models.Index(
                fields=["created_at", "id"],
                condition=models.Q(trigger__in=["auto_retry", "manual_retry"]),
                name="job_retry_log_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} attempt {self.attempt} ({self.status})"

    @property
    def activated_at(self):  # type: ignore[no-untyped-def]
        return self.finished_at if self.status == self.Status.SUCCEEDED else None


class ProvisioningStep(models.Model):
    """One step of one attempt. A step that succeeded is never run again for that order."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Already done"

    job = models.ForeignKey(ProvisioningJob, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=24, choices=StepName.choices)
    status = models.CharField(max_length=12, choices=Status.choices)
    network_reference = models.CharField(max_length=80, blank=True)
    error_code = models.CharField(max_length=40, choices=ReasonCode.choices, blank=True)
    error_message = models.TextField(blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()

    class Meta:
        ordering = ["job", "started_at", "id"]

    def __str__(self) -> str:
        return f"{self.job} {self.name}: {self.status}"


class ExceptionCase(models.Model):
    """A failed activation needing people (the manual-intervention pool, DESIGN invariant 5).

    At most one case per order is open or retrying at any time.
    """

    class State(models.TextChoices):
        OPEN = "open", "Open"
        RETRYING = "retrying", "Retry in progress"
        RESOLVED = "resolved", "Resolved"

    class Resolution(models.TextChoices):
        RETRY_SUCCEEDED = "retry_succeeded", "Retry succeeded"
        OVERRIDE_ACTIVATED = "override_activated", "Override: activated by hand"
        OVERRIDE_CANCELLED = "override_cancelled", "Override: order cancelled"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="exception_cases")
    reason_code = models.CharField(max_length=40, choices=ReasonCode.choices)
    reason_detail = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="owned_exception_cases",
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    failure_count = models.PositiveIntegerField(default=1)
    opened_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolution = models.CharField(max_length=24, choices=Resolution.choices, blank=True)
    resolution_note = models.TextField(blank=True)

    class Meta:
        ordering = ["opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(state__in=["open", "retrying"]),
                name="one_active_exception_case_per_order",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "opened_at"]),
            # The exception queue (open and retrying cases, oldest first), whole or per owner.
            models.Index(
                fields=["opened_at", "id"],
                condition=models.Q(state__in=["open", "retrying"]),
                name="case_active_queue_idx",
            ),
            models.Index(
                fields=["owner", "opened_at", "id"],
                condition=models.Q(state__in=["open", "retrying"]),
                name="case_active_owner_idx",
            ),
        ]
        permissions = [
            ("work_exceptioncase", "Can assign, retry and resolve exception cases"),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk} for {self.order_id}: {self.reason_code}"

    @property
    def is_active(self) -> bool:
        return self.state in (self.State.OPEN, self.State.RETRYING)
