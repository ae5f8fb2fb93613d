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
# A new customer was taken on with their first order (inside that order's transaction);
# kwargs: customer, order.
customer_registered = Signal()
# A privileged person overrode the order's status (orders.overrides: forced status, re-run
# activation); kwargs: order, event (its status event: from/to status, actor, reason). Receivers
# bring their own records in line in the same transaction: provisioning queues an attempt for an
# order moved into 'provisioning' and closes the exception case of an order moved out of
# 'exception'.
order_overridden = Signal()
# An order's items were amended before its point of no return (orders.amendments); kwargs:
# order, added (new items), removed (items taken off), plan_changed (the line's plan), actor.
# Provisioning re-plans in the same transaction; a receiver raising refuses the amendment.
order_items_amended = Signal()
# A worker started under a node name a previous, now dead, worker had (it was killed); kwargs:
# worker (the node name), booted_at. Sent before the outbox sends again what that worker had
# started: work recorded as running under that name before booted_at has no worker left on it.
worker_restarted = Signal()
# Milestones of an order were met (orders.milestones); kwargs: order, milestones (the
# OrderMilestone rows, as met).
milestones_met = Signal()
# A jeopardy was raised, escalated to a higher level or cleared (orders.jeopardy); kwargs:
# order, jeopardy, action ("raised", "escalated", "cleared").
jeopardy_changed = Signal()
# A cancellation scheduled for a later date was carried out, refused on its date, or withdrawn
# (orders.scheduled_cancellations); kwargs: schedule (its state and outcome say which), order.
# Sent in that transaction: the TMF622 cancelProductOrder that asked for it follows.
scheduled_cancellation_settled = Signal()
# A jeopardy first reached "late" (orders.jeopardy): the order is now expected by
# jeopardy.expected_at; kwargs: order, jeopardy. The customer is told (notices).
order_delayed = Signal()
# A task run through the outbox failed and was rescheduled, or given up (orders.outbox.work);
# kwargs: task_name, order_id (or None), given_up, error. Sent in the transaction that records
# the failure (observability counts failures by task: a failed e-mail, say).
outbox_task_failed = Signal()
