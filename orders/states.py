"""Order lifecycle states, and how each audience names them (DESIGN.md, 'The lifecycle')."""

from django.db import models


class OrderStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    REJECTED = "rejected", "Rejected"
    SCHEDULED = "scheduled", "Scheduled"
    AWAITING_MANUAL = "awaiting_manual", "Awaiting manual provisioning"
    PROVISIONING = "provisioning", "Provisioning"
    EXCEPTION = "exception", "Exception"
    ACTIVATED = "activated", "Activated"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


# TMF622 ProductOrderStateType for each internal state.
TMF_STATE = {
    OrderStatus.SUBMITTED: "acknowledged",
    OrderStatus.REJECTED: "rejected",
    OrderStatus.SCHEDULED: "pending",
    OrderStatus.AWAITING_MANUAL: "inProgress",
    OrderStatus.PROVISIONING: "inProgress",
    OrderStatus.EXCEPTION: "held",
    OrderStatus.ACTIVATED: "inProgress",
    OrderStatus.COMPLETED: "completed",
    OrderStatus.CANCELLED: "cancelled",
}

# What the customer reads. Never an internal reason code.
CUSTOMER_LABEL = {
    OrderStatus.SUBMITTED: "Order received",
    OrderStatus.REJECTED: "We can't serve this address yet",
    OrderStatus.SCHEDULED: "Scheduled",
    OrderStatus.AWAITING_MANUAL: "Being set up by our team",
    OrderStatus.PROVISIONING: "Activating your service",
    OrderStatus.EXCEPTION: "Delayed: our team is on it",
    OrderStatus.ACTIVATED: "Your service is live",
    OrderStatus.COMPLETED: "Active",
    OrderStatus.CANCELLED: "Cancelled",
}

OPEN_STATES = frozenset(
    {
        OrderStatus.SUBMITTED,
        OrderStatus.SCHEDULED,
        OrderStatus.AWAITING_MANUAL,
        OrderStatus.PROVISIONING,
        OrderStatus.EXCEPTION,
        OrderStatus.ACTIVATED,
    }
)
FINAL_STATES = frozenset({OrderStatus.REJECTED, OrderStatus.COMPLETED, OrderStatus.CANCELLED})
# Until activation starts an order may still be cancelled (its point of no return).
CANCELLABLE_STATES = (
    OrderStatus.SUBMITTED,
    OrderStatus.SCHEDULED,
    OrderStatus.AWAITING_MANUAL,
    OrderStatus.EXCEPTION,
)


class EventSource(models.TextChoices):
    """The system component that caused a status event."""

    SALES_PORTAL = "sales_portal", "Sales portal"
    CUSTOMER_PORTAL = "customer_portal", "Customer portal"
    SUPPORT_PORTAL = "support_portal", "Support portal"
    STAFF_PORTAL = "staff_portal", "Staff worklists"
    ADMIN = "admin", "Back office (admin)"
    API = "api", "Open API"
    PROVISIONING = "provisioning", "Provisioning worker"
    BILLING = "billing", "Billing"
    SCHEDULER = "scheduler", "Scheduler"
