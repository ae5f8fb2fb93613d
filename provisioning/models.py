"""The fulfilment plan of each order (one task row per step of its items' plans, with its
attempts), and the exception queue."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from orders.fulfilment import TaskMode, TaskType
from orders.models import Order, OrderItem


class ReasonCode(models.TextChoices):
    """Why activation failed. Internal: never shown to customers."""

    PORT_UNAVAILABLE = "PORT_UNAVAILABLE", "No free port at the exchange"
    PROFILE_REJECTED = "PROFILE_REJECTED", "Network rejected the subscriber profile"
    SPEED_PROFILE_FAILED = "SPEED_PROFILE_FAILED", "Speed profile could not be applied"
    LINE_TEST_FAILED = "LINE_TEST_FAILED", "Line test failed"
    NETWORK_TIMEOUT = "NETWORK_TIMEOUT", "Network did not answer in time"
    WORKER_LOST = "WORKER_LOST", "Activation worker stopped mid-attempt"
    ADAPTER_ERROR = "ADAPTER_ERROR", "Unexpected error in the network adapter"
    ADDRESS_POOL_EXHAUSTED = "ADDRESS_POOL_EXHAUSTED", "No free static address in the pool"
    ADDRESS_BIND_FAILED = "ADDRESS_BIND_FAILED", "Address could not be bound to the subscriber"
    CPE_REJECTED = "CPE_REJECTED", "Router registration rejected"


class TaskState(models.TextChoices):
    WAITING = "waiting", "Waiting on other tasks"
    READY = "ready", "Ready"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class FulfilmentTask(models.Model):
    """One step of one item's fulfilment plan for one order: the record of its state.

    ``depends_on`` holds the keys of the tasks of the same order it waits for; when the last of
    them is done the scheduler makes it ready in the same transaction (provisioning.scheduler).
    Automatic tasks go to workers through the outbox; manual ones wait in the manual pool for a
    person. A task that is done is never run again.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="tasks")
    item = models.ForeignKey(OrderItem, on_delete=models.CASCADE, related_name="tasks")
    key = models.CharField(max_length=80, help_text="'<item id>.<task type>', unique per order.")
    task_type = models.CharField(max_length=24, choices=TaskType.choices)
    mode = models.CharField(max_length=10, choices=TaskMode.choices, default=TaskMode.AUTOMATIC)
    is_ponr = models.BooleanField("point of no return", default=False)
    depends_on = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=10, choices=TaskState.choices, default=TaskState.WAITING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    state_changed_at = models.DateTimeField(default=timezone.now)
    network_reference = models.CharField(max_length=120, blank=True)
    result = models.JSONField(default=dict, blank=True, help_text="Identifiers it recorded.")
    error_code = models.CharField(max_length=40, choices=ReasonCode.choices, blank=True)
    error_message = models.TextField(blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The person who did a manual task.",
    )
    note = models.TextField(blank=True, help_text="A person's record of what they did.")
    undo = models.BooleanField(
        default=False, help_text="It takes back what its task type does (a cease, a cancel)."
    )
    undoes = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="undone_by",
        help_text="The done task this one undoes (a cancelled order's compensation).",
    )

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "key"], name="one_task_per_key"),
        ]
        indexes = [
            # The manual pool: manual tasks ready for a person, longest waiting first.
            models.Index(
                fields=["ready_at", "id"],
                condition=models.Q(mode="manual", state="ready"),
                name="task_manual_pool_idx",
            ),
            # Tasks running now, oldest first (provisioning's "in progress").
            models.Index(
                fields=["started_at", "id"],
                condition=models.Q(state="running"),
                name="task_running_idx",
            ),
            # The admin's list, newest first (a sort of every task without it).
            models.Index(fields=["created_at", "id"], name="task_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.key} ({self.state})"

    @property
    def is_undo(self) -> bool:
        return self.undo

    @property
    def label(self) -> str:
        """What people read: the task type, or what undoing it means."""
        if self.undo:
            return UNDO_LABELS.get(self.task_type, f"Undo: {self.get_task_type_display()}")
        return self.get_task_type_display()


# What undoing each task means on the network (a cancelled order's compensation).
UNDO_LABELS: dict[str, str] = {
    TaskType.RESERVE_PORT: "Release the port",
    TaskType.CREATE_SUBSCRIBER: "Remove the subscriber",
    TaskType.APPLY_SPEED_PROFILE: "Remove the speed profile",
    TaskType.ACTIVATE_LINE: "Deactivate the line",
    TaskType.ALLOCATE_ADDRESS: "Free the address",
    TaskType.BIND_ADDRESS: "Unbind the address",
    TaskType.REGISTER_CPE: "De-register the router",
    TaskType.SUSPEND_SERVICE: "Lift the bar",
    TaskType.RESUME_SERVICE: "Bar the service again",
}


class TaskAttempt(models.Model):
    """One try at one task: the per-task retry log."""

    class Trigger(models.TextChoices):
        INITIAL = "initial", "First attempt"
        AUTO_RETRY = "auto_retry", "Automatic retry"
        MANUAL_RETRY = "manual_retry", "Retry by a person"

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    task = models.ForeignKey(FulfilmentTask, on_delete=models.CASCADE, related_name="attempt_log")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="task_attempts")
    number = models.PositiveIntegerField(help_text="1, 2, 3... per task.")
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    worker = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    network_reference = models.CharField(max_length=120, blank=True)
    error_code = models.CharField(max_length=40, choices=ReasonCode.choices, blank=True)
    error_message = models.TextField(blank=True)
    transient = models.BooleanField(default=False, help_text="A retry may succeed.")

    class Meta:
        ordering = ["task", "number"]
        constraints = [
            models.UniqueConstraint(fields=["task", "number"], name="one_attempt_per_number"),
        ]
        indexes = [
            # The provisioning worklist's retry log, newest first.
            models.Index(
                fields=["started_at", "id"],
                condition=models.Q(trigger__in=["auto_retry", "manual_retry"]),
                name="attempt_retry_log_idx",
            ),
            models.Index(fields=["order", "started_at"], name="attempt_order_idx"),
            # The KPI refresh reads the attempts that finished on a day (kpis.refresh).
            models.Index(fields=["finished_at"], name="attempt_finished_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.task} attempt {self.number} ({self.outcome})"


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
        ITEM_CANCELLED = "item_cancelled", "Item cancelled: the order goes on without it"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="exception_cases")
    reason_code = models.CharField(max_length=40, choices=ReasonCode.choices)
    reason_detail = models.TextField(blank=True)
    task = models.ForeignKey(
        FulfilmentTask,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="exception_cases",
        help_text="The task whose failure opened (or last re-opened) the case.",
    )
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


class SimulatedNetworkRecord(models.Model):
    """What the network simulator holds (provisioning.adapters.simulator): one row per task it
    carried out, kept until the task is undone. The simulator's own state, as a real network's
    would be, so that a cancelled order can be seen to leave nothing behind. The network knows
    an order by its ID only: no foreign key."""

    order_ref = models.CharField(max_length=20)
    item_ref = models.CharField(max_length=40)
    task_type = models.CharField(max_length=24, choices=TaskType.choices)
    reference = models.CharField(max_length=120)
    identifiers = models.JSONField(default=dict, blank=True)
    done_at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order_ref", "item_ref", "task_type"], name="simulated_once_per_task"
            ),
        ]

    def __str__(self) -> str:
        state = "undone" if self.undone_at else "held"
        return f"{self.order_ref} {self.item_ref}.{self.task_type} ({state})"
