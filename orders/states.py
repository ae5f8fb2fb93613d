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
    PARTIAL = "partial", "Partly completed"
    CANCELLING = "cancelling", "Cancelling"
    CANCELLED = "cancelled", "Cancelled"


class ItemAction(models.TextChoices):
    """What an order item does to its product (TMF622 ItemActionType). Orders add products;
    ``noChange`` names a live product the order's add-ons go on (the customer's line, already
    in the installed base); modify and delete come with changes to live services."""

    ADD = "add", "Add"
    NO_CHANGE = "noChange", "No change (live)"
    MODIFY = "modify", "Modify"
    DELETE = "delete", "Cease"


class ItemChange(models.TextChoices):
    """What a ``modify`` item changes on its live product; each has its plan in the product's
    specification (ProductSpecification.change_plans)."""

    PLAN = "modify", "Plan change"
    SUSPEND = "suspend", "Suspension"
    RESUME = "resume", "Resumption"


class ItemState(models.TextChoices):
    """An order item's own state, moved by its fulfilment tasks."""

    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    HELD = "held", "Held (a task failed)"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    REJECTED = "rejected", "Rejected"
    # Taken off the order by an amendment: neither delivered nor owed (not a partial order).
    REMOVED = "removed", "Removed (order amended)"


# TMF622 ProductOrderItemStateType for each item state.
TMF_ITEM_STATE = {
    ItemState.PENDING: "acknowledged",
    ItemState.IN_PROGRESS: "inProgress",
    ItemState.HELD: "held",
    ItemState.COMPLETED: "completed",
    ItemState.CANCELLED: "cancelled",
    ItemState.REJECTED: "rejected",
    ItemState.REMOVED: "cancelled",
}

# What the customer reads about an item, after its label ("Static IP: being set up").
CUSTOMER_ITEM_LABEL = {
    ItemState.PENDING: "ordered",
    ItemState.IN_PROGRESS: "being set up",
    ItemState.HELD: "delayed, our team is on it",
    ItemState.COMPLETED: "ready",
    ItemState.CANCELLED: "cancelled",
    ItemState.REJECTED: "not available",
    ItemState.REMOVED: "taken off the order",
}
ITEM_CLOSED_STATES = frozenset(
    {ItemState.COMPLETED, ItemState.CANCELLED, ItemState.REJECTED, ItemState.REMOVED}
)


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
    OrderStatus.PARTIAL: "partial",
    OrderStatus.CANCELLING: "pendingCancellation",
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
    OrderStatus.PARTIAL: "Active (part of the order could not be delivered)",
    OrderStatus.CANCELLING: "Being cancelled",
    OrderStatus.CANCELLED: "Cancelled",
}

# The orders a new one for the same customer, address and plan would duplicate. Not an order
# being cancelled: it is on its way out, and the customer may order again meanwhile.
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
FINAL_STATES = frozenset(
    {OrderStatus.REJECTED, OrderStatus.COMPLETED, OrderStatus.PARTIAL, OrderStatus.CANCELLED}
)
# The states an order may be cancelled in. In provisioning only until its plan's point of no
# return starts (orders.cancellation); a pending, scheduled, manual or failed order always.
CANCELLABLE_STATES = (
    OrderStatus.SUBMITTED,
    OrderStatus.SCHEDULED,
    OrderStatus.AWAITING_MANUAL,
    OrderStatus.PROVISIONING,
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
    # Orders brought in from the legacy system (imports.import_orders), history as it was there.
    MIGRATION = "migration", "Legacy migration"


# An item that changes a live product, in customer words, by its state.
CHANGE_ITEM_LABEL = {
    ItemState.PENDING: "ordered",
    ItemState.IN_PROGRESS: "under way",
    ItemState.HELD: "delayed, our team is on it",
    ItemState.COMPLETED: "done",
    ItemState.CANCELLED: "cancelled",
    ItemState.REJECTED: "not possible",
}


def change_title(
    action: str, change: str, offering_name: str, *, add_on: bool = False, customer: bool = True
) -> str:
    """What an order item about a live product does, as a title: "Speed change to Fibre
    900", "Cease of your Fibre 500 line" (staff: "Cease of the Fibre 500 line"); '' for an
    item that adds a product or names the line unchanged."""
    whose = "your" if customer else "the"
    if action == ItemAction.MODIFY:
        if change == ItemChange.PLAN:
            return f"Speed change to {offering_name}"
        if change == ItemChange.SUSPEND:
            return f"Suspension of {whose} {offering_name} line"
        if change == ItemChange.RESUME:
            return f"Resumption of {whose} {offering_name} line"
    if action == ItemAction.DELETE:
        if add_on:
            return f"Removal of {whose} {offering_name}"
        return f"Cease of {whose} {offering_name} line"
    return ""
