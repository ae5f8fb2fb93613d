"""The transactional outbox: the record of work handed to workers (DESIGN invariant 3).

- ``outbox_enqueue`` writes a message in the causing transaction; it is handed to the broker
  after that transaction commits (``dispatch``), or when its ``not_before`` comes.
- Tasks declared with ``outbox_task`` (``work``) mark their message started when a worker
  takes it and completed in the transaction that does the work; a failure reschedules it with
  backoff, through the database, never by trusting the broker to keep a retry.
- ``recovery`` is the one generic recovery: it tells messages waiting in a queue from messages
  lost (a broker that forgot its queue, a worker killed while holding one) and hands the lost
  ones over again. Tasks are idempotent and run under their message's lock, so a message handed
  over twice does its work once.
"""

from orders.outbox.dispatch import (
    BROKER_ERRORS,
    outbox_dispatch,
    outbox_dispatch_due,
    outbox_enqueue,
    outbox_enqueue_many,
    outbox_queue_for,
)
from orders.outbox.work import (
    DATABASE_ERRORS,
    RetryLater,
    current_message_id,
    outbox_task,
    outbox_task_names,
)

__all__ = [
    "BROKER_ERRORS",
    "DATABASE_ERRORS",
    "RetryLater",
    "current_message_id",
    "outbox_dispatch",
    "outbox_dispatch_due",
    "outbox_enqueue",
    "outbox_enqueue_many",
    "outbox_queue_for",
    "outbox_task",
    "outbox_task_names",
]
