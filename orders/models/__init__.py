"""The shared core's models: the catalogue, customers, orders and their items, status history,
and the outbox."""

from orders.models.cancellations import ScheduledCancellation, ScheduledCancellationState
from orders.models.catalog import (
    LifecycleStatus,
    Plan,
    ProductKind,
    ProductSpecification,
    ServiceArea,
    Technology,
    normalize_postcode,
    postcode_looks_valid,
)
from orders.models.cycle_times import CycleTimeEstimate, EstimateLevel
from orders.models.duplicates import DuplicateEntry, DuplicateKind
from orders.models.jeopardy import Escalation, Jeopardy
from orders.models.milestones import MilestoneTarget, OrderMilestone
from orders.models.order import (
    FORCED_MOVES,
    FORCED_TARGETS,
    Customer,
    Order,
    OrderEvent,
    OrderGroup,
    OrderItem,
)
from orders.models.outbox import OutboxMessage

__all__ = [
    "FORCED_MOVES",
    "FORCED_TARGETS",
    "Customer",
    "CycleTimeEstimate",
    "DuplicateEntry",
    "DuplicateKind",
    "Escalation",
    "EstimateLevel",
    "Jeopardy",
    "LifecycleStatus",
    "MilestoneTarget",
    "Order",
    "OrderEvent",
    "OrderGroup",
    "OrderItem",
    "OrderMilestone",
    "OutboxMessage",
    "Plan",
    "ProductKind",
    "ProductSpecification",
    "ScheduledCancellation",
    "ScheduledCancellationState",
    "ServiceArea",
    "Technology",
    "normalize_postcode",
    "postcode_looks_valid",
]
