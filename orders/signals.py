"""Business events other areas react to. Sent inside the transaction that caused them:
receivers may only write rows in that transaction (typically an outbox message), never call out.
"""

from django.dispatch import Signal

# Every status change; kwargs: order, event.
order_status_changed = Signal()
# The order should now be activated (submitted without a future date, or its date came);
# kwargs: order.
order_due_for_activation = Signal()
# The line is live (automatically or confirmed by a person); kwargs: order, event.
order_activated = Signal()
