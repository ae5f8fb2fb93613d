"""The outbox's history in the bench-scale dataset: the messages the generated orders would
have left (fulfilment, an activation attempt, billing start, an invitation, all completed; the
fulfilment of submitted orders still in flight), written by one INSERT ... SELECT. Added once
to a dataset, generated or reused, that has none."""

from __future__ import annotations

import time

MARKER = "bench@history"
TASKS = (
    "provisioning.fulfil_order",
    "provisioning.activation_attempt",
    "billing.start_billing",
    "portal.send_customer_invitation",
)


def outbox_history_ensure() -> int:
    """Write the history unless it is there; returns how many messages were written."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM orders_outboxmessage WHERE started_by = %s LIMIT 1", [MARKER])
        if cur.fetchone() is not None:
            return 0
        started = time.monotonic()
        cur.execute(
            "INSERT INTO orders_outboxmessage (task_name, order_id, kwargs, key, queue, "
            "not_before, created_at, dispatched_at, send_attempts, started_at, attempts, "
            "started_by, completed_at, failed_at, last_error) "
            "SELECT t.task, o.id, jsonb_build_object('order_id', o.id), '', 'celery', "
            "o.submitted_at, o.submitted_at, o.submitted_at, 1, "
            "CASE WHEN o.status = 'submitted' THEN NULL ELSE o.submitted_at END, "
            "CASE WHEN o.status = 'submitted' THEN 0 ELSE 1 END, %s, "
            "CASE WHEN o.status = 'submitted' THEN NULL "
            "ELSE o.submitted_at + interval '1 minute' END, NULL, '' "
            "FROM orders_order o CROSS JOIN (VALUES (%s), (%s), (%s), (%s)) AS t(task) "
            "WHERE t.task = 'provisioning.fulfil_order' OR o.status <> 'submitted'",
            [MARKER, *TASKS],
        )
        written = cur.rowcount
        cur.execute("ANALYZE orders_outboxmessage")
    print(f"  {written:,} outbox messages ({time.monotonic() - started:.0f} s)", flush=True)
    return written
