"""What the TM Forum APIs keep of their own: the registered client systems, their idempotency
keys, the task resources the specs define (cancellation requests, qualifications), the hub's
listeners and the log of every notification sent to them.

Orders themselves stay in ``orders``: the API is one more way in, never a second copy.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from orders.models import Order


def new_resource_id() -> str:
    return uuid.uuid4().hex


class Scope(models.TextChoices):
    READ = "read", "Read orders, qualifications, the catalog and the installed base"
    CREATE = "create", "Place orders and ask for qualifications"
    CANCEL = "cancel", "Cancel and delete orders"
    SUBSCRIBE = "subscribe", "Register event listeners"


# A marker that makes leaked tokens easy to scan for (not a secret).
TOKEN_PREFIX = "ota_"  # noqa: S105


def hash_token(token: str) -> str:
    """Tokens are 256-bit random strings, so a plain SHA-256 is enough to keep them useless to
    whoever reads the table (no dictionary to run a slow hash against)."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiClient(models.Model):
    """A registered system (CRM, billing, network inventory) allowed to call the APIs.

    Only the token's hash is stored; the token itself is shown once, when it is made.
    ``user`` is the client's own inactive account, so the audit log and order timelines
    name the system that made a change (``api:<name>``); nobody can sign in with it.
    """

    name = models.SlugField(max_length=60, unique=True)
    scopes = models.JSONField(default=list, help_text="Any of read, create, cancel, subscribe.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(
        max_length=16, editable=False, help_text="The token's first characters, to recognise it."
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "API client"

    def __str__(self) -> str:
        return self.name

    def has_scope(self, scope: str) -> bool:
        return self.is_active and scope in self.scopes

    @staticmethod
    def new_token() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)

    def set_token(self, token: str) -> None:
        self.token_hash = hash_token(token)
        self.token_hint = token[:10]


class IdempotencyRecord(models.Model):
    """An ``Idempotency-Key`` a client sent with a create, the fingerprint of the body it came
    with, and the order it made: the same key and body return that order again; the same key
    with another body is refused."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="tmf_idempotency_client_key")
        ]

    def __str__(self) -> str:
        return f"{self.client}: {self.key}"


class DeletedProductOrder(models.Model):
    """A closed order a client deleted through TMF622. The order and its history stay (nothing
    is lost, staff still see it); the API no longer lists or returns it."""

    order = models.OneToOneField(
        Order, on_delete=models.CASCADE, primary_key=True, related_name="tmf_deletion"
    )
    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="+")
    deleted_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.order_id} deleted by {self.client}"


class TaskState(models.TextChoices):
    """TMF TaskStateType (TMF622 cancelProductOrder, TMF679 qualification)."""

    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "inProgress"
    DONE = "done"
    TERMINATED_WITH_ERROR = "terminatedWithError"


# Named TaskStateType in the served OpenAPI document (drf-spectacular ENUM_NAME_OVERRIDES).
TASK_STATES = TaskState.values


class CancelProductOrder(models.Model):
    """A TMF622 cancellation request for an order."""

    id = models.CharField(primary_key=True, max_length=32, default=new_resource_id)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="tmf_cancellations")
    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="+")
    cancellation_reason = models.TextField()
    requested_cancellation_date = models.DateTimeField(null=True, blank=True)
    effective_cancellation_date = models.DateTimeField(null=True, blank=True)
    state = models.CharField(
        max_length=20, choices=TaskState.choices, default=TaskState.ACKNOWLEDGED
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # A request for a later date: the order's scheduled cancellation it follows (acknowledged
    # until its date, then inProgress, done or terminatedWithError as the schedule settles).
    schedule = models.OneToOneField(
        "orders.ScheduledCancellation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tmf_request",
    )

    class Meta:
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return f"cancel {self.order_id} ({self.state})"


class ProductOfferingQualification(models.Model):
    """A TMF679 qualification: the answer given for a place at a moment, kept as given (the
    catalogue and coverage change; the answer a client acted on does not)."""

    id = models.CharField(primary_key=True, max_length=32, default=new_resource_id)
    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="+")
    postcode = models.CharField(max_length=10, blank=True, help_text="Normalized, no spaces.")
    state = models.CharField(max_length=20, choices=TaskState.choices, default=TaskState.DONE)
    qualification_result = models.CharField(max_length=20, blank=True)
    representation = models.JSONField(default=dict, help_text="The resource as answered.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return f"qualification {self.id} ({self.postcode}: {self.qualification_result})"


class HubApi(models.TextChoices):
    """The APIs whose ``/hub`` a listener registered with."""

    PRODUCT_ORDERING = "productOrderingManagement", "TMF622 Product Ordering"
    QUALIFICATION = "productOfferingQualification", "TMF679 Product Offering Qualification"
    CATALOG = "productCatalogManagement", "TMF620 Product Catalog"
    INVENTORY = "productInventory", "TMF637 Product Inventory"


class HubSubscription(models.Model):
    """A listener registered through an API's ``/hub``: where to send events, which ones
    (``query``), and the secret the deliveries are signed with."""

    id = models.CharField(primary_key=True, max_length=32, default=new_resource_id)
    api = models.CharField(max_length=40, choices=HubApi.choices)
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="subscriptions")
    callback = models.URLField(max_length=500)
    query = models.CharField(max_length=500, blank=True)
    secret = models.CharField(max_length=128, help_text="HMAC-SHA256 key for the signature.")
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="Unregistered; its deliveries stay in the log."
    )

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name = "event listener"

    def __str__(self) -> str:
        return f"{self.client} -> {self.callback}"

    @staticmethod
    def new_secret() -> str:
        return secrets.token_urlsafe(32)


class EventDelivery(models.Model):
    """One event for one listener, from queued to delivered (or given up): the delivery log.

    ``body`` holds the exact bytes sent, so a retry or a replay sends (and signs) the same
    notification the first attempt did.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (gave up)"

    subscription = models.ForeignKey(
        HubSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.CharField(max_length=36, db_index=True)
    event_type = models.CharField(max_length=60)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "event deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="tmf_delivery_due_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event_id"], name="tmf_delivery_once_per_listener"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} -> {self.subscription_id} ({self.status})"


class DeliveryAttempt(models.Model):
    """Each try of a delivery: when, what the listener answered, how long it took."""

    delivery = models.ForeignKey(EventDelivery, on_delete=models.CASCADE, related_name="tries")
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    replay = models.BooleanField(default=False, help_text="Started by a person from the log.")

    class Meta:
        ordering = ["attempted_at", "id"]

    def __str__(self) -> str:
        return f"attempt at {self.attempted_at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"
