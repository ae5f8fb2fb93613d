"""What a business rule answers when it refuses: a message fit to show the person, and the
fields it concerns."""

from __future__ import annotations

from orders.models import Order


class OrderError(Exception):
    """A business rule refused the request; ``message`` is fit to show the person."""

    def __init__(self, message: str, *, field_errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class NotServiceable(OrderError):
    pass


class DuplicateOrder(OrderError):
    def __init__(self, existing: Order, *, line: str = "") -> None:
        if line:  # an order about a live line: one at a time
            message = (
                f"Order {existing.display_id} for {line} is still open "
                f"({existing.get_status_display().lower()}): a line takes one order at a time."
            )
        else:
            message = (
                f"Order {existing.display_id} for this customer, address and plan is already "
                f"open ({existing.get_status_display().lower()})."
            )
        super().__init__(message)
        self.existing = existing


class OrderConflict(OrderError):
    """Somebody else changed the order first; the state stayed valid."""


class CancellationRefused(OrderConflict):
    """The order cannot be cancelled now (a conflict with its state: 409 in the API).
    ``reason_code``: PONR (its plan's point of no return has started), CLOSED (it is live or
    closed already), CANCELLING (it is being cancelled) or SCHEDULED (a cancellation for a
    later date is scheduled already: only one at a time)."""

    PONR = "PONR"
    CLOSED = "CLOSED"
    CANCELLING = "CANCELLING"
    SCHEDULED = "SCHEDULED"

    def __init__(self, message: str, *, reason_code: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
